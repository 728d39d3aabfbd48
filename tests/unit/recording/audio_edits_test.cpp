#include "recording/audio_edits.hpp"

#include <gtest/gtest.h>

namespace siprecd::recording {
namespace {

constexpr int64_t kStart = 1'700'000'000'000;

TEST(SampleIndex, IsTheFloorOfTheOffsetTimesTheRate) {
  EXPECT_EQ(sampleIndex(kStart, kStart, 8000), 0);
  EXPECT_EQ(sampleIndex(kStart + 1, kStart, 8000), 8);
  EXPECT_EQ(sampleIndex(kStart + 1, kStart, 44100), 44);
  EXPECT_EQ(sampleIndex(kStart + 3, kStart, 44100), 132);
  EXPECT_EQ(sampleIndex(kStart + 1001, kStart, 44100), 44144);
  EXPECT_EQ(sampleIndex(kStart - 1, kStart, 44100), -45);
  EXPECT_EQ(sampleIndex(kStart + 7, kStart, 11025), 77);  // 77.175
  EXPECT_EQ(sampleIndex(INT64_MAX, kStart, 48000), (int64_t{1} << 40) * 48);
}

TEST(SampleRange, ClampsToTheTimeline) {
  EXPECT_EQ(sampleRange({kStart + 10, kStart + 20}, kStart, 8000, 1000), (SampleRange{80, 160}));
  EXPECT_EQ(sampleRange({kStart - 10, kStart + 20}, kStart, 8000, 1000), (SampleRange{0, 160}));
  EXPECT_EQ(sampleRange({kStart + 100, kStart + 900}, kStart, 8000, 1000),
            (SampleRange{800, 1000}));
  EXPECT_TRUE(sampleRange({kStart + 200, kStart + 900}, kStart, 8000, 1000).empty());
  EXPECT_TRUE(sampleRange({0, kStart}, kStart, 8000, 1000).empty());
}

TEST(ValidateSpans, NamesTheFaultyField) {
  RecordingRenderRequest request;
  request.pauses = {{1, 2}};
  request.masks = {Mask{{5, 9}}, Mask{{9, 5}}};
  auto result = validateSpans(request);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, 400);
  EXPECT_EQ(result.error().message, "masks[1].from must be before masks[1].to");
  request.masks.pop_back();
  request.trim = TimeSpan{3, -1};
  result = validateSpans(request);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message, "trim.to must not be negative");
  request.trim = TimeSpan{3, 4};
  EXPECT_TRUE(validateSpans(request));
}

TEST(EditPlan, AppliesPausesThenMasksAcrossBlocksToTheSample) {
  RecordingRenderRequest request;
  request.pauses = {{kStart + 1, kStart + 2}};                          // [8, 16)
  request.masks = {Mask{{kStart + 1, kStart + 3}, MaskKind::Beep},      // [8, 24)
                   Mask{{kStart + 2, kStart + 4}, MaskKind::Silence}};  // [16, 32)
  const EditPlan plan(request, kStart, 8000, 40);
  ASSERT_EQ(plan.edits().size(), 3U);
  EXPECT_EQ(plan.edits()[1].range, (SampleRange{8, 24}));

  // Two channels, 40 frames of 7, applied in blocks of 12 frames.
  std::vector<int16_t> frames(80, 7);
  for (int64_t first = 0; first < 40; first += 12) {
    const int64_t count = std::min<int64_t>(12, 40 - first);
    plan.apply(first, std::span<int16_t>(frames).subspan(first * 2, count * 2), 2);
  }
  const std::array<int16_t, 8> beep{0, 2317, 3277, 2317, 0, -2317, -3277, -2317};
  for (int n = 0; n < 40; ++n) {
    int16_t expected = 7;
    if (n >= 8 && n < 16) {
      expected = beep[n - 8];
    } else if (n >= 16 && n < 32) {
      expected = 0;
    }
    EXPECT_EQ(frames[n * 2], expected) << n;
    EXPECT_EQ(frames[n * 2 + 1], expected) << n;
  }
}

TEST(EditPlan, BeepAt44100HzIsAOneKilohertzSineAtMinus20Dbfs) {
  RecordingRenderRequest request;
  request.masks = {Mask{{kStart, kStart + 1000}, MaskKind::Beep}};
  const EditPlan plan(request, kStart, 44100, 44100);
  std::vector<int16_t> samples(44100, 0);
  plan.apply(0, samples, 1);
  int16_t peak = 0;
  int crossings = 0;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    peak = std::max(peak, samples[i]);
    EXPECT_EQ(samples[i], static_cast<int16_t>(std::lround(
                              kBeepAmplitude * std::sin(2 * 3.141592653589793 * 1000.0 *
                                                        static_cast<double>(i) / 44100))))
        << i;
    if (i > 0 && (samples[i - 1] < 0) != (samples[i] < 0)) {
      ++crossings;
    }
  }
  EXPECT_EQ(peak, 3277);
  EXPECT_NEAR(crossings, 2000, 2);
}

}  // namespace
}  // namespace siprecd::recording
