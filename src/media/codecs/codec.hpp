#pragma once

// The decoder edge of the media engine: one `Codec` per received RTP stream turns RTP
// payloads into 16-bit linear PCM for the renderer (worker pool). Implementations live
// beside this file (g711_codec, g722_codec, opus_codec, l16_codec, g729_codec); callers
// use only this header.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace siprecd::media::codecs {

/// Largest payload any codec accepts; larger ones are rejected as malformed (no RTP
/// payload carried over UDP is larger).
inline constexpr std::size_t kMaxPayloadBytes = 65535;

/// What a codec instance produces. `rtp_clock_rate` is the RTP timestamp rate (SDP
/// rtpmap), `sample_rate_hz` the rate of the decoded PCM; they differ for G.722
/// (8000 vs 16000, RFC 3551 §4.5.2). `channels` is the number of interleaved channels
/// in the decoded output.
struct CodecInfo {
  std::string name;
  uint32_t rtp_clock_rate = 0;
  uint32_t sample_rate_hz = 0;
  uint32_t channels = 0;
};

/// Decodes one RTP stream's payloads to 16-bit PCM. One instance per stream (stateful
/// codecs: G.722, Opus, G.729). Not thread-safe (use from one thread); cheap to create.
/// Never throws.
class Codec {
 public:
  virtual ~Codec() = default;

  /// The codec's name and rates; constant for the instance's life.
  virtual const CodecInfo& info() const = 0;

  /// Appends the decoded samples of one RTP payload to `out` (interleaved if
  /// channels > 1). Returns the number of samples per channel appended; an error (and
  /// `out` unchanged) on a malformed payload (empty, wrong length, undecodable), the
  /// caller then conceals with silence.
  [[nodiscard]] virtual Result<std::size_t> decode(std::span<const std::byte> payload,
                                                   std::vector<int16_t>& out) = 0;

  /// Concealment for one lost packet of `samples_per_channel` samples at
  /// `info().sample_rate_hz`: Opus and G.729 run their decoder's loss concealment, the
  /// others append silence. Appends exactly `samples_per_channel * channels` samples and
  /// returns `samples_per_channel`.
  virtual std::size_t conceal(std::size_t samples_per_channel, std::vector<int16_t>& out) = 0;
};

/// A new decoder for an SDP encoding name (case-insensitive) with the RTP clock rate and
/// channel count of its rtpmap; nullptr when the combination is unsupported. Accepted:
///   PCMU, PCMA   8000 Hz, 1 channel (RFC 3551 §4.5.14)
///   G722         8000 Hz (RTP clock; audio is 16 kHz, RFC 3551 §4.5.2), 1 channel
///   opus         48000 Hz, 1 or 2 channels (RFC 7587 §7 always says 2); decodes to
///                48 kHz MONO: a recording stream is one side of a call, so a stereo
///                sender is down-mixed by the Opus decoder
///   L16          8000, 16000, 44100 or 48000 Hz, 1 or 2 channels, network byte order
///                (RFC 3551 §4.5.11); output keeps the channel count
///   G729         8000 Hz, 1 channel (only when built with SIPRECD_WITH_G729); Annex B
///                SID frames produce comfort noise (RFC 3551 §4.5.6)
/// Thread-safe.
std::unique_ptr<Codec> createCodec(std::string_view name, uint32_t clock_rate, uint32_t channels);

/// The encoding names createCodec() accepts in this build, in SDP spelling. Thread-safe.
std::vector<std::string> supportedCodecNames();

}  // namespace siprecd::media::codecs
