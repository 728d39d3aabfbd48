#include "recording/renderer.hpp"

#include <array>
#include <cmath>
#include <fstream>

#include <gtest/gtest.h>

#include "recording_test_support.hpp"

namespace siprecd::recording {
namespace {

using testing::Law;
using testing::readAudio;
using testing::readWav;
using testing::SpoolBuilder;
using testing::TempDir;
using testing::tone;

constexpr int64_t kT0Ms = 1'700'000'000'000;
constexpr int64_t kT0Us = kT0Ms * 1000;

/// What a PCMU code of `value` decodes to.
int16_t decodedLevel(int16_t value) {
  return ulaw_to_linear(linear_to_ulaw(value));
}

/// `packets` 20 ms PCMU packets of the constant `value` from kT0 + `offset_ms`.
void writeConstant(const std::filesystem::path& path, int16_t value, int packets,
                   int64_t offset_ms = 0, uint32_t ssrc = 0x1111) {
  SpoolBuilder builder(path, "PCMU", 0);
  const std::vector<std::byte> payload(160, static_cast<std::byte>(linear_to_ulaw(value)));
  for (int i = 0; i < packets; ++i) {
    builder.add(kT0Us + offset_ms * 1000 + i * 20'000, static_cast<uint16_t>(i),
                5000 + static_cast<uint32_t>(i) * 160U, ssrc, 0, payload);
  }
  builder.finish();
}

/// The 8 samples of one period of the mask beep at 8 kHz: 0.1 * 32767 * sin(2π n / 8).
constexpr std::array<int16_t, 8> kBeep8k{0, 2317, 3277, 2317, 0, -2317, -3277, -2317};

class RendererTest : public ::testing::Test {
 protected:
  std::filesystem::path spool(const std::string& name) const { return dir_.path() / name; }
  std::filesystem::path output(const std::string& name = "out.wav") const {
    return dir_.path() / name;
  }
  /// A request over spools a, b, ... (each Unknown side).
  RecordingRenderRequest request(std::initializer_list<const char*> spools,
                                 ChannelLayout layout = ChannelLayout::Multitrack) const {
    RecordingRenderRequest request;
    for (const char* name : spools) {
      request.streams.push_back(LayoutStream{spool(name), StreamSide::Unknown});
    }
    request.output = output();
    request.layout = layout;
    request.sync_to_disk = false;
    return request;
  }

  TempDir dir_;
};

TEST_F(RendererTest, StereoDealsUnknownStreamsLeftRightLeft) {
  writeConstant(spool("a"), 1000, 10);
  writeConstant(spool("b"), 2000, 10);
  writeConstant(spool("c"), 3000, 10);
  const auto result = renderRecording(request({"a", "b", "c"}, ChannelLayout::Stereo));
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->channels, 2U);
  const auto wav = readWav(output());
  ASSERT_TRUE(wav);
  ASSERT_EQ(wav->channels, 2);
  ASSERT_EQ(wav->frameCount(), 1600U);
  EXPECT_EQ(wav->at(0, 0), decodedLevel(1000) + decodedLevel(3000));
  EXPECT_EQ(wav->at(800, 1), decodedLevel(2000));
}

TEST_F(RendererTest, StereoPutsKnownSidesAndGivesUnknownTheOtherSide) {
  writeConstant(spool("a"), 1000, 10);
  writeConstant(spool("b"), 2000, 10);
  auto req = request({"a", "b"}, ChannelLayout::Stereo);
  req.streams[0].side = StreamSide::Right;  // b stays Unknown: takes the left
  const auto result = renderRecording(req);
  ASSERT_TRUE(result) << result.error().message;
  const auto wav = readWav(output());
  ASSERT_TRUE(wav);
  EXPECT_EQ(wav->at(10, 0), decodedLevel(2000));
  EXPECT_EQ(wav->at(10, 1), decodedLevel(1000));
}

TEST_F(RendererTest, MonoMixesEveryStreamWithSaturation) {
  writeConstant(spool("a"), 1000, 10);
  writeConstant(spool("b"), 2000, 10, 100);
  writeConstant(spool("c"), 30000, 5, 150);
  writeConstant(spool("d"), 30000, 5, 150);
  const auto result = renderRecording(request({"a", "b", "c", "d"}, ChannelLayout::Mono));
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->channels, 1U);
  const auto wav = readWav(output());
  ASSERT_TRUE(wav);
  ASSERT_EQ(wav->channels, 1);
  ASSERT_EQ(wav->frameCount(), 2400U);  // b ends at 300 ms
  EXPECT_EQ(wav->at(799, 0), decodedLevel(1000));
  EXPECT_EQ(wav->at(800, 0), decodedLevel(1000) + decodedLevel(2000));
  EXPECT_EQ(wav->at(1200, 0), 32767);
  EXPECT_EQ(wav->at(2000, 0), decodedLevel(2000));
}

TEST_F(RendererTest, MultitrackGivesEachStreamItsChannel) {
  writeConstant(spool("a"), 1000, 10);
  writeConstant(spool("b"), -2000, 10);
  writeConstant(spool("c"), 3000, 10);
  const auto result = renderRecording(request({"a", "b", "c"}, ChannelLayout::Multitrack));
  ASSERT_TRUE(result) << result.error().message;
  const auto wav = readWav(output());
  ASSERT_TRUE(wav);
  ASSERT_EQ(wav->channels, 3);
  EXPECT_EQ(wav->at(5, 0), decodedLevel(1000));
  EXPECT_EQ(wav->at(5, 1), decodedLevel(-2000));
  EXPECT_EQ(wav->at(5, 2), decodedLevel(3000));
}

TEST_F(RendererTest, PausesAndMasksLandOnExactSamples) {
  writeConstant(spool("a"), 1000, 100);  // 2 s
  writeConstant(spool("b"), 2000, 100);
  const int16_t a = decodedLevel(1000);
  auto req = request({"a", "b"}, ChannelLayout::Stereo);
  req.pauses = {{kT0Ms + 300, kT0Ms + 400}};
  req.masks = {Mask{{kT0Ms + 100, kT0Ms + 200}, MaskKind::Beep},
               Mask{{kT0Ms + 350, kT0Ms + 351}, MaskKind::Beep},        // inside the pause
               Mask{{kT0Ms - 1000, kT0Ms + 10}, MaskKind::Silence},     // clamped at 0
               Mask{{kT0Ms + 1990, kT0Ms + 9000}, MaskKind::Silence}};  // clamped at the end
  const auto result = renderRecording(req);
  ASSERT_TRUE(result) << result.error().message;
  const auto wav = readWav(output());
  ASSERT_TRUE(wav);
  ASSERT_EQ(wav->frameCount(), 16000U);
  // Silence mask [0, 80).
  EXPECT_TRUE(wav->silent(0, 0, 80));
  EXPECT_TRUE(wav->silent(1, 0, 80));
  EXPECT_EQ(wav->at(80, 0), a);
  // Beep [800, 1600) on both channels, phase 0 at sample 800.
  EXPECT_EQ(wav->at(799, 0), a);
  for (std::size_t n = 800; n < 1600; ++n) {
    ASSERT_EQ(wav->at(n, 0), kBeep8k[(n - 800) % 8]) << n;
    ASSERT_EQ(wav->at(n, 1), kBeep8k[(n - 800) % 8]) << n;
  }
  EXPECT_EQ(wav->at(1600, 0), a);
  // Pause [2400, 3200) with the 1 ms beep [2800, 2808) on top.
  EXPECT_EQ(wav->at(2399, 0), a);
  EXPECT_TRUE(wav->silent(0, 2400, 2800));
  EXPECT_EQ(wav->at(2801, 0), kBeep8k[1]);
  EXPECT_EQ(wav->at(2807, 1), kBeep8k[7]);
  EXPECT_TRUE(wav->silent(1, 2808, 3200));
  EXPECT_EQ(wav->at(3200, 0), a);
  // Silence from 1990 ms: [15920, 16000).
  EXPECT_EQ(wav->at(15919, 0), a);
  EXPECT_TRUE(wav->silent(0, 15920, 16000));
}

TEST_F(RendererTest, MaskBoundariesRoundDownToTheSampleAt44100Hz) {
  writeConstant(spool("a"), 8000, 50);
  auto req = request({"a"});
  req.sample_rate = 44100;
  req.masks = {Mask{{kT0Ms + 1, kT0Ms + 3}, MaskKind::Silence}};
  const auto result = renderRecording(req);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->sample_rate, 44100U);
  const auto wav = readWav(output());
  ASSERT_TRUE(wav);
  EXPECT_EQ(wav->sample_rate, 44100);
  // floor(1 * 44.1) = 44, floor(3 * 44.1) = 132.
  EXPECT_NE(wav->at(43, 0), 0);
  EXPECT_TRUE(wav->silent(0, 44, 132));
  EXPECT_NE(wav->at(132, 0), 0);
}

TEST_F(RendererTest, TrimCutsTheMaskedTimelineToTheSample) {
  writeConstant(spool("a"), 1000, 100);
  auto req = request({"a"});
  req.masks = {Mask{{kT0Ms + 100, kT0Ms + 200}, MaskKind::Beep}};
  req.trim = TimeSpan{kT0Ms + 150, kT0Ms + 250};
  const auto result = renderRecording(req);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->start_epoch_ms, kT0Ms + 150);
  EXPECT_EQ(result->end_epoch_ms, kT0Ms + 250);
  EXPECT_EQ(result->duration_ms, 100);
  EXPECT_EQ(result->frames, 800U);
  EXPECT_EQ(result->timeline.start_epoch_ms, kT0Ms);
  EXPECT_EQ(result->timeline.duration_ms, 2000);
  const auto wav = readWav(output());
  ASSERT_TRUE(wav);
  ASSERT_EQ(wav->frameCount(), 800U);
  // Output sample 0 is timeline sample 1200: beep phase (1200 - 800) % 8 = 0.
  for (std::size_t n = 0; n < 400; ++n) {
    ASSERT_EQ(wav->at(n, 0), kBeep8k[n % 8]) << n;
  }
  EXPECT_EQ(wav->at(400, 0), decodedLevel(1000));
  EXPECT_EQ(wav->at(799, 0), decodedLevel(1000));
}

TEST_F(RendererTest, TrimPartlyOutsideIsClampedAndOutsideIsRejected) {
  writeConstant(spool("a"), 1000, 50);
  auto req = request({"a"});
  req.trim = TimeSpan{kT0Ms - 500, kT0Ms + 100};
  const auto clamped = renderRecording(req);
  ASSERT_TRUE(clamped) << clamped.error().message;
  EXPECT_EQ(clamped->start_epoch_ms, kT0Ms);
  EXPECT_EQ(clamped->frames, 800U);
  std::filesystem::remove(output());

  req.trim = TimeSpan{kT0Ms + 5000, kT0Ms + 6000};
  const auto outside = renderRecording(req);
  ASSERT_FALSE(outside);
  EXPECT_EQ(outside.error().code, 400);
  EXPECT_NE(outside.error().message.find("does not overlap"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(output()));
}

TEST_F(RendererTest, RejectsInvalidSpansAndRatesNamingTheField) {
  writeConstant(spool("a"), 1000, 5);
  auto req = request({"a"});
  req.trim = TimeSpan{kT0Ms + 10, kT0Ms + 10};
  auto result = renderRecording(req);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, 400);
  EXPECT_EQ(result.error().message, "trim.from must be before trim.to");

  req.trim.reset();
  req.masks = {Mask{{kT0Ms, kT0Ms + 5}}, Mask{{-5, kT0Ms}}};
  result = renderRecording(req);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message, "masks[1].from must not be negative");

  req.masks.clear();
  req.pauses = {{kT0Ms + 9, kT0Ms + 3}};
  result = renderRecording(req);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message, "pauses[0].from must be before pauses[0].to");

  req.pauses.clear();
  req.format = AudioFormat::Opus;
  req.sample_rate = 44100;
  result = renderRecording(req);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, 400);
  EXPECT_EQ(result.error().message, "sample_rate 44100 is not supported by opus");

  EXPECT_FALSE(renderRecording(RecordingRenderRequest{}));
  EXPECT_FALSE(std::filesystem::exists(output()));
}

TEST_F(RendererTest, SwitchesToRf64AboveTheThreshold) {
  writeConstant(spool("a"), 1000, 10);
  auto req = request({"a", "a"}, ChannelLayout::Stereo);
  req.rf64_threshold_bytes = 1600 * 2 * 2 - 1;  // one byte less than the data
  const auto big = renderRecording(req);
  ASSERT_TRUE(big) << big.error().message;
  EXPECT_TRUE(big->rf64);
  auto audio = readAudio(output());
  ASSERT_TRUE(audio);
  EXPECT_EQ(audio->format & SF_FORMAT_TYPEMASK, SF_FORMAT_RF64);
  EXPECT_EQ(audio->pcm.frameCount(), 1600U);
  std::ifstream file(output(), std::ios::binary);
  std::string magic(4, '\0');
  file.read(magic.data(), 4);
  EXPECT_EQ(magic, "RF64");

  req.rf64_threshold_bytes = 1600 * 2 * 2;  // exactly the data: still a plain WAV
  const auto small = renderRecording(req);
  ASSERT_TRUE(small) << small.error().message;
  EXPECT_FALSE(small->rf64);
  audio = readAudio(output());
  ASSERT_TRUE(audio);
  EXPECT_EQ(audio->format & SF_FORMAT_TYPEMASK, SF_FORMAT_WAV);
}

TEST_F(RendererTest, LateArrivingStreamStillLandsOnItsTimestamps) {
  // b is sent from 500 ms on but its first packets arrive 60 ms late, later ones 0..9 ms.
  writeConstant(spool("a"), 1000, 100);
  SpoolBuilder builder(spool("b"), "PCMU", 0);
  const std::vector<std::byte> payload(160, static_cast<std::byte>(linear_to_ulaw(2000)));
  for (int i = 0; i < 50; ++i) {
    const int64_t delay_us = i < 3 ? 60'000 : (i * 7 % 10) * 1000;
    builder.add(kT0Us + 500'000 + i * 20'000 + delay_us, static_cast<uint16_t>(i),
                static_cast<uint32_t>(i) * 160U, 0x2222, 0, payload);
  }
  builder.finish();
  const auto result = renderRecording(request({"a", "b"}));
  ASSERT_TRUE(result) << result.error().message;
  const auto wav = readWav(output());
  ASSERT_TRUE(wav);
  EXPECT_TRUE(wav->silent(1, 0, 4000));
  EXPECT_EQ(wav->at(4000, 1), decodedLevel(2000));
  EXPECT_EQ(result->timeline.streams[1].first_packet_ms, kT0Ms + 560);
}

/// 300 s of silent 20 ms packets from a sender whose clock is off by `ppm`, with one loud
/// packet sent at about 290 s, received with 0..30 ms of jitter. Returns when the loud
/// packet was really sent (epoch µs).
int64_t writeDriftingStream(const std::filesystem::path& path, double ppm, uint32_t ssrc) {
  SpoolBuilder builder(path, "PCMU", 0);
  const std::vector<std::byte> quiet(160, static_cast<std::byte>(linear_to_ulaw(0)));
  const std::vector<std::byte> loud(160, static_cast<std::byte>(linear_to_ulaw(8000)));
  const auto loud_index = static_cast<int>(std::lround(14'500 * (1.0 + ppm * 1e-6)));
  int64_t loud_sent_us = 0;
  for (int i = 0; i < 15'000; ++i) {
    const int64_t sent_us = kT0Us + std::llround(i * 20'000.0 / (1.0 + ppm * 1e-6));
    const int64_t delay_us = i % 40 == 0 ? 0 : (i * 7919 % 30) * 1000;
    builder.add(sent_us + delay_us, static_cast<uint16_t>(i), static_cast<uint32_t>(i) * 160U, ssrc,
                0, i == loud_index ? loud : quiet);
    if (i == loud_index) {
      loud_sent_us = sent_us;
    }
  }
  builder.finish();
  return loud_sent_us;
}

TEST_F(RendererTest, StreamsFromDriftingClocksStayAlignedOverMinutes) {
  const int64_t fast_us = writeDriftingStream(spool("a"), 80, 0xA);
  const int64_t slow_us = writeDriftingStream(spool("b"), -80, 0xB);
  const auto result = renderRecording(request({"a", "b"}, ChannelLayout::Stereo));
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_NEAR(result->timeline.streams[0].drift_ppm, -80, 5);
  EXPECT_NEAR(result->timeline.streams[1].drift_ppm, 80, 5);
  const auto wav = readWav(output());
  ASSERT_TRUE(wav);
  const auto onset = [&](int channel) {
    for (std::size_t i = 0; i < wav->frameCount(); ++i) {
      if (wav->at(i, channel) > 4000) {
        return static_cast<int64_t>(i);
      }
    }
    return int64_t{-1};
  };
  // Uncorrected, the two would be 46 ms apart; each lands on its true time (8 kHz samples
  // from the timeline's start, the earliest sample rounded down to the millisecond).
  const int64_t start_us = result->timeline.start_epoch_ms * 1000;
  EXPECT_NEAR(onset(0), (fast_us - start_us) * 8 / 1000, 2);
  EXPECT_NEAR(onset(1), (slow_us - start_us) * 8 / 1000, 2);
}

TEST_F(RendererTest, SenderReportRecordsAreReadAndSkippedAsAudio) {
  SpoolBuilder builder(spool("a"), "PCMU", 0);
  for (int i = 0; i < 100; ++i) {
    builder.add(kT0Us + i * 20'000, static_cast<uint16_t>(i), static_cast<uint32_t>(i) * 160U, 0x77,
                0, tone(Law::Mu, 1000, i * 160, 160));
    if (i % 25 == 0) {
      builder.addSenderReport(kT0Us + i * 20'000 + 100, 0x77, static_cast<uint32_t>(i) * 160U,
                              (uint64_t{3'900'000'000} + static_cast<uint64_t>(i)) << 32U);
    }
  }
  builder.finish();
  const auto result = renderRecording(request({"a"}));
  ASSERT_TRUE(result) << result.error().message;
  const RenderedStream& stream = result->timeline.streams[0];
  EXPECT_EQ(stream.packets, 100U);
  EXPECT_EQ(stream.sender_reports, 4U);
  EXPECT_EQ(stream.timeline_segments, 1U);
  EXPECT_EQ(result->duration_ms, 2000);
  const auto wav = readWav(output());
  ASSERT_TRUE(wav);
  EXPECT_NEAR(wav->zeroCrossings(0, 0, 16000), 4000, 4);
}

TEST_F(RendererTest, MeasuresTheLoudestSecond) {
  SpoolBuilder builder(spool("a"), "PCMU", 0);
  for (int i = 0; i < 150; ++i) {  // 3 s: a cosine of amplitude 8000 in the 2nd second only
    const bool loud = i >= 50 && i < 100;
    builder.add(kT0Us + i * 20'000, static_cast<uint16_t>(i), static_cast<uint32_t>(i) * 160U, 1, 0,
                tone(Law::Mu, 1000, i * 160, 160, loud ? 8000.0 : 10.0));
  }
  builder.finish();
  writeConstant(spool("quiet"), 0, 150);
  const auto result = renderRecording(request({"a", "quiet", "missing"}));
  ASSERT_TRUE(result) << result.error().message;
  // RMS of a cosine of peak 8000: 8000 / sqrt(2) = 5657, 20 log10(5657 / 32768) = -15.3 dB.
  EXPECT_NEAR(result->timeline.streams[0].loudest_rms_dbfs, -15.3, 0.3);
  EXPECT_LT(result->timeline.streams[1].loudest_rms_dbfs, -60);
  EXPECT_EQ(result->timeline.streams[2].loudest_rms_dbfs, RenderedStream::kSilentDbfs);
}

TEST(AudioFormats, ParseAndNameFormatsAndLayouts) {
  EXPECT_EQ(parseAudioFormat("MP3"), AudioFormat::Mp3);
  EXPECT_EQ(parseAudioFormat("opus"), AudioFormat::Opus);
  const auto bad = parseAudioFormat("ogg");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, 400);
  EXPECT_NE(bad.error().message.find("ogg"), std::string::npos);
  EXPECT_EQ(parseChannelLayout("Multitrack"), ChannelLayout::Multitrack);
  EXPECT_FALSE(parseChannelLayout("quad"));
  EXPECT_EQ(toString(ChannelLayout::Mono), "mono");
  EXPECT_EQ(fileExtension(AudioFormat::Flac), "flac");
  EXPECT_EQ(contentType(AudioFormat::Mp3), "audio/mpeg");
  EXPECT_EQ(contentType(AudioFormat::Opus), "audio/ogg");
}

TEST(AudioFormats, DefaultRateIsTheHighestDecodedRateTheFormatSupports) {
  EXPECT_EQ(defaultSampleRate(AudioFormat::Wav, 0), 8000U);
  EXPECT_EQ(defaultSampleRate(AudioFormat::Wav, 44100), 44100U);
  EXPECT_EQ(defaultSampleRate(AudioFormat::Mp3, 16000), 16000U);
  EXPECT_EQ(defaultSampleRate(AudioFormat::Opus, 44100), 48000U);
  EXPECT_EQ(defaultSampleRate(AudioFormat::Opus, 8000), 8000U);
  EXPECT_TRUE(sampleRateSupported(AudioFormat::Mp3, 22050));
  EXPECT_FALSE(sampleRateSupported(AudioFormat::Mp3, 96000));
  EXPECT_FALSE(sampleRateSupported(AudioFormat::Opus, 32000));
  EXPECT_TRUE(sampleRateSupported(AudioFormat::Flac, 96000));
  EXPECT_FALSE(sampleRateSupported(AudioFormat::Wav, 4000));
}

}  // namespace
}  // namespace siprecd::recording
