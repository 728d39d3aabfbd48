#pragma once

#include <memory>

#include "media/codecs/codec.hpp"

struct OpusDecoder;

namespace siprecd::media::codecs {

/// Opus decoder (libopus), RFC 7587: RTP clock 48000 Hz; decodes to 48 kHz MONO whatever
/// the sender encoded (a stereo stream is down-mixed by libopus), because a recorded
/// stream is one side of a call. Payloads are single Opus packets of up to 120 ms; an
/// empty or invalid packet is an error. Loss is concealed with Opus packet-loss
/// concealment in 2.5 ms steps; a remainder below 2.5 ms is silence.
class OpusCodec final : public Codec {
 public:
  /// A decoder in its initial state; nullptr if libopus cannot allocate one.
  static std::unique_ptr<OpusCodec> create();

  const CodecInfo& info() const override { return info_; }
  [[nodiscard]] Result<std::size_t> decode(std::span<const std::byte> payload,
                                           std::vector<int16_t>& out) override;
  std::size_t conceal(std::size_t samples_per_channel, std::vector<int16_t>& out) override;

 private:
  struct DecoderDeleter {
    void operator()(OpusDecoder* decoder) const;
  };
  using DecoderPtr = std::unique_ptr<OpusDecoder, DecoderDeleter>;
  struct Key {
    explicit Key() = default;
  };

 public:
  /// Use create(); public only for std::make_unique.
  OpusCodec(Key key, DecoderPtr decoder);

 private:
  DecoderPtr decoder_;
  CodecInfo info_{"opus", 48000, 48000, 1};
};

}  // namespace siprecd::media::codecs
