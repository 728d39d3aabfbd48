#include "recording/audio_format.hpp"

#include <algorithm>
#include <array>
#include <span>
#include <string>

#include "base/strings.hpp"

namespace siprecd::recording {
namespace {

constexpr uint32_t kDefaultOutputRateHz = 8000;
constexpr uint32_t kMinRateHz = 8000;
constexpr uint32_t kMaxRateHz = 192000;

constexpr std::array<uint32_t, 9> kMp3Rates{8000,  11025, 12000, 16000, 22050,
                                            24000, 32000, 44100, 48000};
constexpr std::array<uint32_t, 5> kOpusRates{8000, 12000, 16000, 24000, 48000};

}  // namespace

Result<AudioFormat> parseAudioFormat(std::string_view text) {
  for (const AudioFormat format :
       {AudioFormat::Wav, AudioFormat::Flac, AudioFormat::Mp3, AudioFormat::Opus}) {
    if (iequals(text, toString(format))) {
      return format;
    }
  }
  return fail("format \"" + std::string(text) + "\" is not one of wav, flac, mp3, opus", 400);
}

Result<ChannelLayout> parseChannelLayout(std::string_view text) {
  for (const ChannelLayout layout :
       {ChannelLayout::Stereo, ChannelLayout::Mono, ChannelLayout::Multitrack}) {
    if (iequals(text, toString(layout))) {
      return layout;
    }
  }
  return fail("layout \"" + std::string(text) + "\" is not one of stereo, mono, multitrack", 400);
}

std::string_view toString(AudioFormat format) {
  switch (format) {
    case AudioFormat::Wav:
      return "wav";
    case AudioFormat::Flac:
      return "flac";
    case AudioFormat::Mp3:
      return "mp3";
    case AudioFormat::Opus:
      return "opus";
  }
  return "wav";
}

std::string_view toString(ChannelLayout layout) {
  switch (layout) {
    case ChannelLayout::Stereo:
      return "stereo";
    case ChannelLayout::Mono:
      return "mono";
    case ChannelLayout::Multitrack:
      return "multitrack";
  }
  return "stereo";
}

std::string_view fileExtension(AudioFormat format) {
  return toString(format);
}

std::string_view contentType(AudioFormat format) {
  switch (format) {
    case AudioFormat::Wav:
      return "audio/wav";
    case AudioFormat::Flac:
      return "audio/flac";
    case AudioFormat::Mp3:
      return "audio/mpeg";
    case AudioFormat::Opus:
      return "audio/ogg";
  }
  return "application/octet-stream";
}

bool sampleRateSupported(AudioFormat format, uint32_t rate_hz) {
  switch (format) {
    case AudioFormat::Wav:
    case AudioFormat::Flac:
      return rate_hz >= kMinRateHz && rate_hz <= kMaxRateHz;
    case AudioFormat::Mp3:
      return std::find(kMp3Rates.begin(), kMp3Rates.end(), rate_hz) != kMp3Rates.end();
    case AudioFormat::Opus:
      return std::find(kOpusRates.begin(), kOpusRates.end(), rate_hz) != kOpusRates.end();
  }
  return false;
}

uint32_t defaultSampleRate(AudioFormat format, uint32_t highest_decoded_hz) {
  const uint32_t wanted = std::clamp(
      highest_decoded_hz == 0 ? kDefaultOutputRateHz : highest_decoded_hz, kMinRateHz, kMaxRateHz);
  const auto next = [wanted](std::span<const uint32_t> rates) {
    const auto found = std::lower_bound(rates.begin(), rates.end(), wanted);
    return found == rates.end() ? rates.back() : *found;
  };
  switch (format) {
    case AudioFormat::Wav:
    case AudioFormat::Flac:
      return wanted;
    case AudioFormat::Mp3:
      return next(kMp3Rates);
    case AudioFormat::Opus:
      return next(kOpusRates);
  }
  return wanted;
}

}  // namespace siprecd::recording
