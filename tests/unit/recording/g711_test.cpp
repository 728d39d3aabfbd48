#include "recording/g711.hpp"

#include <cstdlib>

#include <gtest/gtest.h>

namespace siprecd::recording {
namespace {

TEST(G711, MuLawDecodeVectors) {
  EXPECT_EQ(decodeMuLaw(0xFF), 0);
  EXPECT_EQ(decodeMuLaw(0x7F), 0);
  EXPECT_EQ(decodeMuLaw(0x00), -32124);
  EXPECT_EQ(decodeMuLaw(0x80), 32124);
  EXPECT_EQ(decodeMuLaw(0xFE), 8);
  EXPECT_EQ(decodeMuLaw(0x7E), -8);
  EXPECT_EQ(decodeMuLaw(0xEF), 132);  // segment 1, step 0
}

TEST(G711, ALawDecodeVectors) {
  EXPECT_EQ(decodeALaw(0xD5), 8);
  EXPECT_EQ(decodeALaw(0x55), -8);
  EXPECT_EQ(decodeALaw(0xAA), 32256);
  EXPECT_EQ(decodeALaw(0x2A), -32256);
  EXPECT_EQ(decodeALaw(0xD4), 24);
  EXPECT_EQ(decodeALaw(0xC5), 264);  // segment 1, step 0
}

TEST(G711, EncodeInvertsDecodeForEveryCode) {
  for (int code = 0; code < 256; ++code) {
    const auto byte = static_cast<uint8_t>(code);
    EXPECT_EQ(encodeALaw(decodeALaw(byte)), byte) << code;
    if (byte != 0x7F) {  // mu-law's negative zero encodes back as positive zero
      EXPECT_EQ(encodeMuLaw(decodeMuLaw(byte)), byte) << code;
    }
  }
}

TEST(G711, QuantisationErrorStaysWithinHalfStep) {
  for (int sample = -32768; sample <= 32767; sample += 7) {
    const auto value = static_cast<int16_t>(sample);
    const int bound = std::abs(sample) / 16 + 16;
    EXPECT_LE(std::abs(decodeMuLaw(encodeMuLaw(value)) - sample), bound + 8) << sample;
    EXPECT_LE(std::abs(decodeALaw(encodeALaw(value)) - sample), bound) << sample;
  }
}

TEST(G711, SpanDecodersMatchScalarOnes) {
  const std::byte codes[] = {std::byte{0x00}, std::byte{0xFF}, std::byte{0xD5}};
  int16_t out[3] = {};
  EXPECT_EQ(decodeMuLaw(codes, out), 3U);
  EXPECT_EQ(out[0], -32124);
  EXPECT_EQ(out[1], 0);
  EXPECT_EQ(decodeALaw(std::span(codes).first(2), out), 2U);
  EXPECT_EQ(out[0], decodeALaw(0x00));
  EXPECT_EQ(out[2], decodeMuLaw(0xD5));  // untouched
}

}  // namespace
}  // namespace siprecd::recording
