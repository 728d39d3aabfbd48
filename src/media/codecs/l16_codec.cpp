#include "media/codecs/l16_codec.hpp"

#include <cassert>
#include <string>

#include "media/byte_order.hpp"

namespace siprecd::media::codecs {

bool L16Codec::supports(uint32_t clock_rate, uint32_t channels) {
  const bool rate_ok =
      clock_rate == 8000 || clock_rate == 16000 || clock_rate == 44100 || clock_rate == 48000;
  return rate_ok && (channels == 1 || channels == 2);
}

L16Codec::L16Codec(uint32_t clock_rate, uint32_t channels)
    : info_{"L16", clock_rate, clock_rate, channels} {
  assert(supports(clock_rate, channels));
}

Result<std::size_t> L16Codec::decode(std::span<const std::byte> payload,
                                     std::vector<int16_t>& out) {
  const std::size_t frame_bytes = 2 * std::size_t{info_.channels};
  if (payload.empty() || payload.size() > kMaxPayloadBytes || payload.size() % frame_bytes != 0) {
    return fail("L16 payload size " + std::to_string(payload.size()) +
                " is not a non-empty multiple of " + std::to_string(frame_bytes) + " bytes");
  }
  const std::size_t samples = payload.size() / 2;
  out.reserve(out.size() + samples);
  for (std::size_t i = 0; i < samples; ++i) {
    out.push_back(static_cast<int16_t>(loadBe16(payload, 2 * i)));
  }
  return samples / info_.channels;
}

std::size_t L16Codec::conceal(std::size_t samples_per_channel, std::vector<int16_t>& out) {
  out.insert(out.end(), samples_per_channel * info_.channels, 0);
  return samples_per_channel;
}

}  // namespace siprecd::media::codecs
