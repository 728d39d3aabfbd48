#include "recording/wav_renderer.hpp"

#include <fstream>

#include <gtest/gtest.h>

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
constexpr std::size_t kPacketSamples = 160;

/// Writes `packets` 20 ms packets of a tone: arrivals from `start_us`, timestamps from
/// `first_timestamp`, skipping packet indexes in [skip_from, skip_to).
void writeTone(const std::filesystem::path& path, Law law, double frequency_hz, int64_t start_us,
               int packets, uint32_t first_timestamp, uint32_t ssrc = 0x1234, int skip_from = -1,
               int skip_to = -1) {
  const uint8_t payload_type = law == Law::Mu ? 0 : 8;
  SpoolBuilder builder(path, law == Law::Mu ? "PCMU" : "PCMA", payload_type);
  for (int i = 0; i < packets; ++i) {
    if (i >= skip_from && i < skip_to) {
      continue;
    }
    const int64_t first_sample = static_cast<int64_t>(i) * kPacketSamples;
    builder.add(start_us + i * 20'000 + (i % 3) * 700,  // arrival jitter
                static_cast<uint16_t>(i),
                first_timestamp + static_cast<uint32_t>(i * kPacketSamples), ssrc, payload_type,
                tone(law, frequency_hz, first_sample, kPacketSamples));
  }
  builder.finish();
}

class WavRendererTest : public ::testing::Test {
 protected:
  std::filesystem::path spool(const std::string& name) const { return dir_.path() / name; }
  std::filesystem::path output() const { return dir_.path() / "out.wav"; }

  TempDir dir_;
};

TEST_F(WavRendererTest, TwoTonesLandOnTheirChannelsAtTheRightOffsets) {
  writeTone(spool("a"), Law::Mu, 1000, kT0Us, 100, 4242);
  writeTone(spool("b"), Law::A, 440, kT0Us + 500'000, 75, 0x7FFFFF00, 0x9999);
  const auto result = renderWav({{{spool("a")}, {spool("b")}}, output(), std::nullopt});
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->start_epoch_ms, kT0Ms);
  EXPECT_EQ(result->duration_ms, 2000);
  EXPECT_EQ(result->end_epoch_ms, kT0Ms + 2000);
  EXPECT_EQ(result->sample_rate, 8000U);
  EXPECT_EQ(result->channels, 2U);
  ASSERT_EQ(result->streams.size(), 2U);
  EXPECT_EQ(result->streams[0].codec, "PCMU");
  EXPECT_EQ(result->streams[0].packets, 100U);
  EXPECT_EQ(result->streams[0].first_packet_ms, kT0Ms);
  EXPECT_EQ(result->streams[1].codec, "PCMA");
  EXPECT_EQ(result->streams[1].packets, 75U);
  EXPECT_EQ(result->streams[1].first_packet_ms, kT0Ms + 500);

  const auto wav = readWav(output());
  ASSERT_TRUE(wav);
  EXPECT_EQ(wav->sample_rate, 8000);
  EXPECT_EQ(wav->channels, 2);
  ASSERT_EQ(wav->frameCount(), 16000U);
  // Channel 0: 1 kHz over the whole file (2000 sign changes per second).
  EXPECT_GT(wav->energy(0, 0, 16000), 1e7);
  EXPECT_NEAR(wav->zeroCrossings(0, 4000, 12000), 2000, 4);
  // Channel 1: silent for 500 ms, then 440 Hz starting exactly at sample 4000.
  EXPECT_TRUE(wav->silent(1, 0, 4000));
  EXPECT_NE(wav->at(4000, 1), 0);
  EXPECT_GT(wav->energy(1, 4000, 16000), 1e7);
  EXPECT_NEAR(wav->zeroCrossings(1, 4000, 12000), 880, 4);
}

TEST_F(WavRendererTest, MissingPacketsBecomeSilence) {
  writeTone(spool("a"), Law::Mu, 1000, kT0Us, 100, 0, 0x1234, 50, 60);
  const auto result = renderWav({{{spool("a")}}, output(), std::nullopt});
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->duration_ms, 2000);
  EXPECT_EQ(result->streams[0].packets, 90U);
  const auto wav = readWav(output());
  ASSERT_TRUE(wav);
  EXPECT_GT(wav->energy(0, 7000, 8000), 1e7);
  EXPECT_TRUE(wav->silent(0, 8000, 9600));
  EXPECT_GT(wav->energy(0, 9600, 10600), 1e7);
}

TEST_F(WavRendererTest, TimestampWrapKeepsAudioContinuous) {
  writeTone(spool("a"), Law::Mu, 1000, kT0Us, 50, 0xFFFFFF00);
  const auto result = renderWav({{{spool("a")}}, output(), std::nullopt});
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->duration_ms, 1000);
  const auto wav = readWav(output());
  ASSERT_TRUE(wav);
  ASSERT_EQ(wav->frameCount(), 8000U);
  for (std::size_t block = 0; block < 8000; block += kPacketSamples) {
    EXPECT_GT(wav->energy(0, block, block + kPacketSamples), 1e7) << block;
  }
  EXPECT_NEAR(wav->zeroCrossings(0, 0, 8000), 2000, 4);
}

TEST_F(WavRendererTest, SsrcChangeReanchorsOnArrival) {
  SpoolBuilder builder(spool("a"), "PCMU", 0);
  for (int i = 0; i < 25; ++i) {
    builder.add(kT0Us + i * 20'000, static_cast<uint16_t>(i), 1000 + i * 160U, 1, 0,
                tone(Law::Mu, 1000, i * 160, 160));
  }
  for (int i = 0; i < 25; ++i) {
    builder.add(kT0Us + 1'000'000 + i * 20'000, static_cast<uint16_t>(9000 + i),
                0x12345678 + i * 160U, 2, 0, tone(Law::Mu, 1000, i * 160, 160));
  }
  builder.finish();
  const auto result = renderWav({{{spool("a")}}, output(), std::nullopt});
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->duration_ms, 1500);
  const auto wav = readWav(output());
  ASSERT_TRUE(wav);
  EXPECT_GT(wav->energy(0, 0, 4000), 1e7);
  EXPECT_TRUE(wav->silent(0, 4000, 8000));
  EXPECT_GT(wav->energy(0, 8000, 12000), 1e7);
}

TEST_F(WavRendererTest, GivenSessionStartPrependsSilence) {
  writeTone(spool("a"), Law::Mu, 1000, kT0Us, 50, 0);
  const auto result = renderWav({{{spool("a")}}, output(), kT0Ms - 1000});
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->start_epoch_ms, kT0Ms - 1000);
  EXPECT_EQ(result->duration_ms, 2000);
  const auto wav = readWav(output());
  ASSERT_TRUE(wav);
  EXPECT_TRUE(wav->silent(0, 0, 8000));
  EXPECT_GT(wav->energy(0, 8000, 16000), 1e7);
}

TEST_F(WavRendererTest, PacketsBeforeSessionStartAreCut) {
  writeTone(spool("a"), Law::Mu, 1000, kT0Us, 50, 0);
  const auto result = renderWav({{{spool("a")}}, output(), kT0Ms + 500});
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->duration_ms, 500);
  const auto wav = readWav(output());
  ASSERT_TRUE(wav);
  EXPECT_EQ(wav->frameCount(), 4000U);
  EXPECT_GT(wav->energy(0, 0, 4000), 1e7);
}

TEST_F(WavRendererTest, EmptyAndHeaderlessSpoolsGiveSilentChannels) {
  writeTone(spool("a"), Law::Mu, 1000, kT0Us, 10, 0);
  testing::writeHeaderOnlySpool(spool("empty"), "PCMA", 8);
  std::ofstream(spool("headerless"), std::ios::binary).put('S');  // torn at creation
  const auto result =
      renderWav({{{spool("a")}, {spool("empty")}, {spool("headerless")}}, output(), std::nullopt});
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->channels, 3U);
  EXPECT_EQ(result->duration_ms, 200);
  EXPECT_EQ(result->streams[1].codec, "PCMA");
  EXPECT_EQ(result->streams[1].packets, 0U);
  EXPECT_FALSE(result->streams[1].first_packet_ms);
  EXPECT_EQ(result->streams[2].codec, "");
  const auto wav = readWav(output());
  ASSERT_TRUE(wav);
  ASSERT_EQ(wav->frameCount(), 1600U);
  EXPECT_GT(wav->energy(0, 0, 1600), 1e7);
  EXPECT_TRUE(wav->silent(1, 0, 1600));
  EXPECT_TRUE(wav->silent(2, 0, 1600));
}

TEST_F(WavRendererTest, NothingReceivedGivesEmptyWav) {
  SpoolBuilder(spool("empty"), "PCMU", 0).finish();  // creates no file: nothing was written
  const auto result = renderWav({{{spool("empty")}}, output(), kT0Ms});
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->start_epoch_ms, kT0Ms);
  EXPECT_EQ(result->duration_ms, 0);
  const auto wav = readWav(output());
  ASSERT_TRUE(wav);
  EXPECT_EQ(wav->frameCount(), 0U);
}

TEST_F(WavRendererTest, IgnoresTelephoneEventsAndOtherPayloadTypes) {
  SpoolBuilder builder(spool("a"), "PCMU", 0);
  for (int i = 0; i < 10; ++i) {
    builder.add(kT0Us + i * 20'000, static_cast<uint16_t>(i), i * 160U, 1, 0,
                tone(Law::Mu, 1000, i * 160, 160));
  }
  const std::vector<std::byte> event(4, std::byte{0x01});
  builder.add(kT0Us + 200'000, 10, 1600, 1, 101, event);
  builder.add(kT0Us + 220'000, 11, 1760, 1, 8, std::vector<std::byte>(160, std::byte{0x2A}));
  builder.finish();
  const auto result = renderWav({{{spool("a")}}, output(), std::nullopt});
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->streams[0].packets, 10U);
  EXPECT_EQ(result->duration_ms, 200);
}

TEST_F(WavRendererTest, DuplicatePacketOverwritesHarmlessly) {
  SpoolBuilder builder(spool("a"), "PCMU", 0);
  for (int i = 0; i < 10; ++i) {
    const auto payload = tone(Law::Mu, 1000, i * 160, 160);
    builder.add(kT0Us + i * 20'000, static_cast<uint16_t>(i), i * 160U, 1, 0, payload);
    if (i == 4) {
      builder.add(kT0Us + i * 20'000 + 3000, static_cast<uint16_t>(i), i * 160U, 1, 0, payload);
    }
  }
  builder.finish();
  const auto result = renderWav({{{spool("a")}}, output(), std::nullopt});
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->duration_ms, 200);
  const auto wav = readWav(output());
  ASSERT_TRUE(wav);
  EXPECT_NEAR(wav->zeroCrossings(0, 0, 1600), 400, 2);
}

TEST_F(WavRendererTest, TornSpoolTailIsIgnored) {
  writeTone(spool("a"), Law::Mu, 1000, kT0Us, 10, 0);
  std::filesystem::resize_file(spool("a"), std::filesystem::file_size(spool("a")) - 5);
  const auto result = renderWav({{{spool("a")}}, output(), std::nullopt});
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->streams[0].packets, 9U);
  EXPECT_EQ(result->duration_ms, 180);
}

TEST_F(WavRendererTest, ReplacesOutputAtomicallyAndLeavesNoTemporaryFile) {
  writeTone(spool("a"), Law::Mu, 1000, kT0Us, 10, 0);
  std::ofstream(output()) << "old";
  ASSERT_TRUE(renderWav({{{spool("a")}}, output(), std::nullopt}));
  EXPECT_TRUE(readWav(output()));
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
    EXPECT_EQ(entry.path().string().find(".tmp"), std::string::npos) << entry.path();
  }
}

TEST_F(WavRendererTest, UnknownCodecIsASilentFlaggedChannelBesideIntactOnes) {
  SpoolBuilder builder(spool("x"), "SILK", 111, 16000);
  for (int i = 0; i < 50; ++i) {
    builder.add(kT0Us + i * 20'000, static_cast<uint16_t>(i), i * 320U, 1, 111,
                std::vector<std::byte>(40, std::byte{0x55}));
  }
  builder.finish();
  writeTone(spool("a"), Law::Mu, 1000, kT0Us, 50, 0);
  const auto result = renderWav({{{spool("x")}, {spool("a")}}, output(), std::nullopt});
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->sample_rate, 8000U);
  ASSERT_EQ(result->streams.size(), 2U);
  EXPECT_EQ(result->streams[0].codec, "SILK");
  EXPECT_NE(result->streams[0].error.find("SILK"), std::string::npos);
  EXPECT_EQ(result->streams[0].packets, 0U);
  EXPECT_EQ(result->streams[0].first_packet_ms, kT0Ms);
  EXPECT_EQ(result->streams[1].error, "");
  EXPECT_EQ(result->streams[1].packets, 50U);
  const auto wav = readWav(output());
  ASSERT_TRUE(wav);
  ASSERT_EQ(wav->frameCount(), 8000U);
  EXPECT_TRUE(wav->silent(0, 0, 8000));
  EXPECT_NEAR(wav->zeroCrossings(1, 0, 8000), 2000, 4);
}

TEST_F(WavRendererTest, MissingSpoolIsASilentChannelOfTheSessionLength) {
  writeTone(spool("a"), Law::Mu, 1000, kT0Us, 10, 0);
  // Never created: the stream received no packet (and neither did any other stream of the
  // session that would have created the directory).
  const auto never_written = dir_.path() / "session" / "b.spool";
  const auto result =
      renderWav({{{spool("a")}, {never_written}}, output(), std::nullopt, kT0Ms + 500});
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->channels, 2U);
  EXPECT_EQ(result->duration_ms, 500);
  ASSERT_EQ(result->streams.size(), 2U);
  EXPECT_EQ(result->streams[1].codec, "");
  EXPECT_EQ(result->streams[1].packets, 0U);
  EXPECT_FALSE(result->streams[1].first_packet_ms);
  const auto wav = readWav(output());
  ASSERT_TRUE(wav);
  ASSERT_EQ(wav->frameCount(), 4000U);
  EXPECT_GT(wav->energy(0, 0, 1600), 1e7);
  EXPECT_TRUE(wav->silent(1, 0, 4000));
  EXPECT_FALSE(std::filesystem::exists(never_written.parent_path()));
}

TEST_F(WavRendererTest, OnlyMissingSpoolsGiveASilentFileUntilTheSessionEnd) {
  const auto result = renderWav({{{spool("x")}, {spool("y")}}, output(), kT0Ms, kT0Ms + 250});
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->start_epoch_ms, kT0Ms);
  EXPECT_EQ(result->duration_ms, 250);
  const auto wav = readWav(output());
  ASSERT_TRUE(wav);
  ASSERT_EQ(wav->frameCount(), 2000U);
  EXPECT_TRUE(wav->silent(0, 0, 2000));
  EXPECT_TRUE(wav->silent(1, 0, 2000));
}

TEST_F(WavRendererTest, CreatesTheMissingOutputDirectory) {
  writeTone(spool("a"), Law::Mu, 1000, kT0Us, 10, 0);
  const auto nested = dir_.path() / "recordings" / "rec-1" / "out.wav";
  const auto result = renderWav({{{spool("a")}}, nested, std::nullopt});
  ASSERT_TRUE(result) << result.error().message;
  const auto wav = readWav(nested);
  ASSERT_TRUE(wav);
  EXPECT_EQ(wav->frameCount(), 1600U);
  for (const auto& entry : std::filesystem::directory_iterator(nested.parent_path())) {
    EXPECT_EQ(entry.path().filename(), "out.wav");
  }
}

TEST_F(WavRendererTest, RejectsEmptyRequestUnreadableSpoolAndUnwritableOutput) {
  EXPECT_FALSE(renderWav({{}, output(), std::nullopt}));
  writeTone(spool("a"), Law::Mu, 1000, kT0Us, 10, 0);
  // A spool that exists but cannot be read (a directory: read(2) fails with EISDIR).
  std::filesystem::create_directory(spool("dir.spool"));
  const auto unreadable = renderWav({{{spool("a")}, {spool("dir.spool")}}, output(), std::nullopt});
  ASSERT_FALSE(unreadable);
  EXPECT_NE(unreadable.error().message.find("dir.spool"), std::string::npos);
  // Open fails for another reason than "does not exist" (a path component is a file).
  const auto not_a_dir = renderWav({{{spool("a") / "b.spool"}}, output(), std::nullopt});
  ASSERT_FALSE(not_a_dir);
  EXPECT_NE(not_a_dir.error().message.find("b.spool"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(output()));
  // The output's directory cannot be created under a regular file.
  const auto blocked = renderWav({{{spool("a")}}, spool("a") / "out.wav", std::nullopt});
  ASSERT_FALSE(blocked);
}

}  // namespace
}  // namespace siprecd::recording
