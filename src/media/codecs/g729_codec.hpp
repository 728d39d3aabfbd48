#pragma once

#include <memory>

#include "media/codecs/codec.hpp"

struct bcg729DecoderChannelContextStruct_struct;

namespace siprecd::media::codecs {

/// ITU-T G.729 (Annex A and B) decoder (bcg729), RFC 3551 §4.5.6: 8 kHz mono, 10-byte
/// frames of 10 ms (80 samples); a payload is one or more frames optionally followed by
/// one 2-byte Annex B SID frame, which produces 10 ms of comfort noise at the level the
/// sender signalled. Any other length is an error. Loss is concealed with the G.729 frame
/// erasure procedure in 10 ms steps (continuing comfort noise after a SID); a remainder
/// below 10 ms is silence.
class G729Codec final : public Codec {
 public:
  /// A decoder in its initial state; nullptr if bcg729 cannot allocate one.
  static std::unique_ptr<G729Codec> create();

  const CodecInfo& info() const override { return info_; }
  [[nodiscard]] Result<std::size_t> decode(std::span<const std::byte> payload,
                                           std::vector<int16_t>& out) override;
  std::size_t conceal(std::size_t samples_per_channel, std::vector<int16_t>& out) override;

 private:
  struct DecoderDeleter {
    void operator()(bcg729DecoderChannelContextStruct_struct* decoder) const;
  };
  using DecoderPtr = std::unique_ptr<bcg729DecoderChannelContextStruct_struct, DecoderDeleter>;
  struct Key {
    explicit Key() = default;
  };

 public:
  /// Use create(); public only for std::make_unique.
  G729Codec(Key key, DecoderPtr decoder);

 private:
  DecoderPtr decoder_;
  CodecInfo info_{"G729", 8000, 8000, 1};
};

}  // namespace siprecd::media::codecs
