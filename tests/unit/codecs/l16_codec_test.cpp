#include "media/codecs/l16_codec.hpp"

#include <gtest/gtest.h>

#include "tone.hpp"

namespace siprecd::media::codecs {
namespace {

using testing::bytes;

TEST(L16Codec, DecodesNetworkByteOrder) {
  L16Codec codec(16000, 1);
  std::vector<int16_t> out;
  const auto result = codec.decode(bytes({0x01, 0x02, 0xFF, 0xFE, 0x80, 0x00, 0x7F, 0xFF}), out);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(*result, 4u);
  EXPECT_EQ(out, (std::vector<int16_t>{0x0102, -2, -32768, 32767}));
}

TEST(L16Codec, StereoKeepsInterleavingAndCountsPerChannel) {
  L16Codec codec(48000, 2);
  std::vector<int16_t> out;
  const auto result = codec.decode(bytes({0x00, 0x01, 0x00, 0x02, 0x00, 0x03, 0x00, 0x04}), out);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(*result, 2u);
  EXPECT_EQ(out, (std::vector<int16_t>{1, 2, 3, 4}));
  EXPECT_EQ(codec.info().channels, 2u);
}

TEST(L16Codec, RejectsPartialSamplesAndPartialStereoFrames) {
  L16Codec mono(8000, 1);
  L16Codec stereo(8000, 2);
  std::vector<int16_t> out;
  EXPECT_FALSE(mono.decode(bytes({0x01, 0x02, 0x03}), out).has_value());
  EXPECT_FALSE(stereo.decode(bytes({0x01, 0x02, 0x03, 0x04, 0x05, 0x06}), out).has_value());
  EXPECT_FALSE(mono.decode({}, out).has_value());
  EXPECT_TRUE(out.empty());
}

TEST(L16Codec, ConcealsStereoWithSilenceForBothChannels) {
  L16Codec codec(44100, 2);
  std::vector<int16_t> out;
  EXPECT_EQ(codec.conceal(441, out), 441u);
  EXPECT_EQ(out.size(), 882u);
}

TEST(L16Codec, SupportsOnlyTheDocumentedRatesAndChannels) {
  EXPECT_TRUE(L16Codec::supports(8000, 1));
  EXPECT_TRUE(L16Codec::supports(44100, 2));
  EXPECT_FALSE(L16Codec::supports(32000, 1));
  EXPECT_FALSE(L16Codec::supports(16000, 6));
}

}  // namespace
}  // namespace siprecd::media::codecs
