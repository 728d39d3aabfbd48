#include "media/codecs/opus_codec.hpp"

#include <algorithm>
#include <string>

#include <opus/opus.h>

namespace siprecd::media::codecs {

namespace {
constexpr int kSampleRateHz = 48000;
constexpr int kChannels = 1;
constexpr std::size_t kMaxFrameSamples = 5760;  // 120 ms, the longest Opus packet
constexpr std::size_t kPlcStepSamples = 120;    // PLC lengths are multiples of 2.5 ms
}  // namespace

void OpusCodec::DecoderDeleter::operator()(OpusDecoder* decoder) const {
  opus_decoder_destroy(decoder);
}

std::unique_ptr<OpusCodec> OpusCodec::create() {
  int error = OPUS_OK;
  DecoderPtr decoder(opus_decoder_create(kSampleRateHz, kChannels, &error));
  if (!decoder || error != OPUS_OK) {
    return nullptr;
  }
  return std::make_unique<OpusCodec>(Key{}, std::move(decoder));
}

OpusCodec::OpusCodec(Key, DecoderPtr decoder) : decoder_(std::move(decoder)) {}

Result<std::size_t> OpusCodec::decode(std::span<const std::byte> payload,
                                      std::vector<int16_t>& out) {
  if (payload.empty() || payload.size() > kMaxPayloadBytes) {
    return fail("opus payload size " + std::to_string(payload.size()) + " out of range 1.." +
                std::to_string(kMaxPayloadBytes));
  }
  const auto* data = reinterpret_cast<const unsigned char*>(payload.data());
  const auto length = static_cast<opus_int32>(payload.size());
  const int samples = opus_decoder_get_nb_samples(decoder_.get(), data, length);
  if (samples <= 0 || static_cast<std::size_t>(samples) > kMaxFrameSamples) {
    return fail(std::string("opus packet invalid: ") +
                (samples < 0 ? opus_strerror(samples) : "bad frame count"));
  }
  const std::size_t start = out.size();
  out.resize(start + static_cast<std::size_t>(samples));
  const int decoded = opus_decode(decoder_.get(), data, length, out.data() + start, samples, 0);
  if (decoded < 0) {
    out.resize(start);
    return fail(std::string("opus packet invalid: ") + opus_strerror(decoded));
  }
  out.resize(start + static_cast<std::size_t>(decoded));
  return static_cast<std::size_t>(decoded);
}

std::size_t OpusCodec::conceal(std::size_t samples_per_channel, std::vector<int16_t>& out) {
  const std::size_t start = out.size();
  out.resize(start + samples_per_channel, 0);
  std::size_t done = 0;
  while (samples_per_channel - done >= kPlcStepSamples) {
    const std::size_t step = std::min(
        kMaxFrameSamples, (samples_per_channel - done) / kPlcStepSamples * kPlcStepSamples);
    const int decoded = opus_decode(decoder_.get(), nullptr, 0, out.data() + start + done,
                                    static_cast<int>(step), 0);
    if (decoded <= 0) {
      break;  // the rest stays silence
    }
    done += static_cast<std::size_t>(decoded);
  }
  return samples_per_channel;
}

}  // namespace siprecd::media::codecs
