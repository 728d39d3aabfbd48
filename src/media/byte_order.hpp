#pragma once

// Big-endian (network order, RFC 791 Appendix B) loads and stores over byte spans, for
// the RTP/RTCP wire formats and the spool format. Callers check bounds first.

#include <cstddef>
#include <cstdint>
#include <span>

namespace siprecd::media {

inline uint8_t loadU8(std::span<const std::byte> bytes, std::size_t at) {
  return static_cast<uint8_t>(bytes[at]);
}

inline uint16_t loadBe16(std::span<const std::byte> bytes, std::size_t at) {
  return static_cast<uint16_t>((loadU8(bytes, at) << 8) | loadU8(bytes, at + 1));
}

inline uint32_t loadBe32(std::span<const std::byte> bytes, std::size_t at) {
  return (static_cast<uint32_t>(loadBe16(bytes, at)) << 16) | loadBe16(bytes, at + 2);
}

inline uint64_t loadBe64(std::span<const std::byte> bytes, std::size_t at) {
  return (static_cast<uint64_t>(loadBe32(bytes, at)) << 32) | loadBe32(bytes, at + 4);
}

inline void storeU8(std::span<std::byte> bytes, std::size_t at, uint8_t value) {
  bytes[at] = static_cast<std::byte>(value);
}

inline void storeBe16(std::span<std::byte> bytes, std::size_t at, uint16_t value) {
  storeU8(bytes, at, static_cast<uint8_t>(value >> 8));
  storeU8(bytes, at + 1, static_cast<uint8_t>(value));
}

inline void storeBe32(std::span<std::byte> bytes, std::size_t at, uint32_t value) {
  storeBe16(bytes, at, static_cast<uint16_t>(value >> 16));
  storeBe16(bytes, at + 2, static_cast<uint16_t>(value));
}

inline void storeBe64(std::span<std::byte> bytes, std::size_t at, uint64_t value) {
  storeBe32(bytes, at, static_cast<uint32_t>(value >> 32));
  storeBe32(bytes, at + 4, static_cast<uint32_t>(value));
}

}  // namespace siprecd::media
