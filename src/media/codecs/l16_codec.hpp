#pragma once

#include <cstdint>

#include "media/codecs/codec.hpp"

namespace siprecd::media::codecs {

/// L16 decoder (RFC 3551 §4.5.11): 16-bit signed big-endian samples, interleaved when
/// stereo; stateless. A payload must hold a whole number of sample frames
/// (2 * channels bytes). Loss is concealed with silence.
class L16Codec final : public Codec {
 public:
  /// Whether the rate (8000, 16000, 44100, 48000) and channel count (1, 2) are supported.
  static bool supports(uint32_t clock_rate, uint32_t channels);

  /// Precondition: supports(clock_rate, channels).
  L16Codec(uint32_t clock_rate, uint32_t channels);

  const CodecInfo& info() const override { return info_; }
  [[nodiscard]] Result<std::size_t> decode(std::span<const std::byte> payload,
                                           std::vector<int16_t>& out) override;
  std::size_t conceal(std::size_t samples_per_channel, std::vector<int16_t>& out) override;

 private:
  CodecInfo info_;
};

}  // namespace siprecd::media::codecs
