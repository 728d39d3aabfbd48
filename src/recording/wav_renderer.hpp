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
  uint64_t packets = 0;  ///< audio packets placed on the timeline (0 when not decodable)
  /// Rate of the decoded audio before resampling to RenderResult::sample_rate (0 when
  /// nothing was decoded).
  uint32_t sample_rate = 0;
  /// Why the stream is a silent channel although it has packets, e.g. a codec this build
  /// cannot decode; "" when it was decoded (or had nothing to decode).
  std::string error;
  uint64_t concealed_gaps = 0;       ///< gaps filled by the codec's loss concealment
  uint64_t undecodable_packets = 0;  ///< payloads the codec rejected (left silent)
  std::optional<int64_t> first_packet_ms;
  std::optional<int64_t> last_packet_ms;
  /// Level of the loudest second of the decoded audio: the RMS, in dBFS (0 = a full-scale
  /// square wave), of the stream's decoded samples in consecutive 1-second windows of the
  /// rendered timeline (before pauses and masks, up to the end of what was rendered).
  /// kSilentDbfs when nothing was decoded or everything decoded to digital silence.
  double loudest_rms_dbfs = kSilentDbfs;
  /// Timeline segments (StreamTimeline): 1 + the SSRC changes and timestamp jumps.
  uint32_t timeline_segments = 0;
  /// RTCP sender reports found in the spool.
  uint64_t sender_reports = 0;
  /// Clock drift of the stream's longest segment against the wall clock, parts per
  /// million (> 0: the sender's RTP clock runs slow, its audio is stretched); 0 when
  /// unknown (segments shorter than StreamTimeline::kMinDriftSpan).
  double drift_ppm = 0;

  /// The level reported for no audio at all (the floor of loudest_rms_dbfs).
  static constexpr double kSilentDbfs = -100.0;
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

/// Renders the streams' spools into a WAV file (PCM 16-bit, one channel per stream, all the
/// same length): renderRecording() with the multitrack layout, no edits, at the default
/// rate. Each packet of the stream's codec (the spool header's; other payload types such as
/// telephone-event or comfort noise, and record kinds other than RTP, are ignored; RTCP
/// sender-report records feed the timeline) is decoded by media::codecs::createCodec and
/// placed on the wall-clock timeline by StreamTimeline (segments per SSRC and timestamp
/// jump, anchored on the lower envelope of arrival times, clock drift corrected); gaps are
/// silence, except a gap of at most 100 ms inside a talk spurt (same SSRC, no marker bit),
/// which the codec's loss concealment fills (Opus / G.729 PLC). A later duplicate
/// overwrites an earlier one, samples before the session start are cut, and the file ends
/// with the latest packet or at session_end_epoch_ms, whichever is later.
/// The file's sample rate is the highest decoded rate among the streams (8000 Hz for G.711
/// only, 16000 with G.722, 48000 with Opus; 8000 when nothing is decodable); streams decoded
/// at a lower rate are resampled by speexdsp (SpeexResampler), aligned to the sample.
/// A stream whose codec cannot be decoded renders as a silent channel, its RenderedStream
/// saying why in `error`; the other channels are rendered normally. A missing spool (the
/// stream received no packet; see RenderStream) or a spool without header or packets gives a
/// silent channel; a torn or corrupt spool tail is ignored. Memory stays bounded (payloads
/// are read back and decoded per block). The output's directory is created if missing; the
/// file is written under a temporary name, fsynced (with its directory) when `sync_to_disk`
/// is set, and renamed over `output_wav`. Fails, naming the stream or path, when there is no
/// stream, a spool exists but cannot be opened or read (any error other than "does not
/// exist"), or the output cannot be written (nothing is left behind but a directory created
/// for it). Blocking: run on the worker pool.
[[nodiscard]] Result<RenderResult> renderWav(const RenderRequest& request);

}  // namespace siprecd::recording
