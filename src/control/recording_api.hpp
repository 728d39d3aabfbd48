#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/result.hpp"
#include "db/repository.hpp"
#include "recording/renderer.hpp"

/// The read side of the REST API (DESIGN.md §2 "Read side"): recordings, their details,
/// audio, metadata and dead events, as JSON documents. HTTP-agnostic; errors carry the
/// HTTP status in their code (400 bad parameter, 404 unknown recording or another domain's,
/// 409 no audio in this state, 503 database failure).
namespace siprecd::control {

/// The query parameters of GET /callrecording/{domain}/recordings, as sent (decoded).
struct RecordingListParams {
  std::optional<std::string> state;        ///< one of the recording states
  std::optional<std::string> from;         ///< epoch ms, inclusive (created time)
  std::optional<std::string> to;           ///< epoch ms, exclusive
  std::optional<std::string> participant;  ///< substring of an AoR or name
  std::optional<std::string> cursor;       ///< nextCursor of the previous page
  std::optional<std::string> limit;        ///< 1..1000, default 50
};

/// A file to send for GET .../audio.
struct AudioFile {
  std::filesystem::path path;
  std::string content_type;
};

/// The RFC 7865 metadata of a recording.
struct RecordingMetadata {
  std::string xml;      ///< as received
  nlohmann::json json;  ///< its JSON view (participants, streams, sessions, groups)
};

/// Validates list parameters into a repository query (400 naming the parameter).
Result<db::RecordingQuery> parseRecordingListParams(const std::string& domain,
                                                    const RecordingListParams& params);

/// The list entry of a recording: recordingId, domain, state, callId, from, to,
/// createdTime, startTime, endTime, duration, endReason, updatedTime (times epoch ms;
/// null when unknown).
nlohmann::json recordingSummary(const db::RecordingRecord& record);
/// An outbox event's delivery view: eventId, method, sequence, createdTime, status,
/// attempts, nextAttemptTime, lastError, deliveredTime; with `with_body` also `body` (the
/// JSON as delivered).
nlohmann::json eventView(const db::OutboxEvent& event, bool with_body);

/// Reads through `repository` (borrowed; must outlive this). Thread-safe; blocking
/// (database reads, on-demand renders): call on an HTTP thread, never on the SIP or
/// media threads.
class RecordingApi {
 public:
  explicit RecordingApi(db::Repository& repository);

  /// {"items": [summary...], "nextCursor": string|null}.
  Result<nlohmann::json> list(const std::string& domain, const RecordingListParams& params);
  /// The summary plus requestUri, source, error, hasAudio, participants (from the metadata,
  /// with their associate/disassociate times), metadata (the whole JSON view), streams,
  /// assurance, pauses, stored, transitions [{state, time, detail}] and events (eventView
  /// without bodies).
  Result<nlohmann::json> get(const std::string& domain, std::string_view recording_id);
  /// The recording's metadata; 404 when it has none (a plain, non-SIPREC call).
  Result<RecordingMetadata> metadata(const std::string& domain, std::string_view recording_id);
  /// The temp recording (WAV, `format` nullopt or wav) or a rendering of it in `format`,
  /// made on first request by recording::renderRecording from the session's spools with
  /// the store's plan (renderRequestFor: stereo sides, timeline, pauses silenced) into
  /// "recording.cache.<ext>" beside the WAV, reused while not older than the WAV. Blocks
  /// for the render (seconds for long calls; renders are serialised). 409 while the
  /// recording has no audio yet or after it was deleted; 404 when the WAV is missing; 400
  /// when the recording cannot be rendered in another format (no stream known); 500 when
  /// the render fails (logged).
  Result<AudioFile> audio(const std::string& domain, std::string_view recording_id,
                          std::optional<recording::AudioFormat> format);
  /// {"items": [eventView with body...]}: the domain's dead events, newest first.
  Result<nlohmann::json> deadEvents(const std::string& domain, std::size_t limit);

 private:
  /// The recording when it exists and belongs to `domain`; 404 otherwise.
  Result<db::RecordingRecord> find(const std::string& domain, std::string_view recording_id);
  Result<std::filesystem::path> renderCached(const db::RecordingRecord& record,
                                             recording::AudioFormat format);

  db::Repository& repository_;
  /// Serialises on-demand renders (rare; one cache file per format and recording).
  std::mutex render_mutex_;
};

}  // namespace siprecd::control
