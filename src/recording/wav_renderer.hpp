#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"

namespace siprecd::recording {

/// One recorded stream to render: its spool file. The file may be missing: the spool writer
/// creates it with the stream's first packet, so a missing spool is a stream that received
/// no packet and renders as a silent channel.
struct RenderStream {
  std::filesystem::path spool_path;
};

/// What to render: one output channel per stream, in order.
struct RenderRequest {
  std::vector<RenderStream> streams;
  /// Replaced atomically; its parent directory is created (with any missing ancestors) if
  /// it does not exist yet.
  std::filesystem::path output_wav;
  /// Start of the timeline (epoch ms); default: the earliest first packet of any stream.
  std::optional<int64_t> session_start_epoch_ms;
  /// End of the timeline (epoch ms), e.g. the BYE: the file lasts at least until then, so
  /// that trailing silence (media stopped before the call ended) is kept.
  std::optional<int64_t> session_end_epoch_ms;
  /// fsync the file and its directory before returning. Off when the WAV is derived data
  /// that can be rendered again from durable spools (a sync costs ~1 ms of CPU per file).
  bool sync_to_disk = true;
};

/// What was rendered of one stream. Times are the arrival times (epoch ms) of its first and
/// last decoded packets.
struct RenderedStream {
  std::string codec;     ///< from the spool header ("" when the spool is missing or has none)
  uint64_t packets = 0;  ///< audio packets placed on the timeline
  std::optional<int64_t> first_packet_ms;
  std::optional<int64_t> last_packet_ms;
};

/// The rendered file's timeline: sample 0 is at start_epoch_ms, the last sample ends at
/// end_epoch_ms (duration_ms later, rounded down to whole milliseconds).
struct RenderResult {
  int64_t start_epoch_ms = 0;
  int64_t end_epoch_ms = 0;
  int64_t duration_ms = 0;
  uint32_t sample_rate = 0;
  uint32_t channels = 0;
  std::vector<RenderedStream> streams;
};

/// Renders the streams' spools into a WAV file (PCM 16-bit, 8000 Hz, one channel per
/// stream, all the same length). Each packet of the stream's codec (PCMU or PCMA; other
/// payload types such as telephone-event are ignored) is decoded and placed on the
/// wall-clock timeline by StreamTimeline; gaps are silence, a later duplicate overwrites
/// an earlier one, samples before the session start are cut, and the file ends with the
/// latest packet or at session_end_epoch_ms, whichever is later. A missing spool (the stream
/// received no packet; see RenderStream) or a spool without header or packets gives a silent
/// channel; a torn or corrupt spool tail is ignored. Memory stays bounded (payloads are read
/// back per block). The output's directory is created if missing; the file is written under
/// a temporary name, fsynced (with its directory) when `sync_to_disk` is set, and renamed over
/// `output_wav`. Fails, naming the stream or path, when there is no stream, a spool exists but
/// cannot be opened or read (any error other than "does not exist") or its codec is not
/// supported yet, or the output cannot be written (nothing is left behind but a directory
/// created for it). Blocking: run on the worker pool.
[[nodiscard]] Result<RenderResult> renderWav(const RenderRequest& request);

}  // namespace siprecd::recording
