#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.hpp"
#include "recording/audio_format.hpp"
#include "recording/wav_renderer.hpp"

/// Rendering with layouts, pauses, masks, trim and encoders (DESIGN.md §2 "Formats",
/// modificationParams). Builds on renderWav's decoding and timeline placement.
namespace siprecd::recording {

/// The largest sample data a plain WAV holds before renderRecording switches to RF64
/// (EBU Tech 3306): RIFF sizes are 32-bit; 64 KiB are left for the header chunks.
inline constexpr uint64_t kWavMaxDataBytes = (uint64_t{1} << 32U) - 65536;

/// A span on the recording's timeline, epoch milliseconds, from < to.
struct TimeSpan {
  int64_t from_ms = 0;
  int64_t to_ms = 0;
};

enum class MaskKind { Beep, Silence };

struct Mask {
  TimeSpan span;
  MaskKind kind = MaskKind::Beep;  ///< beep: 1 kHz sine at -20 dBFS on every channel
};

/// Which side of the call a stream is, for the stereo layout.
enum class StreamSide { Unknown, Left, Right };

struct LayoutStream {
  std::filesystem::path spool_path;  ///< as RenderStream (may be missing: silent)
  /// Stereo channel chosen from the metadata's participant↔stream association; Unknown
  /// falls back to SDP order (first stream left, second right, further ones alternate;
  /// with some sides known, an Unknown stream takes the side holding fewer streams).
  StreamSide side = StreamSide::Unknown;
};

/// A full render: decode and place every stream (as renderWav), lay the channels out,
/// silence the pauses, apply masks, cut the trim window, encode.
struct RecordingRenderRequest {
  std::vector<LayoutStream> streams;
  std::filesystem::path output;  ///< replaced atomically (temporary name + rename)
  AudioFormat format = AudioFormat::Wav;
  ChannelLayout layout = ChannelLayout::Stereo;
  std::optional<int64_t> session_start_epoch_ms;  ///< as RenderRequest
  std::optional<int64_t> session_end_epoch_ms;    ///< as RenderRequest
  std::vector<TimeSpan> pauses;                   ///< silence (applied first)
  std::vector<Mask> masks;                        ///< applied after pauses, before trim
  std::optional<TimeSpan> trim;                   ///< clamped to the recording
  std::optional<uint32_t> sample_rate;            ///< default: defaultSampleRate()
  bool sync_to_disk = true;
  /// WAV sample data above this many bytes is written as RF64 (tests lower it).
  uint64_t rf64_threshold_bytes = kWavMaxDataBytes;
};

struct RecordingRenderResult {
  /// The untrimmed timeline (sample 0 at start_epoch_ms; channels = the output's) and the
  /// per-stream decode facts and levels (levels measured up to the end of the output).
  RenderResult timeline;
  /// Time of the output's first sample (after trim), rounded to the millisecond: the
  /// trim's `from` when it lies inside the recording, else the recording's start.
  int64_t start_epoch_ms = 0;
  int64_t end_epoch_ms = 0;  ///< of the output's end, rounded to the millisecond
  int64_t duration_ms = 0;   ///< end_epoch_ms - start_epoch_ms
  uint64_t frames = 0;       ///< samples per channel in the output
  uint32_t sample_rate = 0;
  uint32_t channels = 0;
  uint64_t bytes = 0;  ///< size of the output file
  bool rf64 = false;   ///< the WAV was written as RF64
};

/// Checks a request without reading anything: at least one stream; every pause, mask and
/// the trim with 0 <= from < to; a requested sample rate the format supports. Fails with
/// code 400 and a message naming the field ("trim.from must be before trim.to",
/// "masks[1].from must not be negative", "sample_rate 44100 is not supported by opus").
[[nodiscard]] Result<void> validateRenderRequest(const RecordingRenderRequest& request);

/// Renders `request` (blocking; worker pool):
/// 1. validateRenderRequest(); every stream is read and decoded as renderWav does
///    (StreamSource: timeline placement with drift correction and RTCP sender reports,
///    codec decoding, concealment) and resampled by speexdsp to the output rate;
/// 2. the timeline starts at session_start_epoch_ms (default: the earliest sample of any
///    stream, to the millisecond) and lasts until the last packet's end or
///    session_end_epoch_ms, whichever is later; longer than 31 days fails;
/// 3. streams become channels by `layout` (assignChannels in channel_layout.hpp; several
///    streams on one channel are summed with saturation);
/// 4. pauses are silenced, then masks applied in order, then the trim window is cut, all
///    on the untrimmed timeline: instant t is sample floor((t - start) * rate / 1000), a
///    window [from, to) covers samples [index(from), index(to)), clamped to the recording;
///    a trim window that does not overlap the recording fails with code 400;
/// 5. encoded by AudioFileWriter (WAV PCM 16, RF64 when the data exceed
///    rf64_threshold_bytes; FLAC 16-bit; MP3; Ogg Opus) block by block (memory: the packet
///    index plus a few blocks, never the decoded file) into a temporary file renamed over
///    `output` (its directory created if missing), fsynced with its directory when
///    sync_to_disk.
/// Fails, naming the stream, path or field, when the request is invalid (code 400), a
/// spool exists but cannot be read, or the output cannot be written; nothing is left
/// behind but a directory created for the output.
[[nodiscard]] Result<RecordingRenderResult> renderRecording(const RecordingRenderRequest& request);

/// A stream whose loudest second is quieter than this (RMS) is a silent leg.
inline constexpr double kSilentLegDbfs = -60.0;
/// A stream losing more than this share of its packets (percent) warns "packetLoss".
inline constexpr double kLossWarningPercent = 1.0;
/// A stream losing more than this share of its packets makes the recording not complete.
inline constexpr double kIncompleteLossPercent = 5.0;

/// The recording-assurance report (DESIGN.md §2 RECORDINGREADY), built from the streams'
/// receive statistics (`streams_json`: the array of recording.json "streams", entry i
/// describing rendered stream i; every key optional, absent keys count 0) and what
/// rendering found. Pure; any thread.
///
///   {"streams": [{
///      "index": i,                  // position in the recording (SDP order)
///      "label": "...",              // a=label, when streams_json has one
///      "codec": "PCMU",             // from the spool ("" when nothing was received)
///      "packets": n,                // RTP packets received (stats, else rendered)
///      "lost": n, "duplicates": n,
///      "reordered": n,              // arrived after a later one (stats "reordered")
///      "late": n,                   // reordered by more than a playout buffer would wait
///                                   //   (stats "late"; older stats: "reordered")
///      "outOfSource": n,            // RTP of a foreign source, dropped
///                                   //   (stats "foreignSourcePackets")
///      "jitterMs": x, "maxJitterMs": x,
///      "ssrcChanges": n,
///      "gapsOver200ms": n, "longestGapMs": n,
///      "gaps": [{"start": epoch ms, "duration": ms}],  // the stats' "gaps" (entries
///                                   //   {"start"|"startTime"|"startEpochMs", "duration"|
///                                   //   "durationMs"}), or []
///      "firstPacketTime": epoch ms | null, "lastPacketTime": epoch ms | null,
///      "loudestRmsDbfs": x,         // RenderedStream::loudest_rms_dbfs
///      "clockDriftPpm": x,          // RenderedStream::drift_ppm
///      "silent": bool,
///      "silentReason": "noPackets" | "undecodable" | "lowLevel" | null}],
///    "silentStreams": n,            // streams with "silent": true
///    "oneWay": bool,                // >= 2 streams, one or more silent, one or more not
///    "complete": bool,              // no silent stream, no packet lost to spool write
///                                   //   errors ("spoolRecordsDropped"), none losing more
///                                   //   than kIncompleteLossPercent of its packets
///    "warnings": [{"code": "...", "stream": i, "message": "..."}]}  // "stream" absent
///                                                                   // for call-wide ones
///
/// A stream is silent when it received no packet ("noPackets"), when nothing of it could
/// be decoded ("undecodable": a codec this build cannot decode, or every payload
/// rejected), or when its loudest second is below kSilentLegDbfs RMS ("lowLevel": digital
/// silence or faint line noise only). Warning codes: "noPackets", "undecodable",
/// "lowLevel", "oneWay", "packetLoss" (over kLossWarningPercent), "longGaps" (gaps over
/// 200 ms), "outOfSource", "spoolLoss", "undecodablePackets".
nlohmann::json assuranceReport(const nlohmann::json& streams_json, const RenderResult& rendered);

}  // namespace siprecd::recording
