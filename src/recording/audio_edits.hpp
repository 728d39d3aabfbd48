#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/result.hpp"
#include "recording/renderer.hpp"

namespace siprecd::recording {

/// Output samples [begin, end) of one channel, counted from the timeline's first sample.
struct SampleRange {
  int64_t begin = 0;
  int64_t end = 0;
  bool empty() const { return end <= begin; }
  friend bool operator==(const SampleRange&, const SampleRange&) = default;
};

/// The sample holding instant `t_ms` on a timeline whose sample 0 is at `start_ms`:
/// floor((t_ms - start_ms) * rate_hz / 1000) (negative before the start).
int64_t sampleIndex(int64_t t_ms, int64_t start_ms, uint32_t rate_hz);

/// The samples of `span`, [sampleIndex(from), sampleIndex(to)), clamped to the timeline's
/// [0, total_samples); empty when the span lies outside it.
SampleRange sampleRange(const TimeSpan& span, int64_t start_ms, uint32_t rate_hz,
                        int64_t total_samples);

/// Checks a request's spans before any work: every pause, mask and the trim has
/// 0 <= from < to. Fails with code 400 and a message naming the field ("pauses[1].from",
/// "masks[0]", "trim").
[[nodiscard]] Result<void> validateSpans(const RecordingRenderRequest& request);

/// Pauses and masks of one render, as sample ranges on the (untrimmed) output timeline,
/// applied block by block: pauses first (silence), then masks in request order (a beep
/// or silence replaces every channel; of overlapping masks the later wins). A beep is a
/// 1 kHz sine of peak amplitude 0.1 × 32767 (-20 dBFS) starting at phase 0 on the mask's
/// first sample. Immutable after construction.
class EditPlan {
 public:
  /// `start_ms`: the time of sample 0; `total_samples`: the timeline's length.
  EditPlan(const RecordingRenderRequest& request, int64_t start_ms, uint32_t rate_hz,
           int64_t total_samples);

  /// Applies the edits to `frames` (interleaved, `channels` per frame) holding the
  /// timeline's samples from `first_sample` on.
  void apply(int64_t first_sample, std::span<int16_t> frames, uint32_t channels) const;

  /// The edits' sample ranges in application order (pauses, then masks).
  struct Edit {
    SampleRange range;
    MaskKind kind = MaskKind::Silence;
  };
  const std::vector<Edit>& edits() const { return edits_; }

 private:
  std::vector<Edit> edits_;
  std::vector<int16_t> beep_period_;  ///< one exact period of the beep at the rate
};

/// Peak amplitude of the mask beep: -20 dBFS.
inline constexpr double kBeepAmplitude = 0.1 * 32767;
inline constexpr double kBeepFrequencyHz = 1000;

}  // namespace siprecd::recording
