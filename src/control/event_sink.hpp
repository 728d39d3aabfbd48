#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

/// Events announced to the application (DESIGN.md §2 "Callbacks and events").
namespace siprecd::control {

enum class EventType {
  NewCall,
  RecordingStarted,
  MetadataUpdated,
  RecordingReady,
  RecordingStored,
  RecordingDeleted,
  RecordingFailed,
};

/// The body's `method`: "NEWCALL", "RECORDINGSTARTED", ...
std::string_view methodName(EventType type);
/// The type whose methodName() is `method`; nullopt for anything else.
std::optional<EventType> eventTypeOfMethod(std::string_view method);
/// The callback path segment: POST {callbackBase}/{callbackName}, e.g. "recordingStarted".
std::string_view callbackName(EventType type);

/// Where components announce what happened to a recording. An implementation adds the
/// envelope (method, eventId, timestamp, domain, recordingId, replyId), persists the event
/// in the outbox after every repository write queued before the call (so the state change
/// it announces is persisted first) and delivers it later, in order per recording, at
/// least once. Thread-safe; never blocks (safe on the SIP and worker threads).
class EventSink {
 public:
  virtual ~EventSink() = default;
  /// `data`: the event's own fields (a JSON object), merged into the body's top level.
  virtual void emit(EventType type, std::string domain, std::string recording_id,
                    nlohmann::json data) = 0;
};

}  // namespace siprecd::control
