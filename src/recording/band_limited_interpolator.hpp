#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace siprecd::recording {

/// Upsamples a stream's PCM to the recording's output rate by band-limited interpolation
/// (a Hann-windowed sinc, kZeroCrossings input samples each side, tabulated and linearly
/// interpolated). Works for any ratio out >= in (8k → 16k/48k, 16k → 48k, 44.1k → 48k);
/// output sample k lies exactly at input time k * in / out, so input and output stay
/// aligned with no filter delay and input samples that coincide with output samples pass
/// through unchanged. The response is flat to ~0.9 × the input Nyquist frequency.
/// Weights are precomputed per distinct fractional position (out / gcd(in, out) of them).
/// Immutable after construction; thread-safe for const use.
class BandLimitedInterpolator {
 public:
  /// Input samples used on each side of an output sample.
  static constexpr int64_t kZeroCrossings = 8;

  /// `in_rate_hz` > 0, `out_rate_hz` >= `in_rate_hz`.
  BandLimitedInterpolator(uint32_t in_rate_hz, uint32_t out_rate_hz);

  /// The first input index output sample `k` depends on (may be negative).
  int64_t firstInputFor(int64_t k) const;
  /// One past the last input index output sample `k` depends on.
  int64_t endInputFor(int64_t k) const;

  /// Writes output samples [first_out, first_out + count) to dest[0], dest[stride], ...
  /// `input` holds input samples from index `input_base`; indices outside it read as 0
  /// (callers cover [firstInputFor(first_out), endInputFor(first_out + count - 1)) except
  /// where the signal is silent by definition, e.g. before the timeline start).
  void interpolate(int64_t first_out, std::size_t count, int64_t input_base,
                   std::span<const int16_t> input, int16_t* dest, std::size_t stride) const;

 private:
  uint32_t in_rate_hz_;
  uint32_t out_rate_hz_;
  uint32_t phase_step_;          ///< gcd(in, out)
  std::vector<double> weights_;  ///< [phase][tap], 2 * kZeroCrossings taps per phase
};

}  // namespace siprecd::recording
