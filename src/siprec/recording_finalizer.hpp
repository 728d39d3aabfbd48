#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.hpp"

namespace siprecd::siprec {

/// The SIP identifiers of the recorded call, as recording.json, the state store and the
/// record decision report them.
struct CallIdentity {
  std::string call_id, from, to, request_uri;
  std::string source;  ///< "udp:192.0.2.1:5060"
};

/// What recording.json states about a call before rendering adds its timing and audio.
struct RecordingFacts {
  std::string recording_id;
  std::string domain;
  CallIdentity call;
  int64_t created_ms = 0;
  std::optional<int64_t> answered_ms;
  std::optional<int64_t> bye_ms;
  std::string end_reason;  ///< "bye", "rtp-timeout", "interrupted", ...
  bool interrupted = false;
  nlohmann::json streams = nlohmann::json::array();
  nlohmann::json metadata = nlohmann::json::object();  ///< RFC 7865 JSON view
};

/// The recording.json document for `facts` (the one place its field names are spelled).
nlohmann::json recordingDocument(const RecordingFacts& facts);

/// The fields of RECORDINGREADY taken from a recording.json document (DESIGN.md §2): call
/// identity, participants, streams with their statistics, startTime/endTime/duration (epoch
/// ms, ms), audio, assurance, pauses, endReason, interrupted. Used for finished calls and for
/// sessions recovered after a crash alike.
nlohmann::json readyEventData(const nlohmann::json& document);

/// Everything needed to turn a finished session's spools into its recording files. A plain
/// snapshot, so that the job runs on the worker pool without touching the session.
struct FinalizeJob {
  std::string recording_id;
  std::filesystem::path directory;            ///< {data_dir}/sessions/{recordingId}
  std::vector<std::filesystem::path> spools;  ///< one channel per spool, in this order
  std::optional<int64_t> start_epoch_ms;      ///< start of the timeline (answer time)
  std::optional<int64_t> end_epoch_ms;        ///< end of the call (BYE), the timeline's least end
  nlohmann::json document;                    ///< recording.json fields known to the session
  std::string metadata_xml;                   ///< as received; written to metadata.xml if set
  /// PAUSERECORDING..RESUMERECORDING windows (epoch ms, from < to): rendered as silence.
  std::vector<std::pair<int64_t, int64_t>> pauses;
  /// Per spool, the side of the call for the stereo layout: "left", "right" or "" (unknown:
  /// SDP order decides).
  std::vector<std::string> sides;
};

/// What finalisation produced: the complete recording.json document.
struct FinalizeOutcome {
  nlohmann::json document;
  std::filesystem::path audio_path;
  int64_t duration_ms = 0;
};

/// Renders recording.wav, then writes recording.json and metadata.xml beside it, each
/// atomically (temporary name, rename) but without fsync: they are derived from the spools,
/// which the media engine syncs when a stream closes and which stay until the recording is
/// deleted, so a crash can cost at most a re-render, never audio. Blocking: runs on the
/// worker pool. Failure: the render or write error, with the file named.
Result<FinalizeOutcome> finalizeRecording(const FinalizeJob& job);

enum class Durability { Synced, Unsynced };

/// Writes `content` to `path` atomically (temporary file in the same directory, fsync when
/// Synced, rename). Failure names the path and the system error.
Result<void> writeFileAtomically(const std::filesystem::path& path, std::string_view content,
                                 Durability durability = Durability::Synced);

}  // namespace siprecd::siprec
