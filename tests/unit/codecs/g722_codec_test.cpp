#include "media/codecs/g722_codec.hpp"

#include <cstdint>
#include <memory>

#include <gtest/gtest.h>
#include <spandsp.h>

#include "tone.hpp"

namespace siprecd::media::codecs {
namespace {

constexpr std::size_t kSamplesPer20Ms = 320;  // 16 kHz audio

struct EncoderDeleter {
  void operator()(g722_encode_state_t* state) const { g722_encode_free(state); }
};

/// 20 ms G.722 payloads (160 bytes each) of `pcm` at 16 kHz, encoded by spandsp.
std::vector<std::vector<std::byte>> encodeG722(const std::vector<int16_t>& pcm) {
  std::unique_ptr<g722_encode_state_t, EncoderDeleter> encoder(g722_encode_init(nullptr, 64000, 0));
  std::vector<std::vector<std::byte>> payloads;
  for (std::size_t at = 0; at + kSamplesPer20Ms <= pcm.size(); at += kSamplesPer20Ms) {
    std::vector<std::byte> payload(kSamplesPer20Ms / 2);
    const int length = g722_encode(encoder.get(), reinterpret_cast<uint8_t*>(payload.data()),
                                   pcm.data() + at, static_cast<int>(kSamplesPer20Ms));
    payload.resize(static_cast<std::size_t>(length));
    payloads.push_back(std::move(payload));
  }
  return payloads;
}

TEST(G722Codec, DecodesA1kHzSineAt16kHz320SamplesPer20Ms) {
  const auto payloads = encodeG722(testing::makeSine(1000.0, 16000, 16000));
  ASSERT_EQ(payloads.size(), 50u);
  ASSERT_EQ(payloads[0].size(), 160u);

  const auto codec = G722Codec::create();
  ASSERT_NE(codec, nullptr);
  std::vector<int16_t> out;
  for (const auto& payload : payloads) {
    const auto result = codec->decode(payload, out);
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(*result, kSamplesPer20Ms);
  }
  ASSERT_EQ(out.size(), 16000u);
  const std::span<const int16_t> settled = std::span<const int16_t>(out).subspan(1600);
  EXPECT_NEAR(testing::dominantFrequencyHz(settled, 16000), 1000.0, 20.0);
  EXPECT_GT(testing::rms(settled), 2000.0);  // the 8000-peak sine keeps its level
}

TEST(G722Codec, AnyNonEmptyLengthDecodesToTwoSamplesPerByte) {
  const auto codec = G722Codec::create();
  ASSERT_NE(codec, nullptr);
  std::vector<int16_t> out;
  const std::vector<std::byte> odd(7, std::byte{0xFF});
  const auto result = codec->decode(odd, out);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(*result, 14u);
  EXPECT_EQ(out.size(), 14u);
}

TEST(G722Codec, RejectsEmptyAndOversizedPayloads) {
  const auto codec = G722Codec::create();
  ASSERT_NE(codec, nullptr);
  std::vector<int16_t> out;
  EXPECT_FALSE(codec->decode({}, out).has_value());
  const std::vector<std::byte> huge(kMaxPayloadBytes + 1);
  EXPECT_FALSE(codec->decode(huge, out).has_value());
  EXPECT_TRUE(out.empty());
}

TEST(G722Codec, ConcealsWithSilence) {
  const auto codec = G722Codec::create();
  ASSERT_NE(codec, nullptr);
  std::vector<int16_t> out;
  EXPECT_EQ(codec->conceal(kSamplesPer20Ms, out), kSamplesPer20Ms);
  EXPECT_EQ(out, std::vector<int16_t>(kSamplesPer20Ms, 0));
}

}  // namespace
}  // namespace siprecd::media::codecs
