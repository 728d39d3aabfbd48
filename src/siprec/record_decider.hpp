#pragma once

#include <functional>
#include <string>

#include "base/event_loop.hpp"
#include "siprec/domain_policy.hpp"

namespace siprecd::siprec {

/// What the application is told when asked whether to record (the `newCall` decision).
struct CallOffer {
  std::string recording_id;
  const DomainPolicy* domain = nullptr;
  std::string call_id, from, to, request_uri, source;
  std::string metadata_json;  ///< RFC 7865 metadata as JSON, "{}" when none was offered
  std::string streams_json;   ///< offered streams (label, codec) as JSON
};

enum class RecordDecision { Record, Decline };

/// The decision point "record this call?" (DESIGN.md §2 newCall). The answer may come
/// asynchronously — the INVITE waits, 100 Trying already sent — and is delivered on the SIP
/// thread. `decide` is called on the SIP thread.
class RecordDecider {
 public:
  virtual ~RecordDecider() = default;
  /// Starts a decision. `on_decision` runs exactly once on the SIP loop, unless the returned
  /// handle is destroyed first (the call was cancelled), after which it never runs.
  [[nodiscard]] virtual std::unique_ptr<Timer> decide(
      const CallOffer& offer, std::function<void(RecordDecision)> on_decision) = 0;
};

/// Records every call (no callback configured). Honours DomainPolicy::decision_delay.
class DefaultRecordDecider final : public RecordDecider {
 public:
  explicit DefaultRecordDecider(EventLoop& loop) : loop_(loop) {}
  std::unique_ptr<Timer> decide(const CallOffer& offer,
                                std::function<void(RecordDecision)> on_decision) override {
    auto delay =
        offer.domain != nullptr ? offer.domain->decision_delay : std::chrono::milliseconds(0);
    return loop_.schedule(delay, [cb = std::move(on_decision)] { cb(RecordDecision::Record); });
  }

 private:
  EventLoop& loop_;
};

}  // namespace siprecd::siprec
