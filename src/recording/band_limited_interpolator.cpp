#include "recording/band_limited_interpolator.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <numeric>

namespace siprecd::recording {

namespace {

constexpr int64_t kTableStepsPerUnit = 512;
constexpr std::size_t kTableSize =
    static_cast<std::size_t>(BandLimitedInterpolator::kZeroCrossings * kTableStepsPerUnit + 2);

/// kernel(t) for t = i / kTableStepsPerUnit, 0 <= t <= kZeroCrossings (0 beyond).
const std::array<double, kTableSize>& kernelTable() {
  static const std::array<double, kTableSize> table = [] {
    std::array<double, kTableSize> values{};
    const auto width = static_cast<double>(BandLimitedInterpolator::kZeroCrossings);
    for (std::size_t i = 0; i + 1 < kTableSize; ++i) {
      const double t = static_cast<double>(i) / static_cast<double>(kTableStepsPerUnit);
      if (t >= width) {
        continue;
      }
      const double sinc = i == 0 ? 1.0 : std::sin(std::numbers::pi * t) / (std::numbers::pi * t);
      const double window = 0.5 + 0.5 * std::cos(std::numbers::pi * t / width);
      values[i] = sinc * window;
    }
    return values;
  }();
  return table;
}

double kernel(double t) {
  const double at = std::fabs(t) * static_cast<double>(kTableStepsPerUnit);
  const auto index = static_cast<std::size_t>(at);
  if (index + 1 >= kTableSize) {
    return 0.0;
  }
  const double weight = at - static_cast<double>(index);
  const auto& table = kernelTable();
  return table[index] + (table[index + 1] - table[index]) * weight;
}

int64_t floorDiv(int64_t value, int64_t divisor) {
  const int64_t quotient = value / divisor;
  return (value % divisor != 0 && value < 0) ? quotient - 1 : quotient;
}

}  // namespace

BandLimitedInterpolator::BandLimitedInterpolator(uint32_t in_rate_hz, uint32_t out_rate_hz)
    : in_rate_hz_(in_rate_hz),
      out_rate_hz_(out_rate_hz),
      phase_step_(std::gcd(in_rate_hz, out_rate_hz)) {
  // The fraction of an output sample's input position takes out / gcd distinct values
  // (6 for 8k → 48k, 160 for 44.1k → 48k): one row of weights per value.
  const std::size_t phases = out_rate_hz_ / phase_step_;
  const std::size_t taps = 2 * static_cast<std::size_t>(kZeroCrossings);
  weights_.resize(phases * taps);
  for (std::size_t phase = 0; phase < phases; ++phase) {
    const double fraction = static_cast<double>(phase * phase_step_) / out_rate_hz_;
    for (std::size_t tap = 0; tap < taps; ++tap) {
      const auto m = static_cast<int64_t>(tap) - kZeroCrossings + 1;
      weights_[phase * taps + tap] = kernel(fraction - static_cast<double>(m));
    }
  }
}

int64_t BandLimitedInterpolator::firstInputFor(int64_t k) const {
  return floorDiv(k * in_rate_hz_, out_rate_hz_) - kZeroCrossings + 1;
}

int64_t BandLimitedInterpolator::endInputFor(int64_t k) const {
  return floorDiv(k * in_rate_hz_, out_rate_hz_) + kZeroCrossings + 1;
}

void BandLimitedInterpolator::interpolate(int64_t first_out, std::size_t count, int64_t input_base,
                                          std::span<const int16_t> input, int16_t* dest,
                                          std::size_t stride) const {
  const auto input_end = input_base + static_cast<int64_t>(input.size());
  const std::size_t taps = 2 * static_cast<std::size_t>(kZeroCrossings);
  for (std::size_t n = 0; n < count; ++n) {
    const int64_t scaled = (first_out + static_cast<int64_t>(n)) * in_rate_hz_;
    const int64_t whole = floorDiv(scaled, out_rate_hz_);
    const auto phase = static_cast<std::size_t>(scaled - whole * out_rate_hz_) / phase_step_;
    const double* weights = weights_.data() + phase * taps;
    const int64_t first = whole - kZeroCrossings + 1;
    double sum = 0;
    for (std::size_t tap = 0; tap < taps; ++tap) {
      const int64_t index = first + static_cast<int64_t>(tap);
      if (index >= input_base && index < input_end) {
        sum += input[static_cast<std::size_t>(index - input_base)] * weights[tap];
      }
    }
    const double clamped = std::clamp(std::round(sum), -32768.0, 32767.0);
    dest[n * stride] = static_cast<int16_t>(clamped);
  }
}

}  // namespace siprecd::recording
