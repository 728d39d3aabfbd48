#include "recording/speex_resampler.hpp"

#include <algorithm>
#include <limits>
#include <string>

#include <speex/speex_resampler.h>

namespace siprecd::recording {

void SpeexResampler::Destroy::operator()(SpeexResamplerState_* state) const {
  speex_resampler_destroy(state);
}

Result<SpeexResampler> SpeexResampler::create(uint32_t input_rate_hz, uint32_t output_rate_hz) {
  int error = RESAMPLER_ERR_SUCCESS;
  SpeexResamplerState* state =
      speex_resampler_init(1, input_rate_hz, output_rate_hz, kQuality, &error);
  if (state == nullptr || error != RESAMPLER_ERR_SUCCESS) {
    if (state != nullptr) {
      speex_resampler_destroy(state);
    }
    return fail("cannot resample " + std::to_string(input_rate_hz) + " Hz to " +
                std::to_string(output_rate_hz) + " Hz: " + speex_resampler_strerror(error));
  }
  speex_resampler_skip_zeros(state);
  return SpeexResampler(state);
}

ResampleStep SpeexResampler::process(std::span<const int16_t> input, std::span<int16_t> output) {
  constexpr std::size_t kMax = std::numeric_limits<spx_uint32_t>::max();
  auto input_length = static_cast<spx_uint32_t>(std::min(input.size(), kMax));
  auto output_length = static_cast<spx_uint32_t>(std::min(output.size(), kMax));
  speex_resampler_process_int(state_.get(), 0, input.data(), &input_length, output.data(),
                              &output_length);
  return ResampleStep{input_length, output_length};
}

std::size_t SpeexResampler::inputLatency() const {
  return static_cast<std::size_t>(speex_resampler_get_input_latency(state_.get()));
}

}  // namespace siprecd::recording
