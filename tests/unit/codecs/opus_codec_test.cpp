#include "media/codecs/opus_codec.hpp"

#include <array>
#include <memory>

#include <gtest/gtest.h>
#include <opus/opus.h>

#include "tone.hpp"

namespace siprecd::media::codecs {
namespace {

constexpr int kFrameSamples = 960;  // 20 ms at 48 kHz

struct EncoderDeleter {
  void operator()(OpusEncoder* encoder) const { opus_encoder_destroy(encoder); }
};

/// 20 ms Opus packets of `pcm` (interleaved, `channels`), encoded by libopus.
std::vector<std::vector<std::byte>> encodeOpus(const std::vector<int16_t>& pcm, int channels) {
  int error = OPUS_OK;
  std::unique_ptr<OpusEncoder, EncoderDeleter> encoder(
      opus_encoder_create(48000, channels, OPUS_APPLICATION_AUDIO, &error));
  EXPECT_EQ(error, OPUS_OK);
  std::vector<std::vector<std::byte>> packets;
  const std::size_t step = static_cast<std::size_t>(kFrameSamples * channels);
  for (std::size_t at = 0; at + step <= pcm.size(); at += step) {
    std::array<unsigned char, 1500> buffer{};
    const int length = opus_encode(encoder.get(), pcm.data() + at, kFrameSamples, buffer.data(),
                                   static_cast<int>(buffer.size()));
    EXPECT_GT(length, 0);
    std::vector<std::byte> packet;
    for (int i = 0; i < length; ++i) {
      packet.push_back(static_cast<std::byte>(buffer[static_cast<std::size_t>(i)]));
    }
    packets.push_back(std::move(packet));
  }
  return packets;
}

TEST(OpusCodec, DecodesA440HzToneAt48kHz) {
  const auto packets = encodeOpus(testing::makeSine(440.0, 48000, 48000), 1);
  ASSERT_EQ(packets.size(), 50u);
  const auto codec = OpusCodec::create();
  ASSERT_NE(codec, nullptr);
  std::vector<int16_t> out;
  for (const auto& packet : packets) {
    const auto result = codec->decode(packet, out);
    ASSERT_TRUE(result.has_value()) << result.error().message;
    EXPECT_EQ(*result, static_cast<std::size_t>(kFrameSamples));
  }
  ASSERT_EQ(out.size(), 48000u);
  const std::span<const int16_t> settled = std::span<const int16_t>(out).subspan(9600);
  EXPECT_NEAR(testing::dominantFrequencyHz(settled, 48000), 440.0, 15.0);
  EXPECT_GT(testing::rms(settled), 2000.0);
}

TEST(OpusCodec, DownmixesAStereoStreamToMono) {
  std::vector<int16_t> stereo;
  const auto tone = testing::makeSine(440.0, 48000, 24000);
  for (const int16_t sample : tone) {
    stereo.push_back(sample);
    stereo.push_back(sample);
  }
  const auto packets = encodeOpus(stereo, 2);
  const auto codec = OpusCodec::create();
  ASSERT_NE(codec, nullptr);
  std::vector<int16_t> out;
  for (const auto& packet : packets) {
    const auto result = codec->decode(packet, out);
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(*result, static_cast<std::size_t>(kFrameSamples));
  }
  EXPECT_EQ(out.size(), 24000u);
  EXPECT_NEAR(testing::dominantFrequencyHz(std::span<const int16_t>(out).subspan(4800), 48000),
              440.0, 15.0);
}

TEST(OpusCodec, ConcealsA20MsLossWith960Samples) {
  const auto packets = encodeOpus(testing::makeSine(440.0, 48000, 9600), 1);
  const auto codec = OpusCodec::create();
  ASSERT_NE(codec, nullptr);
  std::vector<int16_t> out;
  for (const auto& packet : packets) {
    ASSERT_TRUE(codec->decode(packet, out).has_value());
  }
  const std::size_t before = out.size();
  EXPECT_EQ(codec->conceal(960, out), 960u);
  ASSERT_EQ(out.size(), before + 960);
  // PLC continues the tone instead of dropping to silence.
  EXPECT_GT(testing::rms(std::span<const int16_t>(out).subspan(before, 240)), 500.0);
}

TEST(OpusCodec, RejectsEmptyAndInvalidPackets) {
  const auto codec = OpusCodec::create();
  ASSERT_NE(codec, nullptr);
  std::vector<int16_t> out;
  EXPECT_FALSE(codec->decode({}, out).has_value());
  // Code 3 (arbitrary frame count) without its frame-count byte (RFC 6716 §3.2.5).
  EXPECT_FALSE(codec->decode(testing::bytes({0x03}), out).has_value());
  // Code 3 with zero frames is invalid.
  EXPECT_FALSE(codec->decode(testing::bytes({0x03, 0x00}), out).has_value());
  // Code 1 (two equal frames) with an odd-length remainder (RFC 6716 §3.2.3).
  EXPECT_FALSE(codec->decode(testing::bytes({0x01, 0xAA, 0xBB, 0xCC}), out).has_value());
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace siprecd::media::codecs
