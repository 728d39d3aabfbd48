#include "media/codecs/g711_codec.hpp"

#include <array>

// ITU-T G.711 decoding (µ-law and A-law), the one implementation in siprecd.

namespace siprecd::media::codecs {

namespace {

constexpr int kSignBit = 0x80;
constexpr int kQuantMask = 0x0F;
constexpr int kSegShift = 4;
constexpr int kSegMask = 0x70;
constexpr int kMuLawBias = 0x84;

// G.711 §3 (mu-law): codes are transmitted inverted; magnitude = ((2q + 33) << s) - 33
// in 14-bit units, here scaled to 16 bits (bias 0x84 = 33 << 2).
constexpr int16_t muLawToLinear(uint8_t code) {
  const int value = static_cast<uint8_t>(~code);
  int magnitude = ((value & kQuantMask) << 3) + kMuLawBias;
  magnitude <<= (value & kSegMask) >> kSegShift;
  return static_cast<int16_t>((value & kSignBit) != 0 ? kMuLawBias - magnitude
                                                      : magnitude - kMuLawBias);
}

// G.711 §2 (A-law): even bits inverted (XOR 0x55); segment 0 is linear, others double
// per segment; the decision value is the middle of the quantisation interval.
constexpr int16_t aLawToLinear(uint8_t code) {
  const int value = code ^ 0x55;
  int magnitude = (value & kQuantMask) << 4;
  const int segment = (value & kSegMask) >> kSegShift;
  if (segment == 0) {
    magnitude += 8;
  } else {
    magnitude = (magnitude + 0x108) << (segment - 1);
  }
  return static_cast<int16_t>((value & kSignBit) != 0 ? magnitude : -magnitude);
}

template <int16_t (*Decode)(uint8_t)>
constexpr std::array<int16_t, 256> makeTable() {
  std::array<int16_t, 256> table{};
  for (int code = 0; code < 256; ++code) {
    table[static_cast<std::size_t>(code)] = Decode(static_cast<uint8_t>(code));
  }
  return table;
}

constexpr std::array<int16_t, 256> kMuLawTable = makeTable<muLawToLinear>();
constexpr std::array<int16_t, 256> kALawTable = makeTable<aLawToLinear>();

static_assert(kMuLawTable[0xFF] == 0 && kMuLawTable[0x00] == -32124);
static_assert(kALawTable[0xD5] == 8 && kALawTable[0x55] == -8);

}  // namespace

G711Codec::G711Codec(Law law)
    : law_(law), info_{law == Law::kMu ? "PCMU" : "PCMA", 8000, 8000, 1} {}

int16_t G711Codec::decodeMuLaw(uint8_t code) {
  return kMuLawTable[code];
}

int16_t G711Codec::decodeALaw(uint8_t code) {
  return kALawTable[code];
}

Result<std::size_t> G711Codec::decode(std::span<const std::byte> payload,
                                      std::vector<int16_t>& out) {
  if (payload.empty() || payload.size() > kMaxPayloadBytes) {
    return fail(info_.name + " payload size " + std::to_string(payload.size()) +
                " out of range 1.." + std::to_string(kMaxPayloadBytes));
  }
  const auto& table = law_ == Law::kMu ? kMuLawTable : kALawTable;
  out.reserve(out.size() + payload.size());
  for (const std::byte code : payload) {
    out.push_back(table[static_cast<uint8_t>(code)]);
  }
  return payload.size();
}

std::size_t G711Codec::conceal(std::size_t samples_per_channel, std::vector<int16_t>& out) {
  out.insert(out.end(), samples_per_channel, 0);
  return samples_per_channel;
}

}  // namespace siprecd::media::codecs
