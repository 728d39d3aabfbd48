#include "media/codecs/g729_codec.hpp"

#include <array>
#include <cstdint>
#include <string>

extern "C" {
#include <bcg729/decoder.h>
}

namespace siprecd::media::codecs {

namespace {
constexpr std::size_t kFrameBytes = 10;
constexpr std::size_t kSidBytes = 2;
constexpr std::size_t kFrameSamples = 80;
}  // namespace

void G729Codec::DecoderDeleter::operator()(
    bcg729DecoderChannelContextStruct_struct* decoder) const {
  closeBcg729DecoderChannel(decoder);
}

std::unique_ptr<G729Codec> G729Codec::create() {
  DecoderPtr decoder(initBcg729DecoderChannel());
  if (!decoder) {
    return nullptr;
  }
  return std::make_unique<G729Codec>(Key{}, std::move(decoder));
}

G729Codec::G729Codec(Key, DecoderPtr decoder) : decoder_(std::move(decoder)) {}

Result<std::size_t> G729Codec::decode(std::span<const std::byte> payload,
                                      std::vector<int16_t>& out) {
  const std::size_t remainder = payload.size() % kFrameBytes;
  if (payload.empty() || payload.size() > kMaxPayloadBytes ||
      (remainder != 0 && remainder != kSidBytes)) {
    return fail("G729 payload size " + std::to_string(payload.size()) +
                " is not N*10 bytes plus an optional 2-byte SID frame");
  }
  const std::size_t frames = payload.size() / kFrameBytes + (remainder != 0 ? 1 : 0);
  const std::size_t start = out.size();
  out.resize(start + frames * kFrameSamples);
  const auto* bytes = reinterpret_cast<const uint8_t*>(payload.data());
  for (std::size_t i = 0; i < frames; ++i) {
    const std::size_t offset = i * kFrameBytes;
    const bool sid = payload.size() - offset == kSidBytes;
    bcg729Decoder(decoder_.get(), bytes + offset,
                  static_cast<uint8_t>(sid ? kSidBytes : kFrameBytes), 0, sid ? 1 : 0, 0,
                  out.data() + start + i * kFrameSamples);
  }
  return frames * kFrameSamples;
}

std::size_t G729Codec::conceal(std::size_t samples_per_channel, std::vector<int16_t>& out) {
  const std::size_t start = out.size();
  out.resize(start + samples_per_channel, 0);
  const std::array<uint8_t, kFrameBytes> erased{};
  for (std::size_t done = 0; samples_per_channel - done >= kFrameSamples; done += kFrameSamples) {
    bcg729Decoder(decoder_.get(), erased.data(), kFrameBytes, 1, 0, 0, out.data() + start + done);
  }
  return samples_per_channel;
}

}  // namespace siprecd::media::codecs
