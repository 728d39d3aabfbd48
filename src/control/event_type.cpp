#include "control/event_sink.hpp"

namespace siprecd::control {

std::string_view methodName(EventType type) {
  switch (type) {
    case EventType::NewCall:
      return "NEWCALL";
    case EventType::RecordingStarted:
      return "RECORDINGSTARTED";
    case EventType::MetadataUpdated:
      return "METADATAUPDATED";
    case EventType::RecordingReady:
      return "RECORDINGREADY";
    case EventType::RecordingStored:
      return "RECORDINGSTORED";
    case EventType::RecordingDeleted:
      return "RECORDINGDELETED";
    case EventType::RecordingFailed:
      return "RECORDINGFAILED";
  }
  return "UNKNOWN";
}

std::optional<EventType> eventTypeOfMethod(std::string_view method) {
  for (const EventType type :
       {EventType::NewCall, EventType::RecordingStarted, EventType::MetadataUpdated,
        EventType::RecordingReady, EventType::RecordingStored, EventType::RecordingDeleted,
        EventType::RecordingFailed}) {
    if (methodName(type) == method) {
      return type;
    }
  }
  return std::nullopt;
}

std::string_view callbackName(EventType type) {
  switch (type) {
    case EventType::NewCall:
      return "newCall";
    case EventType::RecordingStarted:
      return "recordingStarted";
    case EventType::MetadataUpdated:
      return "metadataUpdated";
    case EventType::RecordingReady:
      return "recordingReady";
    case EventType::RecordingStored:
      return "recordingStored";
    case EventType::RecordingDeleted:
      return "recordingDeleted";
    case EventType::RecordingFailed:
      return "recordingFailed";
  }
  return "unknown";
}

}  // namespace siprecd::control
