#if SIPRECD_WITH_G729

#include "media/codecs/g729_codec.hpp"

#include <array>
#include <cstdint>
#include <memory>
#include <random>

#include <gtest/gtest.h>

extern "C" {
#include <bcg729/encoder.h>
}

#include "tone.hpp"

namespace siprecd::media::codecs {
namespace {

constexpr std::size_t kFrameSamples = 80;  // 10 ms at 8 kHz

struct EncoderDeleter {
  void operator()(bcg729EncoderChannelContextStruct* encoder) const {
    closeBcg729EncoderChannel(encoder);
  }
};

/// One bcg729 frame per 10 ms of `pcm`: 10 bytes (speech), 2 (SID) or 0 (untransmitted).
std::vector<std::vector<std::byte>> encodeG729(const std::vector<int16_t>& pcm, bool vad) {
  std::unique_ptr<bcg729EncoderChannelContextStruct, EncoderDeleter> encoder(
      initBcg729EncoderChannel(vad ? 1 : 0));
  std::vector<std::vector<std::byte>> frames;
  for (std::size_t at = 0; at + kFrameSamples <= pcm.size(); at += kFrameSamples) {
    std::array<uint8_t, 10> bits{};
    uint8_t length = 0;
    bcg729Encoder(encoder.get(), pcm.data() + at, bits.data(), &length);
    std::vector<std::byte> frame(length);
    for (std::size_t i = 0; i < length; ++i) {
      frame[i] = static_cast<std::byte>(bits[i]);
    }
    frames.push_back(std::move(frame));
  }
  return frames;
}

TEST(G729Codec, Decodes80SamplesPer10MsFrameAndKeepsTheTone) {
  const auto frames = encodeG729(testing::makeSine(500.0, 8000, 8000), false);
  ASSERT_EQ(frames.size(), 100u);
  const auto codec = G729Codec::create();
  ASSERT_NE(codec, nullptr);
  std::vector<int16_t> out;
  // Two frames per RTP payload (20 ms), as SRCs usually send.
  for (std::size_t i = 0; i + 1 < frames.size(); i += 2) {
    ASSERT_EQ(frames[i].size(), 10u);
    std::vector<std::byte> payload = frames[i];
    payload.insert(payload.end(), frames[i + 1].begin(), frames[i + 1].end());
    const auto result = codec->decode(payload, out);
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(*result, 2 * kFrameSamples);
  }
  ASSERT_EQ(out.size(), 8000u);
  const std::span<const int16_t> settled = std::span<const int16_t>(out).subspan(1600);
  EXPECT_NEAR(testing::dominantFrequencyHz(settled, 8000), 500.0, 50.0);
  EXPECT_GT(testing::rms(settled), 1000.0);
}

TEST(G729Codec, SidFrameProducesQuietComfortNoise) {
  // Near-silence with VAD on: bcg729 sends SID (2 bytes) or nothing after the hangover.
  std::mt19937 random(7);
  std::uniform_int_distribution<int> noise(-20, 20);
  std::vector<int16_t> quiet(8000);
  for (auto& sample : quiet) {
    sample = static_cast<int16_t>(noise(random));
  }
  const auto frames = encodeG729(quiet, true);
  const auto codec = G729Codec::create();
  ASSERT_NE(codec, nullptr);
  std::vector<int16_t> out;
  bool saw_sid = false;
  for (const auto& frame : frames) {
    if (frame.empty()) {
      codec->conceal(kFrameSamples, out);
      continue;
    }
    const auto result = codec->decode(frame, out);
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(*result, kFrameSamples);
    saw_sid = saw_sid || frame.size() == 2;
  }
  EXPECT_TRUE(saw_sid);
  EXPECT_EQ(out.size(), 8000u);
  EXPECT_LT(testing::rms(out), 200.0);
}

TEST(G729Codec, SpeechFramesFollowedBySidDecodeTogether) {
  const auto codec = G729Codec::create();
  ASSERT_NE(codec, nullptr);
  std::vector<int16_t> out;
  const std::vector<std::byte> payload(22, std::byte{0x11});
  const auto result = codec->decode(payload, out);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(*result, 3 * kFrameSamples);
  EXPECT_EQ(out.size(), 3 * kFrameSamples);
}

TEST(G729Codec, RejectsWrongLengths) {
  const auto codec = G729Codec::create();
  ASSERT_NE(codec, nullptr);
  std::vector<int16_t> out;
  for (const std::size_t length : {0, 1, 3, 9, 11, 15, 21, 29}) {
    const std::vector<std::byte> payload(length, std::byte{0x5A});
    EXPECT_FALSE(codec->decode(payload, out).has_value()) << length;
  }
  EXPECT_TRUE(out.empty());
}

TEST(G729Codec, ConcealsWholeFramesAndPadsTheRemainderWithSilence) {
  const auto codec = G729Codec::create();
  ASSERT_NE(codec, nullptr);
  std::vector<int16_t> out;
  EXPECT_EQ(codec->conceal(165, out), 165u);
  ASSERT_EQ(out.size(), 165u);
  EXPECT_TRUE(std::all_of(out.begin() + 160, out.end(), [](int16_t s) { return s == 0; }));
}

}  // namespace
}  // namespace siprecd::media::codecs

#endif  // SIPRECD_WITH_G729
