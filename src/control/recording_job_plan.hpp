#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.hpp"
#include "db/repository.hpp"
#include "recording/renderer.hpp"

/// The pure parts of a store job (no I/O but reading recording.json): what to render from a
/// session directory and which documents to store beside the audio.
namespace siprecd::control {

/// {data_dir}/sessions/{recordingId}; fails (code 500) for an id that is not a plain file
/// name ([A-Za-z0-9._@-], not "." or ".."), so that no id can point elsewhere.
Result<std::filesystem::path> sessionDirectory(const std::filesystem::path& data_dir,
                                               std::string_view recording_id);

/// The session's recording.json, or an empty object when it is missing or unreadable (a
/// recording recovered from an old version has none; the database row then decides).
nlohmann::json readRecordingDocument(const std::filesystem::path& session_dir);

/// Stereo sides per recorded stream. A stream's "side" ("left"/"right") in recording.json
/// wins; otherwise the sender of each stream comes from the metadata (RFC 7865 participant
/// `send` ↔ stream label, preferring a participant still associated), senders are ordered
/// as the metadata lists its participants and alternate left, right, left, ...; streams
/// without a known sender are Unknown (the renderer falls back to SDP order).
std::vector<recording::StreamSide> streamSides(const nlohmann::json& streams,
                                               const nlohmann::json& metadata);

/// Pauses from RecordingRecord::pauses_json ([{"from": ms, "to": ms}], "to" missing while
/// paused, which lasts until `open_end_ms`, or to the end of the recording when nullopt).
/// Malformed entries are skipped; "" gives none.
std::vector<recording::TimeSpan> parsePauses(std::string_view pauses_json,
                                             std::optional<int64_t> open_end_ms);

/// The render request of a store, without output, format, layout, masks or trim: spools
/// {session_dir}/stream-{index}.spool in recording.json's stream order (else the row's
/// streams_json), the timeline from answeredTime to byeTime (else the row's started_ms and
/// ended_ms), sides, pauses from the row. Fails (code 500) when no stream is known.
Result<recording::RecordingRenderRequest> renderRequestFor(const db::RecordingRecord& record,
                                                           const std::filesystem::path& session_dir,
                                                           const nlohmann::json& document);

/// The key of a document stored beside the audio: `audio_key` without ".{ext}" plus
/// `suffix` (".json" or ".xml"); never equal to the audio key.
std::string documentKey(std::string_view audio_key, std::string_view ext, std::string_view suffix);

}  // namespace siprecd::control
