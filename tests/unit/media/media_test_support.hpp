#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <unistd.h>

#include "base/clock.hpp"
#include "base/random.hpp"
#include "support/temp_dir.hpp"

namespace siprecd::media::testing {

/// A clock that moves only when told to; unlike ManualClock it may be read by the media
/// thread while the test advances it.
class ThreadSafeManualClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point steadyNow() const override {
    return std::chrono::steady_clock::time_point(std::chrono::hours(1000)) + offset();
  }
  std::chrono::system_clock::time_point systemNow() const override {
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(1'700'000'000'000)) +
           offset();
  }
  void advance(std::chrono::milliseconds delta) { offset_ms_ += delta.count(); }

 private:
  std::chrono::milliseconds offset() const { return std::chrono::milliseconds(offset_ms_.load()); }
  std::atomic<int64_t> offset_ms_{0};
};

using ::siprecd::test_support::TempDir;

/// The RTP fields a test packet is built from.
struct RtpFields {
  uint16_t seq = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0x11223344;
  uint8_t payload_type = 0;
  bool marker = false;
  std::vector<uint32_t> csrcs;
  std::vector<std::byte> extension;  ///< data words (size a multiple of 4) when `has_extension`
  bool has_extension = false;
  uint8_t padding = 0;  ///< padding octets to append (count octet included)
};

inline std::vector<std::byte> makeRtp(const RtpFields& fields,
                                      const std::vector<std::byte>& payload) {
  std::vector<std::byte> out;
  auto put8 = [&out](uint32_t value) { out.push_back(static_cast<std::byte>(value & 0xFF)); };
  auto put16 = [&](uint32_t value) {
    put8(value >> 8);
    put8(value);
  };
  auto put32 = [&](uint32_t value) {
    put16(value >> 16);
    put16(value);
  };
  put8(0x80 | (fields.padding != 0 ? 0x20 : 0) | (fields.has_extension ? 0x10 : 0) |
       static_cast<uint32_t>(fields.csrcs.size()));
  put8((fields.marker ? 0x80 : 0) | fields.payload_type);
  put16(fields.seq);
  put32(fields.timestamp);
  put32(fields.ssrc);
  for (uint32_t csrc : fields.csrcs) {
    put32(csrc);
  }
  if (fields.has_extension) {
    put16(0xBEDE);
    put16(static_cast<uint32_t>(fields.extension.size() / 4));
    out.insert(out.end(), fields.extension.begin(), fields.extension.end());
  }
  out.insert(out.end(), payload.begin(), payload.end());
  for (int i = 1; i < fields.padding; ++i) {
    put8(0);
  }
  if (fields.padding != 0) {
    put8(fields.padding);
  }
  return out;
}

inline std::vector<std::byte> bytesOf(std::initializer_list<int> values) {
  std::vector<std::byte> out;
  for (int value : values) {
    out.push_back(static_cast<std::byte>(value));
  }
  return out;
}

inline std::vector<std::byte> readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> out(chars.size());
  for (std::size_t i = 0; i < chars.size(); ++i) {
    out[i] = static_cast<std::byte>(chars[i]);
  }
  return out;
}

}  // namespace siprecd::media::testing
