#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "base/result.hpp"

struct SpeexResamplerState_;

namespace siprecd::recording {

/// What one SpeexResampler::process() call did.
struct ResampleStep {
  std::size_t consumed = 0;  ///< input samples taken
  std::size_t produced = 0;  ///< output samples written
};

/// Mono 16-bit sample-rate conversion by speexdsp (a windowed-sinc polyphase filter).
/// Started with speex_resampler_skip_zeros(): output sample k lies at input time
/// k * in / out exactly, with no leading filter delay; the last input samples come out
/// only once about inputLatency() further samples (e.g. silence) follow them. One thread
/// at a time; move-only.
class SpeexResampler {
 public:
  /// Speex quality 0..10; 5 is speexdsp's "desktop" setting (passband ~0.9 × Nyquist).
  static constexpr int kQuality = 5;

  /// A resampler from `input_rate_hz` to `output_rate_hz` (both > 0). Fails when speexdsp
  /// refuses the rates.
  [[nodiscard]] static Result<SpeexResampler> create(uint32_t input_rate_hz,
                                                     uint32_t output_rate_hz);

  /// Converts as much of `input` as fits into `output`.
  ResampleStep process(std::span<const int16_t> input, std::span<int16_t> output);

  /// Input samples by which the output trails the input (half the filter).
  std::size_t inputLatency() const;

 private:
  struct Destroy {
    void operator()(SpeexResamplerState_* state) const;
  };
  explicit SpeexResampler(SpeexResamplerState_* state) : state_(state) {}

  std::unique_ptr<SpeexResamplerState_, Destroy> state_;
};

}  // namespace siprecd::recording
