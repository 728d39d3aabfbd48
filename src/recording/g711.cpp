#include "recording/g711.hpp"

#include <algorithm>
#include <array>

namespace siprecd::recording {

namespace {

constexpr int kSignBit = 0x80;
constexpr int kQuantMask = 0x0F;
constexpr int kSegShift = 4;
constexpr int kSegMask = 0x70;
constexpr int kMuLawBias = 0x84;
constexpr int kMuLawClip = 8159;

constexpr int16_t muLawToLinear(uint8_t code) {
  const int value = static_cast<uint8_t>(~code);
  int magnitude = ((value & kQuantMask) << 3) + kMuLawBias;
  magnitude <<= (value & kSegMask) >> kSegShift;
  return static_cast<int16_t>((value & kSignBit) != 0 ? kMuLawBias - magnitude
                                                      : magnitude - kMuLawBias);
}

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

/// The segment whose end is >= value (8 when above the last).
int segmentOf(int value, const std::array<int, 8>& ends) {
  for (int i = 0; i < 8; ++i) {
    if (value <= ends[static_cast<std::size_t>(i)]) {
      return i;
    }
  }
  return 8;
}

constexpr std::array<int, 8> kMuLawSegmentEnds = {0x3F,  0x7F,  0xFF,  0x1FF,
                                                  0x3FF, 0x7FF, 0xFFF, 0x1FFF};
constexpr std::array<int, 8> kALawSegmentEnds = {0x1F,  0x3F,  0x7F,  0xFF,
                                                 0x1FF, 0x3FF, 0x7FF, 0xFFF};

}  // namespace

int16_t decodeMuLaw(uint8_t code) {
  return kMuLawTable[code];
}

int16_t decodeALaw(uint8_t code) {
  return kALawTable[code];
}

uint8_t encodeMuLaw(int16_t sample) {
  int value = sample >> 2;  // 14-bit magnitude domain
  int mask = 0xFF;
  if (value < 0) {
    value = -value;
    mask = 0x7F;
  }
  value = std::min(value, kMuLawClip) + (kMuLawBias >> 2);
  const int segment = segmentOf(value, kMuLawSegmentEnds);
  if (segment >= 8) {
    return static_cast<uint8_t>(0x7F ^ mask);
  }
  const int code = (segment << kSegShift) | ((value >> (segment + 1)) & kQuantMask);
  return static_cast<uint8_t>(code ^ mask);
}

uint8_t encodeALaw(int16_t sample) {
  int value = sample >> 3;  // 13-bit domain
  int mask = 0xD5;
  if (value < 0) {
    mask = 0x55;
    value = -value - 1;
  }
  const int segment = segmentOf(value, kALawSegmentEnds);
  if (segment >= 8) {
    return static_cast<uint8_t>(0x7F ^ mask);
  }
  int code = segment << kSegShift;
  code |= segment < 2 ? (value >> 1) & kQuantMask : (value >> segment) & kQuantMask;
  return static_cast<uint8_t>(code ^ mask);
}

std::size_t decodeMuLaw(std::span<const std::byte> codes, std::span<int16_t> out) {
  const std::size_t count = std::min(codes.size(), out.size());
  for (std::size_t i = 0; i < count; ++i) {
    out[i] = kMuLawTable[static_cast<uint8_t>(codes[i])];
  }
  return count;
}

std::size_t decodeALaw(std::span<const std::byte> codes, std::span<int16_t> out) {
  const std::size_t count = std::min(codes.size(), out.size());
  for (std::size_t i = 0; i < count; ++i) {
    out[i] = kALawTable[static_cast<uint8_t>(codes[i])];
  }
  return count;
}

}  // namespace siprecd::recording
