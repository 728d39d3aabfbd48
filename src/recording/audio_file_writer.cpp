#include "recording/audio_file_writer.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <sndfile.h>
#include <unistd.h>

#include "base/random.hpp"

namespace siprecd::recording {

namespace {

std::string errnoText() {
  return std::strerror(errno);
}

int sndfileFormat(AudioFormat format, bool rf64) {
  switch (format) {
    case AudioFormat::Wav:
      return (rf64 ? SF_FORMAT_RF64 : SF_FORMAT_WAV) | SF_FORMAT_PCM_16;
    case AudioFormat::Flac:
      return SF_FORMAT_FLAC | SF_FORMAT_PCM_16;
    case AudioFormat::Mp3:
      return SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III;
    case AudioFormat::Opus:
      return SF_FORMAT_OGG | SF_FORMAT_OPUS;
  }
  return 0;
}

/// Best effort: a failure only weakens durability, the file itself is complete.
void syncDirectory(const std::filesystem::path& directory) {
  UniqueFd directory_fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (directory_fd.valid()) {
    ::fsync(directory_fd.get());
  }
}

}  // namespace

void AudioFileWriter::Close::operator()(sf_private_tag* file) const {
  sf_close(file);
}

Result<AudioFileWriter> AudioFileWriter::create(const std::filesystem::path& output,
                                                const AudioFileSpec& spec) {
  if (spec.channels == 0) {
    return fail("cannot write audio with no channel");
  }
  if (!sampleRateSupported(spec.format, spec.sample_rate_hz)) {
    return fail(std::string(toString(spec.format)) + " does not support a sample rate of " +
                    std::to_string(spec.sample_rate_hz) + " Hz",
                400);
  }
  AudioFileWriter writer;
  writer.output_ = output;
  writer.channels_ = spec.channels;
  writer.mp3_ = spec.format == AudioFormat::Mp3;
  const std::filesystem::path directory =
      output.has_parent_path() ? output.parent_path() : std::filesystem::path(".");
  std::error_code error;
  writer.created_directory_ = std::filesystem::create_directories(directory, error);
  if (error) {
    return fail("cannot create directory " + directory.string() + ": " + error.message());
  }
  std::filesystem::path temp = output;
  temp += ".tmp-" + randomToken(8);
  writer.fd_.reset(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640));
  if (!writer.fd_.valid()) {
    return fail("cannot create " + temp.string() + ": " + errnoText());
  }
  writer.temp_ = temp;
  const uint64_t data_bytes = spec.frames * spec.channels * sizeof(int16_t);
  writer.rf64_ = spec.format == AudioFormat::Wav && data_bytes > spec.rf64_threshold_bytes;
  SF_INFO info{};
  info.samplerate = static_cast<int>(spec.sample_rate_hz);
  info.channels = static_cast<int>(spec.channels);
  info.format = sndfileFormat(spec.format, writer.rf64_);
  writer.file_.reset(sf_open_fd(writer.fd_.get(), SFM_WRITE, &info, SF_FALSE));
  if (!writer.file_) {
    return fail("cannot start " + std::string(toString(spec.format)) + " file " + temp.string() +
                ": " + sf_strerror(nullptr));
  }
  return writer;
}

AudioFileWriter::AudioFileWriter(AudioFileWriter&& other) noexcept
    : output_(std::move(other.output_)),
      temp_(std::exchange(other.temp_, {})),
      fd_(std::move(other.fd_)),
      file_(std::move(other.file_)),
      channels_(other.channels_),
      rf64_(other.rf64_),
      mp3_(other.mp3_),
      created_directory_(other.created_directory_) {}

AudioFileWriter::~AudioFileWriter() {
  file_.reset();
  fd_.reset();
  if (!temp_.empty()) {
    std::error_code ignored;
    std::filesystem::remove(temp_, ignored);
  }
}

Result<void> AudioFileWriter::write(std::span<const int16_t> frames) {
  const auto count = static_cast<sf_count_t>(frames.size() / channels_);
  if (count == 0) {
    return {};
  }
  sf_count_t written = 0;
  if (mp3_) {
    // libsndfile 1.2.0 garbles 16-bit stereo MP3 writes (mpeg_l3_encode_write_short_stereo
    // copies half the bytes; libsndfile PR #1106): MP3 gets floats, which it encodes right.
    floats_.resize(frames.size());
    std::transform(frames.begin(), frames.end(), floats_.begin(),
                   [](int16_t sample) { return static_cast<float>(sample) / 32768.0F; });
    written = sf_writef_float(file_.get(), floats_.data(), count);
  } else {
    written = sf_writef_short(file_.get(), frames.data(), count);
  }
  if (written != count) {
    return fail("cannot write " + temp_.string() + ": " + sf_strerror(file_.get()));
  }
  return {};
}

Result<uint64_t> AudioFileWriter::commit(bool sync_to_disk) {
  if (sf_close(file_.release()) != 0) {
    return fail("cannot finish " + temp_.string());
  }
  if (sync_to_disk && ::fsync(fd_.get()) != 0) {
    return fail("cannot fsync " + temp_.string() + ": " + errnoText());
  }
  fd_.reset();
  std::error_code error;
  const uintmax_t size = std::filesystem::file_size(temp_, error);
  if (error) {
    return fail("cannot stat " + temp_.string() + ": " + error.message());
  }
  std::filesystem::rename(temp_, output_, error);
  if (error) {
    return fail("cannot rename " + temp_.string() + " to " + output_.string() + ": " +
                error.message());
  }
  temp_.clear();
  if (sync_to_disk) {
    const std::filesystem::path directory =
        output_.has_parent_path() ? output_.parent_path() : std::filesystem::path(".");
    syncDirectory(directory);
    if (created_directory_ && directory.has_parent_path()) {
      syncDirectory(directory.parent_path());  // makes the new directory's entry durable
    }
  }
  return static_cast<uint64_t>(size);
}

}  // namespace siprecd::recording
