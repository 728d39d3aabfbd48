#include "recording/stream_timeline.hpp"

#include <algorithm>
#include <cstdlib>

namespace siprecd::recording {

namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;

/// a * b / c rounded to nearest (ties away from zero). Callers keep |a| below ~2^42 and
/// b, c below 2^20, so the product fits.
int64_t scaleRounded(int64_t a, int64_t b, int64_t c) {
  const int64_t product = a * b;
  const int64_t half = c / 2;
  return product >= 0 ? (product + half) / c : (product - half) / c;
}

}  // namespace

StreamTimeline::StreamTimeline(uint32_t clock_rate_hz)
    : clock_rate_hz_(std::max<uint32_t>(clock_rate_hz, 1)) {}

StreamTimeline::Source& StreamTimeline::sourceFor(media::Ssrc ssrc, bool& is_new) {
  ++use_counter_;
  for (Source& source : sources_) {
    if (source.ssrc == ssrc) {
      source.last_used = use_counter_;
      is_new = false;
      return source;
    }
  }
  is_new = true;
  if (sources_.size() < kMaxSources) {
    sources_.push_back(Source{ssrc, {}, 0, 0, 0, 0, use_counter_});
    return sources_.back();
  }
  Source& oldest =
      *std::min_element(sources_.begin(), sources_.end(),
                        [](const Source& a, const Source& b) { return a.last_used < b.last_used; });
  oldest = Source{ssrc, {}, 0, 0, 0, 0, use_counter_};
  return oldest;
}

TimelinePlacement StreamTimeline::place(media::Ssrc ssrc, media::RtpTimestamp timestamp,
                                        int64_t arrival_epoch_us) {
  bool is_new = false;
  Source& source = sourceFor(ssrc, is_new);
  const int64_t ticks = source.unwrapper.unwrap(timestamp);
  bool reanchor = is_new;
  if (!is_new) {
    const int64_t timestamp_step_us =
        scaleRounded(ticks - source.last_ticks, kMicrosPerSecond, clock_rate_hz_);
    const int64_t arrival_step_us = arrival_epoch_us - source.last_arrival_us;
    const int64_t position_us =
        source.anchor_epoch_us +
        scaleRounded(ticks - source.anchor_ticks, kMicrosPerSecond, clock_rate_hz_);
    reanchor = std::llabs(timestamp_step_us - arrival_step_us) > kMaxStepDeviation.count() ||
               std::llabs(position_us - arrival_epoch_us) > kMaxDeviation.count();
  }
  if (reanchor) {
    source.anchor_epoch_us = arrival_epoch_us;
    source.anchor_ticks = ticks;
  }
  source.last_ticks = ticks;
  source.last_arrival_us = arrival_epoch_us;
  return TimelinePlacement{source.anchor_epoch_us, ticks - source.anchor_ticks};
}

int64_t samplePosition(const TimelinePlacement& placement, int64_t start_epoch_us,
                       uint32_t clock_rate_hz, uint32_t output_rate_hz) {
  const int64_t anchor_samples =
      scaleRounded(placement.anchor_epoch_us - start_epoch_us, output_rate_hz, kMicrosPerSecond);
  const int64_t tick_samples =
      output_rate_hz == clock_rate_hz
          ? placement.ticks
          : scaleRounded(placement.ticks, output_rate_hz, std::max<uint32_t>(clock_rate_hz, 1));
  return anchor_samples + tick_samples;
}

}  // namespace siprecd::recording
