#include "media/codecs/g722_codec.hpp"

#include <cstdint>
#include <string>

#include <spandsp.h>

namespace siprecd::media::codecs {

namespace {
constexpr int kBitRate = 64000;
}  // namespace

void G722Codec::StateDeleter::operator()(g722_decode_state_s* state) const {
  g722_decode_free(state);
}

std::unique_ptr<G722Codec> G722Codec::create() {
  StatePtr state(g722_decode_init(nullptr, kBitRate, 0));
  if (!state) {
    return nullptr;
  }
  return std::make_unique<G722Codec>(Key{}, std::move(state));
}

G722Codec::G722Codec(Key, StatePtr state) : state_(std::move(state)) {}

Result<std::size_t> G722Codec::decode(std::span<const std::byte> payload,
                                      std::vector<int16_t>& out) {
  if (payload.empty() || payload.size() > kMaxPayloadBytes) {
    return fail("G722 payload size " + std::to_string(payload.size()) + " out of range 1.." +
                std::to_string(kMaxPayloadBytes));
  }
  const std::size_t start = out.size();
  out.resize(start + 2 * payload.size());
  const int produced = g722_decode(state_.get(), out.data() + start,
                                   reinterpret_cast<const uint8_t*>(payload.data()),
                                   static_cast<int>(payload.size()));
  if (produced < 0) {
    out.resize(start);
    return fail("G722 payload could not be decoded");
  }
  out.resize(start + static_cast<std::size_t>(produced));
  return static_cast<std::size_t>(produced);
}

std::size_t G722Codec::conceal(std::size_t samples_per_channel, std::vector<int16_t>& out) {
  out.insert(out.end(), samples_per_channel, 0);
  return samples_per_channel;
}

}  // namespace siprecd::media::codecs
