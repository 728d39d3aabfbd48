#include "control/recording_api.hpp"

#include <algorithm>
#include <array>
#include <system_error>

#include <fmt/format.h>

#include "base/log.hpp"
#include "base/strings.hpp"
#include "control/recording_job_plan.hpp"

namespace siprecd::control {
namespace {

constexpr std::string_view kComponent = "api";
constexpr std::array<std::string_view, 10> kStates{
    "offered", "recording", "paused",   "ready",     "storing",
    "stored",  "deleted",   "declined", "cancelled", "failed",
};
constexpr std::size_t kMaxParticipantFilter = 256;

nlohmann::json optionalTime(const std::optional<int64_t>& ms) {
  return ms ? nlohmann::json(*ms) : nlohmann::json();
}

/// Parses a stored JSON column; `fallback` when empty or (never expected) corrupt.
nlohmann::json parseColumn(const std::string& text, nlohmann::json fallback) {
  if (text.empty()) {
    return fallback;
  }
  auto parsed = nlohmann::json::parse(text, nullptr, false);
  return parsed.is_discarded() ? fallback : parsed;
}

tl::unexpected<Error> databaseError(const Error& error) {
  log::error(kComponent, "state store read failed: {}", error.message);
  return fail("the state store is unavailable; retry later", 503);
}

Result<std::optional<int64_t>> epochParam(const std::optional<std::string>& text,
                                          std::string_view name) {
  if (!text) {
    return std::nullopt;
  }
  const auto value = parseUnsigned(*text);
  if (!value || *value > static_cast<uint64_t>(INT64_MAX)) {
    return fail(fmt::format("{}: must be epoch milliseconds (a non-negative integer)", name), 400);
  }
  return static_cast<int64_t>(*value);
}

std::filesystem::path cachePath(const std::filesystem::path& wav, recording::AudioFormat format) {
  return wav.parent_path() / fmt::format("recording.cache.{}", recording::fileExtension(format));
}

bool hasNoAudio(std::string_view state) {
  return state == "offered" || state == "recording" || state == "paused" || state == "declined" ||
         state == "cancelled";
}

}  // namespace

Result<db::RecordingQuery> parseRecordingListParams(const std::string& domain,
                                                    const RecordingListParams& params) {
  db::RecordingQuery query;
  query.domain = domain;
  if (params.state) {
    if (std::find(kStates.begin(), kStates.end(), *params.state) == kStates.end()) {
      return fail(fmt::format("state: unknown state \"{}\" (one of: {})", *params.state,
                              fmt::join(kStates, ", ")),
                  400);
    }
    query.state = *params.state;
  }
  auto from = epochParam(params.from, "from");
  if (!from) {
    return tl::unexpected(from.error());
  }
  auto to = epochParam(params.to, "to");
  if (!to) {
    return tl::unexpected(to.error());
  }
  if (*from && *to && **from >= **to) {
    return fail("to: must be greater than from", 400);
  }
  query.created_from_ms = *from;
  query.created_to_ms = *to;
  if (params.participant) {
    if (params.participant->size() > kMaxParticipantFilter) {
      return fail(fmt::format("participant: longer than {} characters", kMaxParticipantFilter),
                  400);
    }
    query.participant = *params.participant;
  }
  query.cursor = params.cursor.value_or("");
  if (params.limit) {
    const auto limit = parseUnsigned(*params.limit);
    if (!limit || *limit < 1 || *limit > 1000) {
      return fail("limit: must be an integer from 1 to 1000", 400);
    }
    query.limit = static_cast<std::size_t>(*limit);
  }
  return query;
}

nlohmann::json recordingSummary(const db::RecordingRecord& record) {
  return {
      {"recordingId", record.id},
      {"domain", record.domain},
      {"state", record.state},
      {"callId", record.call_id},
      {"from", record.from_uri},
      {"to", record.to_uri},
      {"createdTime", record.created_ms},
      {"startTime", optionalTime(record.started_ms)},
      {"endTime", optionalTime(record.ended_ms)},
      {"duration", optionalTime(record.duration_ms)},
      {"endReason", record.end_reason},
      {"updatedTime", record.updated_ms},
  };
}

nlohmann::json eventView(const db::OutboxEvent& event, bool with_body) {
  nlohmann::json view = {
      {"eventId", event.event_id},
      {"method", event.name},
      {"sequence", event.sequence},
      {"createdTime", event.created_ms},
      {"status", event.status},
      {"attempts", event.attempts},
      {"nextAttemptTime", event.next_attempt_ms},
      {"lastError", event.last_error},
      {"deliveredTime", optionalTime(event.delivered_ms)},
  };
  if (with_body) {
    view["body"] = parseColumn(event.body, nlohmann::json(event.body));
  }
  return view;
}

RecordingApi::RecordingApi(db::Repository& repository) : repository_(repository) {}

Result<db::RecordingRecord> RecordingApi::find(const std::string& domain,
                                               std::string_view recording_id) {
  auto found = repository_.findRecording(recording_id);
  if (!found) {
    return databaseError(found.error());
  }
  // Another domain's recording is reported exactly like a missing one: no existence leak.
  if (!*found || (*found)->domain != domain) {
    return fail(fmt::format("recording {} not found in domain {}", recording_id, domain), 404);
  }
  return std::move(**found);
}

Result<nlohmann::json> RecordingApi::list(const std::string& domain,
                                          const RecordingListParams& params) {
  auto query = parseRecordingListParams(domain, params);
  if (!query) {
    return tl::unexpected(query.error());
  }
  auto page = repository_.listRecordings(*query);
  if (!page) {
    if (page.error().code == 400) {
      return fail(fmt::format("cursor: {}", page.error().message), 400);
    }
    return databaseError(page.error());
  }
  nlohmann::json items = nlohmann::json::array();
  for (const auto& record : page->items) {
    items.push_back(recordingSummary(record));
  }
  return nlohmann::json{
      {"items", std::move(items)},
      {"nextCursor",
       page->next_cursor.empty() ? nlohmann::json() : nlohmann::json(page->next_cursor)}};
}

Result<nlohmann::json> RecordingApi::get(const std::string& domain, std::string_view recording_id) {
  auto record = find(domain, recording_id);
  if (!record) {
    return tl::unexpected(record.error());
  }
  auto transitions = repository_.transitions(record->id);
  if (!transitions) {
    return databaseError(transitions.error());
  }
  auto events = repository_.eventsForRecording(record->id);
  if (!events) {
    return databaseError(events.error());
  }
  nlohmann::json detail = recordingSummary(*record);
  const nlohmann::json metadata = parseColumn(record->metadata_json, nlohmann::json::object());
  detail["requestUri"] = record->request_uri;
  detail["source"] = record->source;
  detail["error"] = record->error;
  detail["hasAudio"] = !record->audio_path.empty() && record->state != "deleted";
  detail["participants"] = metadata.is_object() && metadata.contains("participants")
                               ? metadata["participants"]
                               : nlohmann::json::array();
  detail["metadata"] = metadata;
  detail["streams"] = parseColumn(record->streams_json, nlohmann::json::array());
  detail["assurance"] = parseColumn(record->assurance_json, nlohmann::json());
  detail["pauses"] = parseColumn(record->pauses_json, nlohmann::json::array());
  detail["stored"] = parseColumn(record->stored_json, nlohmann::json());
  nlohmann::json history = nlohmann::json::array();
  for (const auto& transition : *transitions) {
    history.push_back(
        {{"state", transition.state}, {"time", transition.at_ms}, {"detail", transition.detail}});
  }
  detail["transitions"] = std::move(history);
  nlohmann::json event_list = nlohmann::json::array();
  for (const auto& event : *events) {
    event_list.push_back(eventView(event, false));
  }
  detail["events"] = std::move(event_list);
  return detail;
}

Result<RecordingMetadata> RecordingApi::metadata(const std::string& domain,
                                                 std::string_view recording_id) {
  auto record = find(domain, recording_id);
  if (!record) {
    return tl::unexpected(record.error());
  }
  if (record->metadata_xml.empty()) {
    return fail(
        fmt::format("recording {} has no RFC 7865 metadata (not a SIPREC call)", record->id), 404);
  }
  return RecordingMetadata{record->metadata_xml,
                           parseColumn(record->metadata_json, nlohmann::json::object())};
}

Result<AudioFile> RecordingApi::audio(const std::string& domain, std::string_view recording_id,
                                      std::optional<recording::AudioFormat> format) {
  auto record = find(domain, recording_id);
  if (!record) {
    return tl::unexpected(record.error());
  }
  if (record->state == "deleted") {
    return fail(fmt::format("recording {} has been deleted; its audio is gone", record->id), 409);
  }
  if (record->audio_path.empty() || hasNoAudio(record->state)) {
    return fail(fmt::format("recording {} has no audio yet (state {})", record->id, record->state),
                409);
  }
  const std::filesystem::path wav = record->audio_path;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(wav, ec)) {
    return fail(fmt::format("the audio of recording {} is missing", record->id), 404);
  }
  if (!format || *format == recording::AudioFormat::Wav) {
    return AudioFile{wav, std::string(recording::contentType(recording::AudioFormat::Wav))};
  }
  auto rendered = renderCached(*record, *format);
  if (!rendered) {
    return tl::unexpected(rendered.error());
  }
  return AudioFile{*rendered, std::string(recording::contentType(*format))};
}

Result<std::filesystem::path> RecordingApi::renderCached(const db::RecordingRecord& record,
                                                         recording::AudioFormat format) {
  const std::filesystem::path wav = record.audio_path;
  const std::filesystem::path cache = cachePath(wav, format);
  std::lock_guard lock(render_mutex_);
  std::error_code ec;
  const auto cache_time = std::filesystem::last_write_time(cache, ec);
  if (!ec && cache_time >= std::filesystem::last_write_time(wav, ec) && !ec) {
    return cache;
  }
  // The same plan as a store (stream order, stereo sides, timeline, pauses).
  const std::filesystem::path session_dir = wav.parent_path();
  auto request = renderRequestFor(record, session_dir, readRecordingDocument(session_dir));
  if (!request) {
    return fail(fmt::format("format: recording {} cannot be rendered ({}); ask for wav", record.id,
                            request.error().message),
                400);
  }
  request->output = cache;
  request->format = format;
  request->layout = recording::ChannelLayout::Stereo;
  request->sync_to_disk = false;
  auto result = recording::renderRecording(*request);
  if (!result) {
    log::warn(kComponent, "on-demand {} render of {} failed: {}", recording::toString(format),
              record.id, result.error().message);
    return fail(fmt::format("cannot render recording {} as {}: {}", record.id,
                            recording::toString(format), result.error().message),
                500);
  }
  return cache;
}

Result<nlohmann::json> RecordingApi::deadEvents(const std::string& domain, std::size_t limit) {
  auto events = repository_.deadEvents(domain, limit);
  if (!events) {
    return databaseError(events.error());
  }
  nlohmann::json items = nlohmann::json::array();
  for (const auto& event : *events) {
    items.push_back(eventView(event, true));
  }
  return nlohmann::json{{"items", std::move(items)}};
}

}  // namespace siprecd::control
