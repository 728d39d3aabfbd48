#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <optional>
#include <string>
#include <vector>

#include <sndfile.h>
#include <spandsp.h>

#include "base/random.hpp"
#include "media/spool_writer.hpp"
#include "support/temp_dir.hpp"

namespace siprecd::recording::testing {

using ::siprecd::test_support::TempDir;

/// Writes a spool the way the media engine does.
class SpoolBuilder {
 public:
  SpoolBuilder(const std::filesystem::path& path, const std::string& codec, uint8_t payload_type,
               uint32_t clock_rate = 8000) {
    media::SpoolHeader header;
    header.recording_id = "rec";
    header.codec_name = codec;
    header.clock_rate = clock_rate;
    header.payload_type = payload_type;
    header.telephone_event_pt = 101;
    writer_.emplace(*media::SpoolWriter::create(path, header, 16 * 1024));
  }

  SpoolBuilder& add(int64_t arrival_epoch_us, uint16_t seq, uint32_t timestamp, uint32_t ssrc,
                    uint8_t payload_type, const std::vector<std::byte>& payload,
                    bool marker = false) {
    media::SpoolRecord record;
    record.arrival_epoch_us = arrival_epoch_us;
    record.seq = media::SeqNum(seq);
    record.timestamp = media::RtpTimestamp(timestamp);
    record.ssrc = media::Ssrc(ssrc);
    record.payload_type = payload_type;
    record.payload = payload;
    record.marker = marker;
    writer_->append(record);
    return *this;
  }

  /// An RTCP sender report record (media::SpoolRecordKind::SenderReport).
  SpoolBuilder& addSenderReport(int64_t arrival_epoch_us, uint32_t ssrc, uint32_t rtp_timestamp,
                                uint64_t ntp_timestamp) {
    std::vector<std::byte> ntp(8);
    for (std::size_t i = 0; i < 8; ++i) {
      ntp[i] = static_cast<std::byte>(ntp_timestamp >> (56U - 8U * i));
    }
    media::SpoolRecord record;
    record.kind = media::SpoolRecordKind::SenderReport;
    record.arrival_epoch_us = arrival_epoch_us;
    record.timestamp = media::RtpTimestamp(rtp_timestamp);
    record.ssrc = media::Ssrc(ssrc);
    record.payload = ntp;
    writer_->append(record);
    return *this;
  }

  /// Finishes the writer; with no record added no file is created (see SpoolWriter).
  void finish() { (void)writer_->finish(); }

 private:
  std::optional<media::SpoolWriter> writer_;
};

/// Writes a spool holding only its header, as left by a crash between the writer's header
/// write and its first records.
inline void writeHeaderOnlySpool(const std::filesystem::path& path, const std::string& codec,
                                 uint8_t payload_type) {
  media::SpoolHeader header;
  header.recording_id = "rec";
  header.codec_name = codec;
  header.clock_rate = 8000;
  header.payload_type = payload_type;
  const auto encoded = media::encodeSpoolHeader(header);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(encoded->data()),
            static_cast<std::streamsize>(encoded->size()));
}

enum class Law { Mu, A };

/// `count` G.711 codes of a tone at `frequency_hz`, samples `first`.. of a sine (8 kHz).
inline std::vector<std::byte> tone(Law law, double frequency_hz, int64_t first, std::size_t count,
                                   double amplitude = 8000.0) {
  std::vector<std::byte> codes(count);
  for (std::size_t i = 0; i < count; ++i) {
    const double t = static_cast<double>(first + static_cast<int64_t>(i)) / 8000.0;
    const auto sample = static_cast<int16_t>(
        std::lround(amplitude * std::cos(2.0 * std::numbers::pi * frequency_hz * t)));
    codes[i] =
        static_cast<std::byte>(law == Law::Mu ? linear_to_ulaw(sample) : linear_to_alaw(sample));
  }
  return codes;
}

/// A WAV file read back whole.
struct Wav {
  int sample_rate = 0;
  int channels = 0;
  std::vector<int16_t> frames;  ///< interleaved

  std::size_t frameCount() const { return channels == 0 ? 0 : frames.size() / channels; }
  int16_t at(std::size_t frame, int channel) const {
    return frames[frame * static_cast<std::size_t>(channels) + static_cast<std::size_t>(channel)];
  }
  /// Mean square of a channel over frames [from, to).
  double energy(int channel, std::size_t from, std::size_t to) const {
    double sum = 0;
    for (std::size_t i = from; i < to; ++i) {
      sum += static_cast<double>(at(i, channel)) * at(i, channel);
    }
    return to > from ? sum / static_cast<double>(to - from) : 0.0;
  }
  /// Sign changes of a channel over frames [from, to).
  int zeroCrossings(int channel, std::size_t from, std::size_t to) const {
    int crossings = 0;
    for (std::size_t i = from + 1; i < to; ++i) {
      if ((at(i - 1, channel) < 0) != (at(i, channel) < 0)) {
        ++crossings;
      }
    }
    return crossings;
  }
  bool silent(int channel, std::size_t from, std::size_t to) const {
    for (std::size_t i = from; i < to; ++i) {
      if (at(i, channel) != 0) {
        return false;
      }
    }
    return true;
  }
};

inline std::optional<Wav> readWav(const std::filesystem::path& path) {
  SF_INFO info{};
  SNDFILE* file = sf_open(path.c_str(), SFM_READ, &info);
  if (file == nullptr) {
    return std::nullopt;
  }
  Wav wav;
  wav.sample_rate = info.samplerate;
  wav.channels = info.channels;
  wav.frames.resize(static_cast<std::size_t>(info.frames * info.channels));
  sf_readf_short(file, wav.frames.data(), info.frames);
  sf_close(file);
  if ((info.format & SF_FORMAT_TYPEMASK) != SF_FORMAT_WAV ||
      (info.format & SF_FORMAT_SUBMASK) != SF_FORMAT_PCM_16) {
    return std::nullopt;
  }
  return wav;
}

/// Any audio file libsndfile reads, decoded whole to 16-bit PCM.
struct Audio {
  int format = 0;  ///< SF_INFO::format
  Wav pcm;
};

inline std::optional<Audio> readAudio(const std::filesystem::path& path) {
  SF_INFO info{};
  SNDFILE* file = sf_open(path.c_str(), SFM_READ, &info);
  if (file == nullptr) {
    return std::nullopt;
  }
  Audio audio;
  audio.format = info.format;
  audio.pcm.sample_rate = info.samplerate;
  audio.pcm.channels = info.channels;
  audio.pcm.frames.resize(static_cast<std::size_t>(info.frames * info.channels));
  const sf_count_t read = sf_readf_short(file, audio.pcm.frames.data(), info.frames);
  sf_close(file);
  audio.pcm.frames.resize(static_cast<std::size_t>(read * info.channels));
  return audio;
}

}  // namespace siprecd::recording::testing
