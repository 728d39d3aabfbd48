#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.hpp"
#include "recording/wav_renderer.hpp"

/// Rendering with layouts, pauses, masks, trim and encoders (DESIGN.md §2 "Formats",
/// modificationParams). Builds on renderWav's decoding and timeline placement.
namespace siprecd::recording {

enum class AudioFormat { Wav, Flac, Mp3, Opus };
enum class ChannelLayout { Stereo, Mono, Multitrack };

/// "wav" | "flac" | "mp3" | "opus" (case-insensitive); fails naming the value.
Result<AudioFormat> parseAudioFormat(std::string_view text);
Result<ChannelLayout> parseChannelLayout(std::string_view text);
std::string_view toString(AudioFormat format);
std::string_view toString(ChannelLayout layout);
/// File extension without dot ("wav", "flac", "mp3", "opus") and MIME type ("audio/wav",
/// "audio/flac", "audio/mpeg", "audio/ogg").
std::string_view fileExtension(AudioFormat format);
std::string_view contentType(AudioFormat format);

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
  /// falls back to SDP order (first stream left, second right, further ones alternate).
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
  std::optional<uint32_t> sample_rate;            ///< default: highest codec rate
  bool sync_to_disk = true;
};

struct RecordingRenderResult {
  RenderResult timeline;       ///< the untrimmed timeline and per-stream decode facts
  int64_t start_epoch_ms = 0;  ///< of the output's first sample (after trim)
  int64_t end_epoch_ms = 0;
  int64_t duration_ms = 0;  ///< of the output
  uint64_t frames = 0;      ///< samples per channel in the output
  uint32_t sample_rate = 0;
  uint32_t channels = 0;
  uint64_t bytes = 0;  ///< size of the output file
};

/// Renders `request` (blocking; worker pool). Times of pauses/masks/trim map to samples as
/// floor((t - start) * rate / 1000), exact to the sample. WAV is PCM 16 (RF64 when over
/// 4 GiB); FLAC 16-bit; MP3 and Ogg Opus through libsndfile. Fails naming the cause.
[[nodiscard]] Result<RecordingRenderResult> renderRecording(const RecordingRenderRequest& request);

/// The recording-assurance report (DESIGN.md §2 RECORDINGREADY): per stream packets,
/// lost, duplicates, late, out-of-source, jitter, SSRC changes, gaps over 200 ms (where),
/// silent or one-way legs, first/last packet times; built from the streams' receive
/// statistics (`streams_json` as in recording.json) and what rendering found.
nlohmann::json assuranceReport(const nlohmann::json& streams_json, const RenderResult& rendered);

}  // namespace siprecd::recording
