#include "recording/band_limited_interpolator.hpp"

#include <cmath>
#include <numbers>
#include <vector>

#include <gtest/gtest.h>

namespace siprecd::recording {
namespace {

std::vector<int16_t> sine(double frequency_hz, double rate, std::size_t count) {
  std::vector<int16_t> pcm(count);
  for (std::size_t i = 0; i < count; ++i) {
    pcm[i] = static_cast<int16_t>(
        std::lround(10000.0 * std::sin(2.0 * std::numbers::pi * frequency_hz * i / rate)));
  }
  return pcm;
}

TEST(BandLimitedInterpolator, CoincidingSamplesPassThroughUnchanged) {
  const auto input = sine(1000, 8000, 800);
  const BandLimitedInterpolator interpolator(8000, 48000);
  std::vector<int16_t> output(4800);
  interpolator.interpolate(0, output.size(), 0, input, output.data(), 1);
  for (std::size_t i = 0; i < input.size(); ++i) {
    ASSERT_EQ(output[i * 6], input[i]) << i;
  }
}

TEST(BandLimitedInterpolator, UpsampledToneMatchesTheToneAtTheHigherRate) {
  for (const uint32_t in_rate : {8000U, 16000U, 44100U}) {
    const auto input = sine(1000, in_rate, in_rate / 10);
    const auto expected = sine(1000, 48000, 4800);
    const BandLimitedInterpolator interpolator(in_rate, 48000);
    std::vector<int16_t> output(4800);
    interpolator.interpolate(0, output.size(), 0, input, output.data(), 1);
    // Away from the edges (where the input is cut off) the error stays well below 1 %.
    for (std::size_t i = 480; i < 4320; ++i) {
      ASSERT_NEAR(output[i], expected[i], 60) << in_rate << " Hz, sample " << i;
    }
  }
}

TEST(BandLimitedInterpolator, ReportsTheInputWindowOfAnOutputSample) {
  const BandLimitedInterpolator interpolator(8000, 48000);
  EXPECT_EQ(interpolator.firstInputFor(60), 10 - BandLimitedInterpolator::kZeroCrossings + 1);
  EXPECT_EQ(interpolator.endInputFor(60), 10 + BandLimitedInterpolator::kZeroCrossings + 1);
  EXPECT_EQ(interpolator.firstInputFor(0), -BandLimitedInterpolator::kZeroCrossings + 1);
}

}  // namespace
}  // namespace siprecd::recording
