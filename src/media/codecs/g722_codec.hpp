#pragma once

#include <memory>

#include "media/codecs/codec.hpp"

struct g722_decode_state_s;

namespace siprecd::media::codecs {

/// ITU-T G.722 decoder at 64 kbit/s (spandsp), RFC 3551 §4.5.2: RTP clock 8000 Hz,
/// audio 16 kHz mono, each payload byte carries two samples. Stateful (sub-band ADPCM);
/// any non-empty payload is valid. Loss is concealed with silence; the decoder state is
/// left as it was.
class G722Codec final : public Codec {
 public:
  /// A decoder in its initial state; nullptr if spandsp cannot allocate one.
  static std::unique_ptr<G722Codec> create();

  const CodecInfo& info() const override { return info_; }
  [[nodiscard]] Result<std::size_t> decode(std::span<const std::byte> payload,
                                           std::vector<int16_t>& out) override;
  std::size_t conceal(std::size_t samples_per_channel, std::vector<int16_t>& out) override;

 private:
  struct StateDeleter {
    void operator()(g722_decode_state_s* state) const;
  };
  using StatePtr = std::unique_ptr<g722_decode_state_s, StateDeleter>;

  struct Key {
    explicit Key() = default;
  };

 public:
  /// Use create(); public only for std::make_unique.
  G722Codec(Key key, StatePtr state);

 private:
  StatePtr state_;
  CodecInfo info_{"G722", 8000, 16000, 1};
};

}  // namespace siprecd::media::codecs
