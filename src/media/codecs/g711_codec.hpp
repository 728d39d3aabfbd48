#pragma once

#include <cstdint>

#include "media/codecs/codec.hpp"

namespace siprecd::media::codecs {

/// ITU-T G.711 decoder: PCMU (mu-law) or PCMA (A-law), RFC 3551 §4.5.14. One byte per
/// sample at 8 kHz, mono; stateless. Any non-empty payload is valid. Loss is concealed
/// with silence.
class G711Codec final : public Codec {
 public:
  enum class Law { kMu, kA };

  explicit G711Codec(Law law);

  const CodecInfo& info() const override { return info_; }
  [[nodiscard]] Result<std::size_t> decode(std::span<const std::byte> payload,
                                           std::vector<int16_t>& out) override;
  std::size_t conceal(std::size_t samples_per_channel, std::vector<int16_t>& out) override;

  /// One code to its linear value per G.711 Table 2 (mu-law) / Table 1 (A-law), e.g.
  /// mu-law 0xFF -> 0, 0x00 -> -32124; A-law 0xD5 -> 8, 0x55 -> -8. Thread-safe.
  static int16_t decodeMuLaw(uint8_t code);
  static int16_t decodeALaw(uint8_t code);

 private:
  Law law_;
  CodecInfo info_;
};

}  // namespace siprecd::media::codecs
