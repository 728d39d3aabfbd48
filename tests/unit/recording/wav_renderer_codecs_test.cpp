#include <cmath>
#include <memory>
#include <numbers>

#include <gtest/gtest.h>
#include <opus/opus.h>
#include <spandsp.h>

#include "recording/wav_renderer.hpp"
#include "recording_test_support.hpp"

namespace siprecd::recording {
namespace {

using testing::Law;
using testing::readWav;
using testing::SpoolBuilder;
using testing::TempDir;
using testing::tone;

constexpr int64_t kT0Ms = 1'700'000'000'000;
constexpr int64_t kT0Us = kT0Ms * 1000;

std::vector<int16_t> sine(double frequency_hz, uint32_t rate, int64_t first, std::size_t count) {
  std::vector<int16_t> pcm(count);
  for (std::size_t i = 0; i < count; ++i) {
    const double t = static_cast<double>(first + static_cast<int64_t>(i)) / rate;
    pcm[i] = static_cast<int16_t>(
        std::lround(8000.0 * std::sin(2.0 * std::numbers::pi * frequency_hz * t)));
  }
  return pcm;
}

struct G722EncoderDeleter {
  void operator()(g722_encode_state_t* state) const { g722_encode_free(state); }
};
struct OpusEncoderDeleter {
  void operator()(OpusEncoder* encoder) const { opus_encoder_destroy(encoder); }
};

/// 20 ms G.722 packets (320 samples at 16 kHz, RTP clock 8000) of a tone.
void writeG722Tone(const std::filesystem::path& path, double frequency_hz, int64_t start_us,
                   int packets) {
  std::unique_ptr<g722_encode_state_t, G722EncoderDeleter> encoder(
      g722_encode_init(nullptr, 64000, 0));
  ASSERT_TRUE(encoder);
  SpoolBuilder builder(path, "G722", 9);
  for (int i = 0; i < packets; ++i) {
    const auto pcm = sine(frequency_hz, 16000, i * 320, 320);
    std::vector<std::byte> payload(160);
    const int length = g722_encode(encoder.get(), reinterpret_cast<uint8_t*>(payload.data()),
                                   pcm.data(), static_cast<int>(pcm.size()));
    ASSERT_EQ(length, 160);
    builder.add(start_us + i * 20'000, static_cast<uint16_t>(i), 1000U + i * 160U, 0x22, 9,
                payload);
  }
  builder.finish();
}

/// 20 ms Opus packets (960 samples at 48 kHz) of a tone; packets [skip_from, skip_to) are
/// encoded but not sent.
void writeOpusTone(const std::filesystem::path& path, double frequency_hz, int64_t start_us,
                   int packets, int skip_from = -1, int skip_to = -1) {
  int error = 0;
  std::unique_ptr<OpusEncoder, OpusEncoderDeleter> encoder(
      opus_encoder_create(48000, 1, OPUS_APPLICATION_AUDIO, &error));
  ASSERT_TRUE(encoder);
  SpoolBuilder builder(path, "opus", 111, 48000);
  for (int i = 0; i < packets; ++i) {
    const auto pcm = sine(frequency_hz, 48000, i * 960, 960);
    std::vector<std::byte> payload(1500);
    const int length = opus_encode(encoder.get(), pcm.data(), 960,
                                   reinterpret_cast<unsigned char*>(payload.data()), 1500);
    ASSERT_GT(length, 0);
    payload.resize(static_cast<std::size_t>(length));
    if (i >= skip_from && i < skip_to) {
      continue;
    }
    builder.add(start_us + i * 20'000, static_cast<uint16_t>(i), 5000U + i * 960U, 0x33, 111,
                payload);
  }
  builder.finish();
}

/// 20 ms PCMU packets of a tone.
void writeMuLawTone(const std::filesystem::path& path, double frequency_hz, int64_t start_us,
                    int packets) {
  SpoolBuilder builder(path, "PCMU", 0);
  for (int i = 0; i < packets; ++i) {
    builder.add(start_us + i * 20'000, static_cast<uint16_t>(i), i * 160U, 0x44, 0,
                tone(Law::Mu, frequency_hz, i * 160, 160));
  }
  builder.finish();
}

class WavRendererCodecsTest : public ::testing::Test {
 protected:
  std::filesystem::path spool(const std::string& name) const { return dir_.path() / name; }
  std::filesystem::path output() const { return dir_.path() / "out.wav"; }

  TempDir dir_;
};

TEST_F(WavRendererCodecsTest, G722RendersAt16kHzWithTheToneAtItsFrequencyAndDuration) {
  writeG722Tone(spool("a"), 1000, kT0Us, 50);
  const auto result = renderWav({{{spool("a")}}, output(), std::nullopt});
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->sample_rate, 16000U);
  EXPECT_EQ(result->duration_ms, 1000);
  EXPECT_EQ(result->streams[0].sample_rate, 16000U);
  EXPECT_EQ(result->streams[0].packets, 50U);
  const auto wav = readWav(output());
  ASSERT_TRUE(wav);
  EXPECT_EQ(wav->sample_rate, 16000);
  ASSERT_EQ(wav->frameCount(), 16000U);
  // 1 kHz: 2000 sign changes per second, here over 0.8 s.
  EXPECT_NEAR(wav->zeroCrossings(0, 1600, 14400), 1600, 6);
  EXPECT_GT(wav->energy(0, 1600, 14400), 1e7);
}

TEST_F(WavRendererCodecsTest, MixedG711AndOpusRenderAt48kHzAligned) {
  writeMuLawTone(spool("a"), 1000, kT0Us + 100'000, 50);  // 0.1 s .. 1.1 s
  writeOpusTone(spool("b"), 440, kT0Us + 200'000, 40);    // 0.2 s .. 1.0 s
  const auto result = renderWav({{{spool("a")}, {spool("b")}}, output(), kT0Ms});
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->sample_rate, 48000U);
  EXPECT_EQ(result->duration_ms, 1100);
  EXPECT_EQ(result->streams[0].sample_rate, 8000U);
  EXPECT_EQ(result->streams[1].sample_rate, 48000U);
  EXPECT_EQ(result->streams[1].packets, 40U);
  const auto wav = readWav(output());
  ASSERT_TRUE(wav);
  EXPECT_EQ(wav->sample_rate, 48000);
  ASSERT_EQ(wav->frameCount(), 52800U);
  // Channel 0: silent until the resampler's filter reaches the first sample (half the
  // filter, 40 decoded samples = 240 output samples before 4800); the tone (a cosine)
  // starts at its peak on sample 4800.
  EXPECT_TRUE(wav->silent(0, 0, 4800 - 240));
  EXPECT_NEAR(wav->at(4800, 0), 8000, 500);
  EXPECT_LT(std::abs(wav->at(4800 - 24, 0)), 2000);
  EXPECT_NEAR(wav->zeroCrossings(0, 9600, 48000), 1600, 4);
  // Channel 1: silent until 200 ms, then 440 Hz.
  EXPECT_TRUE(wav->silent(1, 0, 9600));
  EXPECT_GT(wav->energy(1, 9600 + 960, 9600 + 4800), 1e6);
  EXPECT_NEAR(wav->zeroCrossings(1, 14400, 43200), 528, 8);
  EXPECT_LT(wav->energy(1, 48000 + 960, 52800), 1e3);
}

TEST_F(WavRendererCodecsTest, ConcealmentFillsAOnePacketOpusGap) {
  writeOpusTone(spool("a"), 440, kT0Us, 20, 10, 11);
  const auto result = renderWav({{{spool("a")}}, output(), std::nullopt});
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->streams[0].concealed_gaps, 1U);
  const auto wav = readWav(output());
  ASSERT_TRUE(wav);
  ASSERT_EQ(wav->frameCount(), 19200U);
  EXPECT_FALSE(wav->silent(0, 9600, 10560));
  EXPECT_GT(wav->energy(0, 9600, 10560), 1e5);
}

TEST_F(WavRendererCodecsTest, GapLongerThanTheConcealmentLimitStaysSilent) {
  writeOpusTone(spool("a"), 440, kT0Us, 30, 10, 20);  // 200 ms missing
  const auto result = renderWav({{{spool("a")}}, output(), std::nullopt});
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->streams[0].concealed_gaps, 0U);
  const auto wav = readWav(output());
  ASSERT_TRUE(wav);
  EXPECT_TRUE(wav->silent(0, 9600, 19200));
}

}  // namespace
}  // namespace siprecd::recording
