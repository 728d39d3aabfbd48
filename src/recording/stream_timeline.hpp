#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "media/rtp_types.hpp"

namespace siprecd::recording {

/// Where a packet's first sample lies: `ticks` clock-rate units after `anchor_epoch_us`.
/// Kept apart so that converting to an output rate equal to the clock rate is exact.
struct TimelinePlacement {
  int64_t anchor_epoch_us = 0;
  int64_t ticks = 0;
};

/// Places one stream's RTP packets on the wall-clock timeline (DESIGN.md §3 "Rendering").
/// Each SSRC is anchored on the arrival time of its first packet; a packet lies at
/// anchor + (its RTP timestamp - the anchor packet's, unwrapped over 32 bits) / clock rate.
/// A discontinuity re-anchors the SSRC on the packet's arrival time: a new SSRC, or a
/// timestamp advance since the SSRC's previous packet that differs from the arrival-time
/// advance by more than kMaxStepDeviation (hold without timestamp advance, sender restart,
/// timestamp jump), or a position more than kMaxDeviation away from the arrival time
/// (which bounds the timeline whatever the timestamps say). Slow clock drift below that is
/// left alone (RTCP sender reports will correct it).
/// Not thread-safe; one per stream.
class StreamTimeline {
 public:
  static constexpr std::chrono::microseconds kMaxStepDeviation = std::chrono::seconds(1);
  static constexpr std::chrono::microseconds kMaxDeviation = std::chrono::seconds(10);
  /// SSRCs remembered per stream; the least recently seen is forgotten beyond this.
  static constexpr std::size_t kMaxSources = 8;

  /// `clock_rate_hz` > 0.
  explicit StreamTimeline(uint32_t clock_rate_hz);

  /// The placement of a packet with these header fields, received at `arrival_epoch_us`.
  /// Call in arrival (spool) order.
  TimelinePlacement place(media::Ssrc ssrc, media::RtpTimestamp timestamp,
                          int64_t arrival_epoch_us);

  uint32_t clockRate() const { return clock_rate_hz_; }

 private:
  struct Source {
    media::Ssrc ssrc;
    media::RtpTimestampUnwrapper unwrapper;
    int64_t anchor_epoch_us = 0;
    int64_t anchor_ticks = 0;
    int64_t last_ticks = 0;
    int64_t last_arrival_us = 0;
    uint64_t last_used = 0;
  };

  Source& sourceFor(media::Ssrc ssrc, bool& is_new);

  uint32_t clock_rate_hz_;
  std::vector<Source> sources_;
  uint64_t use_counter_ = 0;
};

/// The sample index, at `output_rate_hz`, of `placement` on a timeline starting at
/// `start_epoch_us` (negative before the start). Rounds to the nearest sample.
int64_t samplePosition(const TimelinePlacement& placement, int64_t start_epoch_us,
                       uint32_t clock_rate_hz, uint32_t output_rate_hz);

}  // namespace siprecd::recording
