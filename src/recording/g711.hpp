#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace siprecd::recording {

// ITU-T G.711 companding (PCMU = mu-law, PCMA = A-law; RFC 3551 §4.5.14), between 8-bit
// codes and 16-bit linear samples. Decoding is exact per the recommendation's tables
// (mu-law 0xFF -> 0, 0x00 -> -32124; A-law 0xD5 -> 8, 0x55 -> -8); encoding picks the
// segment and quantisation step of the recommendation. Pure functions, thread-safe.

int16_t decodeMuLaw(uint8_t code);
int16_t decodeALaw(uint8_t code);
uint8_t encodeMuLaw(int16_t sample);
uint8_t encodeALaw(int16_t sample);

/// Decodes min(codes.size(), out.size()) codes into `out`; returns the count.
std::size_t decodeMuLaw(std::span<const std::byte> codes, std::span<int16_t> out);
std::size_t decodeALaw(std::span<const std::byte> codes, std::span<int16_t> out);

}  // namespace siprecd::recording
