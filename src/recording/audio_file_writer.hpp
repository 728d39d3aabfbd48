#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <vector>

#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "recording/renderer.hpp"

struct sf_private_tag;

namespace siprecd::recording {

/// What to encode: 16-bit PCM frames of `channels` interleaved channels at
/// `sample_rate_hz`; `frames` is how many will be written (it decides WAV vs RF64).
struct AudioFileSpec {
  AudioFormat format = AudioFormat::Wav;
  uint32_t sample_rate_hz = 8000;
  uint32_t channels = 1;
  uint64_t frames = 0;
  /// A WAV whose sample data would exceed this many bytes is written as RF64 (EBU Tech
  /// 3306, 64-bit sizes) instead; tests lower it.
  uint64_t rf64_threshold_bytes = kWavMaxDataBytes;
};

/// Writes an audio file through libsndfile 1.2: WAV PCM 16 (RF64 beyond the threshold),
/// FLAC 16-bit, MP3 (MPEG-1/2 Layer III by LAME, libsndfile's default VBR quality), Ogg
/// Opus (libsndfile's default bit rate). The file is written under a temporary name beside
/// the output (`<output>.tmp-<random>`) and renamed over it by commit(); until then, and
/// when the writer is destroyed without commit, the output is untouched and the temporary
/// file is removed. One thread; move-only. Blocking (worker pool).
class AudioFileWriter {
 public:
  /// Creates the output's directory (with missing ancestors) if needed and starts the
  /// temporary file. Fails, naming the path or the format's constraint, when the directory
  /// or file cannot be created or libsndfile refuses the format (e.g. a sample rate that
  /// MP3 or Opus does not support; see sampleRateSupported()).
  [[nodiscard]] static Result<AudioFileWriter> create(const std::filesystem::path& output,
                                                      const AudioFileSpec& spec);

  AudioFileWriter(AudioFileWriter&& other) noexcept;
  AudioFileWriter& operator=(AudioFileWriter&&) = delete;
  AudioFileWriter(const AudioFileWriter&) = delete;
  AudioFileWriter& operator=(const AudioFileWriter&) = delete;
  ~AudioFileWriter();

  /// Encodes whole frames (interleaved; size a multiple of the channel count).
  [[nodiscard]] Result<void> write(std::span<const int16_t> frames);

  /// Finishes the encoding, fsyncs the file (and then its directory, and the directory's
  /// parent when the directory was created) when `sync_to_disk`, and renames it over the
  /// output. Returns the file's size in bytes. Once.
  [[nodiscard]] Result<uint64_t> commit(bool sync_to_disk);

  /// Whether the WAV is written as RF64.
  bool rf64() const { return rf64_; }

 private:
  struct Close {
    void operator()(sf_private_tag* file) const;
  };
  AudioFileWriter() = default;

  std::filesystem::path output_;
  std::filesystem::path temp_;  ///< empty once renamed (or moved from)
  UniqueFd fd_;
  std::unique_ptr<sf_private_tag, Close> file_;
  uint32_t channels_ = 1;
  bool rf64_ = false;
  bool mp3_ = false;
  std::vector<float> floats_;  ///< MP3 input (see write())
  bool created_directory_ = false;
};

}  // namespace siprecd::recording
