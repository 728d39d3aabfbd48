#include "recording/speex_resampler.hpp"

#include <algorithm>
#include <vector>

#include <gtest/gtest.h>

namespace siprecd::recording {
namespace {

/// Resamples `input` followed by enough silence to flush the filter.
std::vector<int16_t> resampleAll(SpeexResampler& resampler, std::vector<int16_t> input,
                                 std::size_t output_size) {
  input.resize(input.size() + resampler.inputLatency() * 2 + 64, 0);
  std::vector<int16_t> output(output_size);
  std::size_t consumed = 0;
  std::size_t produced = 0;
  while (produced < output.size() && consumed < input.size()) {
    const auto step = resampler.process(std::span<const int16_t>(input).subspan(consumed),
                                        std::span<int16_t>(output).subspan(produced));
    consumed += step.consumed;
    produced += step.produced;
  }
  output.resize(produced);
  return output;
}

TEST(SpeexResampler, KeepsAnImpulseAtTheSameTime) {
  auto resampler = SpeexResampler::create(8000, 48000);
  ASSERT_TRUE(resampler) << resampler.error().message;
  std::vector<int16_t> input(400, 0);
  input[100] = 10000;
  const auto output = resampleAll(*resampler, input, 2400);
  ASSERT_EQ(output.size(), 2400U);
  const auto peak = std::max_element(output.begin(), output.end()) - output.begin();
  EXPECT_EQ(peak, 600);  // input sample 100 at 8 kHz = output sample 600 at 48 kHz
}

TEST(SpeexResampler, Downsamples48To16kHzAligned) {
  auto resampler = SpeexResampler::create(48000, 16000);
  ASSERT_TRUE(resampler) << resampler.error().message;
  std::vector<int16_t> input(4800, 0);
  input[3000] = 20000;
  const auto output = resampleAll(*resampler, input, 1600);
  const auto peak = std::max_element(output.begin(), output.end()) - output.begin();
  EXPECT_EQ(peak, 1000);
}

TEST(SpeexResampler, RefusesARateOfZero) {
  EXPECT_FALSE(SpeexResampler::create(0, 8000));
}

}  // namespace
}  // namespace siprecd::recording
