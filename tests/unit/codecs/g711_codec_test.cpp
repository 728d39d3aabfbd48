#include "media/codecs/g711_codec.hpp"

#include <algorithm>

#include <gtest/gtest.h>

#include "tone.hpp"

namespace siprecd::media::codecs {
namespace {

using testing::bytes;

TEST(G711Codec, MuLawDecodesReferenceCodes) {
  EXPECT_EQ(G711Codec::decodeMuLaw(0xFF), 0);
  EXPECT_EQ(G711Codec::decodeMuLaw(0x7F), 0);
  EXPECT_EQ(G711Codec::decodeMuLaw(0x00), -32124);
  EXPECT_EQ(G711Codec::decodeMuLaw(0x80), 32124);
  EXPECT_EQ(G711Codec::decodeMuLaw(0xFE), 8);
  EXPECT_EQ(G711Codec::decodeMuLaw(0x7E), -8);
}

TEST(G711Codec, ALawDecodesReferenceCodes) {
  EXPECT_EQ(G711Codec::decodeALaw(0xD5), 8);
  EXPECT_EQ(G711Codec::decodeALaw(0x55), -8);
  EXPECT_EQ(G711Codec::decodeALaw(0xAA), 32256);
  EXPECT_EQ(G711Codec::decodeALaw(0x2A), -32256);
}

TEST(G711Codec, PcmuPayloadDecodesOneSamplePerByte) {
  G711Codec codec(G711Codec::Law::kMu);
  std::vector<int16_t> out = {42};
  const auto result = codec.decode(bytes({0xFF, 0x00, 0x80}), out);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(*result, 3u);
  EXPECT_EQ(out, (std::vector<int16_t>{42, 0, -32124, 32124}));
}

TEST(G711Codec, PcmaPayloadDecodesOneSamplePerByte) {
  G711Codec codec(G711Codec::Law::kA);
  std::vector<int16_t> out;
  const auto result = codec.decode(bytes({0xD5, 0x55}), out);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(out, (std::vector<int16_t>{8, -8}));
  EXPECT_EQ(codec.info().name, "PCMA");
}

TEST(G711Codec, RejectsEmptyPayload) {
  G711Codec codec(G711Codec::Law::kMu);
  std::vector<int16_t> out;
  const auto result = codec.decode({}, out);
  ASSERT_FALSE(result.has_value());
  EXPECT_NE(result.error().message.find("PCMU payload size"), std::string::npos);
  EXPECT_TRUE(out.empty());
}

TEST(G711Codec, ConcealsWithSilence) {
  G711Codec codec(G711Codec::Law::kA);
  std::vector<int16_t> out = {5};
  EXPECT_EQ(codec.conceal(160, out), 160u);
  ASSERT_EQ(out.size(), 161u);
  EXPECT_EQ(out[0], 5);
  EXPECT_TRUE(std::all_of(out.begin() + 1, out.end(), [](int16_t s) { return s == 0; }));
}

}  // namespace
}  // namespace siprecd::media::codecs
