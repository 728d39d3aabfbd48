#include "app/callback_record_decider.hpp"

#include <optional>
#include <utility>

#include <nlohmann/json.hpp>

#include "base/log.hpp"
#include "base/metrics.hpp"
#include "base/random.hpp"
#include "control/callback_signature.hpp"

namespace siprecd::app {
namespace {

constexpr std::string_view kComponent = "events";

using siprec::RecordDecision;

Counter& outcomeCounter(std::string_view outcome) {
  return metrics().counter("siprecd_events_newcall_total",
                           "newCall callbacks by outcome (record, decline, default).",
                           {{"outcome", std::string(outcome)}});
}

/// The application's answer, or an explanation of why the default applies.
struct Answer {
  std::optional<RecordDecision> decision;
  std::string problem;
};

Answer interpret(const Result<control::WebhookResponse>& result) {
  if (!result) {
    return {std::nullopt, result.error().message};
  }
  if (!result->isSuccess()) {
    return {std::nullopt, "HTTP " + std::to_string(result->status)};
  }
  const auto body = nlohmann::json::parse(result->body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) {
    return {std::nullopt, "the answer is not a JSON object"};
  }
  const auto record = body.find("recordCall");
  if (record == body.end() || !record->is_boolean()) {
    return {std::nullopt, "the answer has no boolean recordCall"};
  }
  return {record->get<bool>() ? RecordDecision::Record : RecordDecision::Decline, ""};
}

nlohmann::json parseOr(const std::string& text, nlohmann::json fallback) {
  auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return json.is_discarded() ? fallback : json;
}

/// One decision in progress; lives on the SIP thread.
struct PendingDecision {
  std::function<void(RecordDecision)> on_decision;
  std::unique_ptr<Timer> deadline;
  control::WebhookClient* client = nullptr;
  control::WebhookClient::RequestId request = 0;
  bool default_record = true;
  std::string recording_id;
  bool done = false;

  void resolve(std::optional<RecordDecision> decision, std::string_view problem) {
    if (done) {
      return;
    }
    done = true;
    const RecordDecision chosen =
        decision.value_or(default_record ? RecordDecision::Record : RecordDecision::Decline);
    if (decision) {
      outcomeCounter(chosen == RecordDecision::Record ? "record" : "decline").inc();
      log::info(kComponent, "newCall for {}: the application says {}", recording_id,
                chosen == RecordDecision::Record ? "record" : "decline");
    } else {
      outcomeCounter("default").inc();
      log::warn(kComponent, "newCall for {}: {}; default applies ({})", recording_id, problem,
                chosen == RecordDecision::Record ? "record" : "decline");
      client->cancel(request);
    }
    if (deadline) {
      deadline->cancel();
    }
    auto callback = std::move(on_decision);
    on_decision = nullptr;
    callback(chosen);
  }

  void cancel() {
    if (done) {
      return;
    }
    done = true;
    on_decision = nullptr;
    if (deadline) {
      deadline->cancel();
    }
    client->cancel(request);
  }
};

/// The handle returned by decide(): destroying or cancelling it abandons the decision.
class DecisionHandle final : public Timer {
 public:
  explicit DecisionHandle(std::shared_ptr<PendingDecision> pending)
      : pending_(std::move(pending)) {}
  ~DecisionHandle() override { cancel(); }
  DecisionHandle(const DecisionHandle&) = delete;
  DecisionHandle& operator=(const DecisionHandle&) = delete;
  void cancel() override {
    if (pending_) {
      pending_->cancel();
    }
  }

 private:
  std::shared_ptr<PendingDecision> pending_;
};

}  // namespace

CallbackRecordDecider::CallbackRecordDecider(EventLoop& loop, control::WebhookClient& client,
                                             control::DomainLookup domains)
    : loop_(loop), client_(client), domains_(std::move(domains)) {}

std::string CallbackRecordDecider::newCallBody(const siprec::CallOffer& offer,
                                               std::string_view domain, std::string_view event_id,
                                               int64_t now_ms) {
  const nlohmann::json metadata = parseOr(offer.metadata_json, nlohmann::json::object());
  nlohmann::json participants = nlohmann::json::array();
  nlohmann::json streams = parseOr(offer.streams_json, nlohmann::json::array());
  if (metadata.is_object()) {
    if (const auto it = metadata.find("participants"); it != metadata.end() && it->is_array()) {
      participants = *it;
    }
    if (!streams.is_array() || streams.empty()) {
      const auto it = metadata.find("streams");
      streams = it != metadata.end() && it->is_array() ? *it : nlohmann::json::array();
    }
  }
  if (!streams.is_array()) {
    streams = nlohmann::json::array();
  }
  const nlohmann::json data = {{"callId", offer.call_id},
                               {"from", offer.from},
                               {"to", offer.to},
                               {"requestUri", offer.request_uri},
                               {"source", offer.source},
                               {"participants", std::move(participants)},
                               {"streams", std::move(streams)}};
  return control::EventOutbox::buildBody(control::EventType::NewCall, event_id, now_ms, domain,
                                         offer.recording_id, "", data);
}

std::unique_ptr<Timer> CallbackRecordDecider::decide(
    const siprec::CallOffer& offer, std::function<void(RecordDecision)> on_decision) {
  const std::string domain_name = offer.domain != nullptr ? offer.domain->name : std::string();
  const auto settings = domains_ ? domains_(domain_name) : nullptr;
  if (!settings || settings->callback_base.empty()) {
    const auto delay =
        offer.domain != nullptr ? offer.domain->decision_delay : std::chrono::milliseconds(0);
    return loop_.schedule(delay, [cb = std::move(on_decision)] { cb(RecordDecision::Record); });
  }

  const int64_t now_ms = loop_.clock().epochMs();
  control::WebhookRequest request;
  std::string base = settings->callback_base;
  while (!base.empty() && base.back() == '/') {
    base.pop_back();
  }
  request.url = base + "/" + std::string(control::callbackName(control::EventType::NewCall));
  const std::string event_id = randomUuid();
  request.body = newCallBody(offer, domain_name, event_id, now_ms);
  request.timeout = settings->callback_timeout;
  request.headers.emplace_back("X-Siprecd-Event",
                               std::string(control::methodName(control::EventType::NewCall)));
  request.headers.emplace_back("X-Siprecd-Event-Id", event_id);
  if (!settings->callback_secret.empty()) {
    request.headers.emplace_back(
        std::string(control::kSignatureHeader),
        control::signCallback(settings->callback_secret, now_ms / 1000, request.body));
  }

  auto pending = std::make_shared<PendingDecision>();
  pending->on_decision = std::move(on_decision);
  pending->client = &client_;
  pending->default_record = settings->default_record;
  pending->recording_id = offer.recording_id;
  const std::weak_ptr<PendingDecision> weak = pending;
  pending->deadline = loop_.schedule(settings->callback_timeout, [weak] {
    if (auto target = weak.lock()) {
      target->resolve(std::nullopt, "no answer within the callback timeout");
    }
  });
  EventLoop* loop = &loop_;
  pending->request =
      client_.post(std::move(request), [weak, loop](Result<control::WebhookResponse> result) {
        Answer answer = interpret(result);
        loop->post([weak, answer = std::move(answer)] {
          if (auto target = weak.lock()) {
            target->resolve(answer.decision, answer.problem);
          }
        });
      });
  return std::make_unique<DecisionHandle>(std::move(pending));
}

}  // namespace siprecd::app
