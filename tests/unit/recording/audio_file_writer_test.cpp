#include "recording/audio_file_writer.hpp"

#include <cmath>
#include <cstdio>
#include <memory>
#include <numbers>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "recording_test_support.hpp"

namespace siprecd::recording {
namespace {

using testing::readAudio;
using testing::TempDir;

/// `seconds` of stereo: 1 kHz on the left, 440 Hz on the right, amplitude 8000.
std::vector<int16_t> stereoTones(uint32_t rate, double seconds) {
  const auto frames = static_cast<std::size_t>(rate * seconds);
  std::vector<int16_t> pcm(frames * 2);
  for (std::size_t i = 0; i < frames; ++i) {
    const double t = static_cast<double>(i) / rate;
    pcm[2 * i] =
        static_cast<int16_t>(std::lround(8000 * std::sin(2 * std::numbers::pi * 1000 * t)));
    pcm[2 * i + 1] =
        static_cast<int16_t>(std::lround(8000 * std::sin(2 * std::numbers::pi * 440 * t)));
  }
  return pcm;
}

Result<uint64_t> writeFile(const std::filesystem::path& path, AudioFormat format, uint32_t rate,
                           const std::vector<int16_t>& pcm) {
  AudioFileSpec spec;
  spec.format = format;
  spec.sample_rate_hz = rate;
  spec.channels = 2;
  spec.frames = pcm.size() / 2;
  auto writer = AudioFileWriter::create(path, spec);
  if (!writer) {
    return tl::unexpected(writer.error());
  }
  // In several blocks, as the renderer does.
  const std::span<const int16_t> all(pcm);
  for (std::size_t at = 0; at < all.size(); at += 2 * 4096) {
    auto written = writer->write(all.subspan(at, std::min<std::size_t>(2 * 4096, all.size() - at)));
    if (!written) {
      return tl::unexpected(written.error());
    }
  }
  return writer->commit(false);
}

/// ffprobe's view of a file: {"streams": [...], "format": {...}}; null when it fails.
nlohmann::json ffprobe(const std::filesystem::path& path) {
  const std::string command =
      "ffprobe -v error -show_entries "
      "stream=codec_name,channels,sample_rate:format=duration "
      "-of json '" +
      path.string() + "' 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) {
    return nullptr;
  }
  std::string text;
  std::array<char, 4096> buffer{};
  std::size_t got = 0;
  while ((got = fread(buffer.data(), 1, buffer.size(), pipe.get())) > 0) {
    text.append(buffer.data(), got);
  }
  return nlohmann::json::parse(text, nullptr, false);
}

struct FormatCase {
  AudioFormat format;
  uint32_t rate;
  int sndfile_major;
  int sndfile_sub;  ///< 0: not checked
  const char* ffprobe_codec;
  double frame_tolerance;              ///< of the frame count, for lossy codecs' padding
  double duration_tolerance_s = 0.01;  ///< of ffprobe's duration (an estimate for MP3)
};

class AudioFileWriterFormats : public ::testing::TestWithParam<FormatCase> {};

TEST_P(AudioFileWriterFormats, WritesAFileThatReadsBackWithItsChannelsRateAndDuration) {
  const FormatCase& c = GetParam();
  TempDir dir;
  const auto path = dir.path() / ("out." + std::string(fileExtension(c.format)));
  const auto pcm = stereoTones(c.rate, 2.0);
  const auto bytes = writeFile(path, c.format, c.rate, pcm);
  ASSERT_TRUE(bytes) << bytes.error().message;
  EXPECT_EQ(*bytes, std::filesystem::file_size(path));

  const auto audio = readAudio(path);
  ASSERT_TRUE(audio);
  EXPECT_EQ(audio->format & SF_FORMAT_TYPEMASK, c.sndfile_major);
  if (c.sndfile_sub != 0) {
    EXPECT_EQ(audio->format & SF_FORMAT_SUBMASK, c.sndfile_sub);
  }
  EXPECT_EQ(audio->pcm.channels, 2);
  EXPECT_EQ(audio->pcm.sample_rate, static_cast<int>(c.rate));
  const double frames = static_cast<double>(audio->pcm.frameCount());
  EXPECT_NEAR(frames, 2.0 * c.rate, 2.0 * c.rate * c.frame_tolerance);
  // The tones survive: 2000 and 880 sign changes per second (over the middle second).
  EXPECT_NEAR(audio->pcm.zeroCrossings(0, c.rate / 2, c.rate * 3 / 2), 2000, 40);
  EXPECT_NEAR(audio->pcm.zeroCrossings(1, c.rate / 2, c.rate * 3 / 2), 880, 20);

  const nlohmann::json probe = ffprobe(path);
  ASSERT_TRUE(probe.is_object()) << "ffprobe failed on " << path;
  ASSERT_EQ(probe["streams"].size(), 1U);
  EXPECT_EQ(probe["streams"][0]["codec_name"], c.ffprobe_codec);
  EXPECT_EQ(probe["streams"][0]["channels"], 2);
  // Ogg Opus always decodes at 48 kHz (RFC 7845 §5.1); the input rate is in the header.
  EXPECT_EQ(probe["streams"][0]["sample_rate"],
            std::to_string(c.format == AudioFormat::Opus ? 48000 : c.rate));
  EXPECT_NEAR(std::stod(probe["format"]["duration"].get<std::string>()), 2.0,
              c.duration_tolerance_s);
}

INSTANTIATE_TEST_SUITE_P(
    Formats, AudioFileWriterFormats,
    ::testing::Values(
        FormatCase{AudioFormat::Wav, 8000, SF_FORMAT_WAV, SF_FORMAT_PCM_16, "pcm_s16le", 0},
        FormatCase{AudioFormat::Flac, 16000, SF_FORMAT_FLAC, SF_FORMAT_PCM_16, "flac", 0},
        FormatCase{AudioFormat::Mp3, 8000, SF_FORMAT_MPEG, 0, "mp3", 0.05, 0.25},
        FormatCase{AudioFormat::Mp3, 48000, SF_FORMAT_MPEG, 0, "mp3", 0.05, 0.25},
        FormatCase{AudioFormat::Opus, 8000, SF_FORMAT_OGG, SF_FORMAT_OPUS, "opus", 0.05, 0.05},
        FormatCase{AudioFormat::Opus, 48000, SF_FORMAT_OGG, SF_FORMAT_OPUS, "opus", 0.05, 0.05}),
    [](const ::testing::TestParamInfo<FormatCase>& param_info) {
      return std::string(toString(param_info.param.format)) + std::to_string(param_info.param.rate);
    });

TEST(AudioFileWriter, LeavesNothingBehindWithoutCommit) {
  TempDir dir;
  const auto path = dir.path() / "sub" / "out.wav";
  {
    AudioFileSpec spec;
    auto writer = AudioFileWriter::create(path, spec);
    ASSERT_TRUE(writer) << writer.error().message;
    const std::vector<int16_t> pcm(800, 1);
    ASSERT_TRUE(writer->write(pcm));
    EXPECT_FALSE(std::filesystem::exists(path));
  }
  EXPECT_TRUE(std::filesystem::is_directory(path.parent_path()));
  EXPECT_TRUE(std::filesystem::is_empty(path.parent_path()));
}

TEST(AudioFileWriter, RefusesRatesTheFormatCannotCarry) {
  TempDir dir;
  AudioFileSpec spec;
  spec.format = AudioFormat::Opus;
  spec.sample_rate_hz = 44100;
  const auto writer = AudioFileWriter::create(dir.path() / "out.opus", spec);
  ASSERT_FALSE(writer);
  EXPECT_EQ(writer.error().code, 400);
  EXPECT_NE(writer.error().message.find("44100"), std::string::npos);
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(AudioFileWriter, ReplacesAnExistingOutput) {
  TempDir dir;
  const auto path = dir.path() / "out.flac";
  std::ofstream(path) << "old";
  const auto bytes = writeFile(path, AudioFormat::Flac, 8000, stereoTones(8000, 0.5));
  ASSERT_TRUE(bytes) << bytes.error().message;
  const auto audio = readAudio(path);
  ASSERT_TRUE(audio);
  EXPECT_EQ(audio->pcm.frameCount(), 4000U);
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().filename(), "out.flac");
  }
}

}  // namespace
}  // namespace siprecd::recording
