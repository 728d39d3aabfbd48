#include "control/event_outbox.hpp"

#include <utility>

#include "base/log.hpp"
#include "base/metrics.hpp"
#include "base/random.hpp"

namespace siprecd::control {
namespace {

constexpr std::string_view kComponent = "events";

Counter& emittedCounter() {
  static Counter& counter =
      metrics().counter("siprecd_events_emitted_total", "Events written to the outbox.");
  return counter;
}

}  // namespace

DomainLookup lookupIn(std::shared_ptr<const DomainDirectory> domains) {
  return [domains =
              std::move(domains)](std::string_view name) -> std::shared_ptr<const DomainSettings> {
    if (!domains) {
      return nullptr;
    }
    const auto it = domains->find(std::string(name));
    return it == domains->end() ? nullptr : it->second;
  };
}

EventOutbox::EventOutbox(db::Repository& repository, const ReplyTokens& tokens,
                         DomainLookup domains, const Clock& clock,
                         std::function<void()> on_persisted)
    : repository_(repository),
      tokens_(tokens),
      domains_(std::move(domains)),
      clock_(clock),
      on_persisted_(std::move(on_persisted)) {}

std::chrono::seconds EventOutbox::replyLifetime(const DomainSettings* domain) {
  const std::chrono::hours retention =
      domain != nullptr ? domain->retention : std::chrono::hours(48);
  return retention + std::chrono::hours(24);
}

std::string EventOutbox::buildBody(EventType type, std::string_view event_id, int64_t now_ms,
                                   std::string_view domain, std::string_view recording_id,
                                   std::string_view reply_id, const nlohmann::json& data) {
  nlohmann::ordered_json body;
  body["method"] = methodName(type);
  body["eventId"] = event_id;
  body["timestamp"] = now_ms;
  body["domain"] = domain;
  body["recordingId"] = recording_id;
  if (!reply_id.empty()) {
    body["replyId"] = reply_id;
  }
  if (data.is_object()) {
    for (const auto& [key, value] : data.items()) {
      if (!body.contains(key)) {
        body[key] = value;
      }
    }
  } else if (!data.is_null()) {
    body["data"] = data;
  }
  // Strings from the network (metadata) may hold invalid UTF-8: replace, never throw.
  return body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void EventOutbox::emit(EventType type, std::string domain, std::string recording_id,
                       nlohmann::json data) {
  const std::shared_ptr<const DomainSettings> settings = domains_ ? domains_(domain) : nullptr;
  const int64_t now_ms = clock_.epochMs();
  std::string reply_id;
  if (type != EventType::NewCall) {
    reply_id = tokens_.issue(domain, recording_id, now_ms / 1000, replyLifetime(settings.get()));
  }
  db::OutboxEvent event;
  event.event_id = randomUuid();
  event.name = std::string(methodName(type));
  event.body = buildBody(type, event.event_id, now_ms, domain, recording_id, reply_id, data);
  event.domain = std::move(domain);
  event.recording_id = std::move(recording_id);
  event.created_ms = now_ms;
  event.next_attempt_ms = now_ms;
  if (!settings || settings->callback_base.empty()) {
    event.status = std::string(kEventSkipped);
    event.last_error = settings ? "no callback_base configured" : "unknown domain";
  }
  log::debug(kComponent, "event {} {} for recording {} ({})", event.name, event.event_id,
             event.recording_id, event.status);
  emittedCounter().inc();
  const bool deliverable = event.status == "pending";
  repository_.insertEvent(std::move(event));
  if (deliverable && on_persisted_) {
    repository_.afterWrites(on_persisted_);
  }
}

}  // namespace siprecd::control
