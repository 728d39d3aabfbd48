#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/event_loop.hpp"
#include "control/event_outbox.hpp"
#include "control/webhook_client.hpp"
#include "siprec/record_decider.hpp"

namespace siprecd::app {

/// The synchronous `newCall` callback (DESIGN.md §2 "Callbacks and events"): POSTs the
/// offer to {callbackBase}/newCall (signed like every event) and decides from the answer:
/// {"recordCall": true} records, {"recordCall": false} declines (SIP 603). No answer within
/// the domain's callback_timeout, a transport error, a non-2xx status or a body without a
/// boolean recordCall applies the domain's default_record. A domain without callback_base
/// (or unknown to `domains`) records, after DomainPolicy::decision_delay like
/// DefaultRecordDecider.
///
/// The HTTP call runs on the WebhookClient's thread; the SIP thread never waits for it.
class CallbackRecordDecider final : public siprec::RecordDecider {
 public:
  /// `loop` is the SIP loop: decide() is called there and decisions are delivered there.
  /// Borrows `loop` and `client`; the client must be destroyed before the loop (a late
  /// answer posts to the loop).
  CallbackRecordDecider(EventLoop& loop, control::WebhookClient& client,
                        control::DomainLookup domains);

  /// See RecordDecider::decide. Destroying the returned handle (SIP CANCEL) aborts the
  /// request; `on_decision` then never runs.
  [[nodiscard]] std::unique_ptr<Timer> decide(
      const siprec::CallOffer& offer,
      std::function<void(siprec::RecordDecision)> on_decision) override;

  /// The newCall body: the event envelope (method NEWCALL, eventId, timestamp, domain,
  /// recordingId; no replyId) plus callId, from, to, requestUri, source, participants
  /// (from the metadata) and streams (the offered streams from streams_json, or the
  /// metadata's streams when that is empty).
  static std::string newCallBody(const siprec::CallOffer& offer, std::string_view domain,
                                 std::string_view event_id, int64_t now_ms);

 private:
  EventLoop& loop_;
  control::WebhookClient& client_;
  control::DomainLookup domains_;
};

}  // namespace siprecd::app
