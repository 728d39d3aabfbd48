#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/clock.hpp"
#include "control/domain_settings.hpp"
#include "control/event_sink.hpp"
#include "control/reply_token.hpp"
#include "db/repository.hpp"

namespace siprecd::control {

/// The settings of a domain by name, or null when unknown. Must be thread-safe (called
/// on the SIP, worker and dispatcher threads).
using DomainLookup = std::function<std::shared_ptr<const DomainSettings>(std::string_view domain)>;

/// A DomainLookup over a fixed directory (the directory is shared, never copied).
DomainLookup lookupIn(std::shared_ptr<const DomainDirectory> domains);

/// Outbox status of an event that has nowhere to go (its domain has no callback_base, or
/// is unknown): kept for the read API, never delivered, not counted as pending.
inline constexpr std::string_view kEventSkipped = "skipped";

/// The durable outbox (DESIGN.md §2 "Callbacks and events"): emit() builds the event's
/// body and queues its insertion into the repository, after every write queued before it.
/// EventDispatcher delivers what it finds there.
///
/// Body: {"method", "eventId" (UUID), "timestamp" (epoch ms), "domain", "recordingId",
/// "replyId" (every event but NEWCALL: a ReplyTokens token valid for the domain's retention
/// + 24 h), then the data's fields}. Envelope keys win over data fields of the same name.
/// An event of a domain without callback_base (or of an unknown domain) is stored with
/// status "skipped" so the read API still lists it.
class EventOutbox final : public EventSink {
 public:
  /// Borrows `repository`, `tokens` and `clock` (they must outlive the outbox).
  /// `on_persisted` (optional) runs on the repository's writer thread once an emitted event
  /// is committed: wire EventDispatcher::waker() here so delivery starts at once.
  EventOutbox(db::Repository& repository, const ReplyTokens& tokens, DomainLookup domains,
              const Clock& clock, std::function<void()> on_persisted = {});

  /// Thread-safe; never blocks (one HMAC and a queued write).
  void emit(EventType type, std::string domain, std::string recording_id,
            nlohmann::json data) override;

  /// The body emit() stores, built at `now_ms` with `event_id`; exposed for the
  /// newCall callback and tests. `reply_id` "" leaves the key out.
  static std::string buildBody(EventType type, std::string_view event_id, int64_t now_ms,
                               std::string_view domain, std::string_view recording_id,
                               std::string_view reply_id, const nlohmann::json& data);

  /// How long a replyId stays valid for a domain: its retention plus 24 hours.
  static std::chrono::seconds replyLifetime(const DomainSettings* domain);

 private:
  db::Repository& repository_;
  const ReplyTokens& tokens_;
  DomainLookup domains_;
  const Clock& clock_;
  std::function<void()> on_persisted_;
};

}  // namespace siprecd::control
