#pragma once

// Test helpers for the codec tests: a sine generator and a dominant-frequency estimate.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <span>
#include <vector>

namespace siprecd::media::codecs::testing {

/// `samples` of a sine at `frequency_hz` with peak `amplitude`, sampled at `rate_hz`.
inline std::vector<int16_t> makeSine(double frequency_hz, uint32_t rate_hz, std::size_t samples,
                                     double amplitude = 8000.0) {
  std::vector<int16_t> pcm(samples);
  for (std::size_t i = 0; i < samples; ++i) {
    const double phase = 2.0 * std::numbers::pi * frequency_hz * static_cast<double>(i) / rate_hz;
    pcm[i] = static_cast<int16_t>(std::lround(amplitude * std::sin(phase)));
  }
  return pcm;
}

/// Signal power at one frequency (Goertzel).
inline double powerAt(std::span<const int16_t> pcm, double frequency_hz, uint32_t rate_hz) {
  const double coefficient = 2.0 * std::cos(2.0 * std::numbers::pi * frequency_hz / rate_hz);
  double s1 = 0.0;
  double s2 = 0.0;
  for (const int16_t sample : pcm) {
    const double s0 = sample + coefficient * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - coefficient * s1 * s2;
}

/// The frequency (10 Hz grid, 50 Hz .. Nyquist) with the most power in `pcm`.
inline double dominantFrequencyHz(std::span<const int16_t> pcm, uint32_t rate_hz) {
  double best_hz = 0.0;
  double best_power = -1.0;
  for (double hz = 50.0; hz < rate_hz / 2.0; hz += 10.0) {
    const double power = powerAt(pcm, hz, rate_hz);
    if (power > best_power) {
      best_power = power;
      best_hz = hz;
    }
  }
  return best_hz;
}

/// Root mean square of `pcm` (0 when empty).
inline double rms(std::span<const int16_t> pcm) {
  if (pcm.empty()) {
    return 0.0;
  }
  double sum = 0.0;
  for (const int16_t sample : pcm) {
    sum += static_cast<double>(sample) * sample;
  }
  return std::sqrt(sum / static_cast<double>(pcm.size()));
}

/// The bytes of `values` as a payload.
inline std::vector<std::byte> bytes(std::initializer_list<int> values) {
  std::vector<std::byte> out;
  for (const int value : values) {
    out.push_back(static_cast<std::byte>(value));
  }
  return out;
}

}  // namespace siprecd::media::codecs::testing
