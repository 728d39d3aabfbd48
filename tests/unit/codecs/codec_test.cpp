#include "media/codecs/codec.hpp"

#include <algorithm>
#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace siprecd::media::codecs {
namespace {

using ::testing::Contains;

TEST(CreateCodec, AcceptsNamesCaseInsensitively) {
  const auto pcmu = createCodec("pcmu", 8000, 1);
  ASSERT_NE(pcmu, nullptr);
  EXPECT_EQ(pcmu->info().name, "PCMU");
  const auto opus = createCodec("OPUS", 48000, 2);
  ASSERT_NE(opus, nullptr);
  EXPECT_EQ(opus->info().name, "opus");
  EXPECT_NE(createCodec("g722", 8000, 1), nullptr);
  EXPECT_NE(createCodec("Pcma", 8000, 1), nullptr);
}

TEST(CreateCodec, ReturnsNullForUnknownNames) {
  EXPECT_EQ(createCodec("GSM", 8000, 1), nullptr);
  EXPECT_EQ(createCodec("telephone-event", 8000, 1), nullptr);
  EXPECT_EQ(createCodec("", 8000, 1), nullptr);
  EXPECT_EQ(createCodec("PCMUX", 8000, 1), nullptr);
}

TEST(CreateCodec, ReturnsNullForWrongClockRatesOrChannels) {
  EXPECT_EQ(createCodec("PCMU", 16000, 1), nullptr);
  EXPECT_EQ(createCodec("PCMA", 8000, 2), nullptr);
  EXPECT_EQ(createCodec("G722", 16000, 1), nullptr);
  EXPECT_EQ(createCodec("opus", 16000, 2), nullptr);
  EXPECT_EQ(createCodec("opus", 48000, 3), nullptr);
  EXPECT_EQ(createCodec("L16", 22050, 1), nullptr);
  EXPECT_EQ(createCodec("L16", 8000, 0), nullptr);
  EXPECT_EQ(createCodec("L16", 48000, 3), nullptr);
  EXPECT_EQ(createCodec("G729", 16000, 1), nullptr);
}

TEST(CreateCodec, ReportsRtpClockAndDecodedRates) {
  const auto g722 = createCodec("G722", 8000, 1);
  ASSERT_NE(g722, nullptr);
  EXPECT_EQ(g722->info().rtp_clock_rate, 8000u);
  EXPECT_EQ(g722->info().sample_rate_hz, 16000u);
  EXPECT_EQ(g722->info().channels, 1u);

  const auto opus = createCodec("opus", 48000, 2);
  ASSERT_NE(opus, nullptr);
  EXPECT_EQ(opus->info().sample_rate_hz, 48000u);
  EXPECT_EQ(opus->info().channels, 1u);  // documented: decoded to mono

  const auto l16 = createCodec("L16", 44100, 2);
  ASSERT_NE(l16, nullptr);
  EXPECT_EQ(l16->info().sample_rate_hz, 44100u);
  EXPECT_EQ(l16->info().channels, 2u);
}

TEST(SupportedCodecNames, ListsEveryCodecTheFactoryCreates) {
  const auto names = supportedCodecNames();
  EXPECT_THAT(names, Contains("PCMU"));
  EXPECT_THAT(names, Contains("PCMA"));
  EXPECT_THAT(names, Contains("G722"));
  EXPECT_THAT(names, Contains("opus"));
  EXPECT_THAT(names, Contains("L16"));
#if SIPRECD_WITH_G729
  EXPECT_THAT(names, Contains("G729"));
#else
  EXPECT_THAT(names, ::testing::Not(Contains("G729")));
#endif
  for (const auto& name : names) {
    const uint32_t rate = name == "opus" ? 48000 : 8000;
    EXPECT_NE(createCodec(name, rate, 1), nullptr) << name;
  }
}

TEST(Codec, EveryCodecRejectsAnEmptyPayloadAndLeavesOutputUntouched) {
  for (const auto& name : supportedCodecNames()) {
    const auto codec = createCodec(name, name == "opus" ? 48000 : 8000, 1);
    ASSERT_NE(codec, nullptr) << name;
    std::vector<int16_t> out = {7};
    EXPECT_FALSE(codec->decode({}, out).has_value()) << name;
    EXPECT_EQ(out, std::vector<int16_t>{7}) << name;
  }
}

TEST(Codec, EveryCodecSurvivesRandomPayloadsAndKeepsItsCountHonest) {
  std::mt19937 random(12345);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<std::size_t> length(0, 400);
  for (const auto& name : supportedCodecNames()) {
    const auto codec = createCodec(name, name == "opus" ? 48000 : 8000, 1);
    ASSERT_NE(codec, nullptr) << name;
    std::vector<int16_t> out;
    for (int round = 0; round < 300; ++round) {
      std::vector<std::byte> payload(length(random));
      std::ranges::generate(payload, [&] { return static_cast<std::byte>(byte(random)); });
      const std::size_t before = out.size();
      const auto result = codec->decode(payload, out);
      if (result) {
        EXPECT_EQ(out.size() - before, *result * codec->info().channels) << name;
      } else {
        EXPECT_EQ(out.size(), before) << name;
      }
    }
  }
}

TEST(Codec, EveryCodecConcealsExactlyTheRequestedLength) {
  for (const auto& name : supportedCodecNames()) {
    const auto codec = createCodec(name, name == "opus" ? 48000 : 8000, 1);
    ASSERT_NE(codec, nullptr) << name;
    for (const std::size_t samples :
         {std::size_t{0}, std::size_t{1}, std::size_t{160}, std::size_t{965}, std::size_t{7000}}) {
      std::vector<int16_t> out(3, 1);
      EXPECT_EQ(codec->conceal(samples, out), samples) << name;
      EXPECT_EQ(out.size(), 3 + samples * codec->info().channels) << name;
    }
  }
}

}  // namespace
}  // namespace siprecd::media::codecs
