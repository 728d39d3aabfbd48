#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "media/rtp_types.hpp"

namespace siprecd::recording {

/// A packet as StreamTimeline numbered it: its segment and its RTP timestamp, unwrapped,
/// in clock-rate ticks since the timestamp of the segment's first packet (negative for a
/// reordered packet sent before it).
struct TimelinePoint {
  uint32_t segment = 0;
  int64_t ticks = 0;
};

/// Where a packet's first sample lies: at anchor_epoch_us + ticks / clock rate *
/// rate_ratio seconds. The anchor and the ticks are kept apart so that converting to an
/// output rate equal to the clock rate is exact when rate_ratio is 1.
struct TimelinePlacement {
  int64_t anchor_epoch_us = 0;
  int64_t ticks = 0;
  /// Wall-clock seconds per nominal second of the sender's RTP clock (1 + its drift).
  double rate_ratio = 1.0;
};

/// How a segment's rate ratio was found.
enum class DriftSource {
  None,           ///< too short to tell: the ratio is 1
  SenderReports,  ///< from the segment's RTCP sender reports
  Arrivals,       ///< from the lower envelope of the arrival times
};

/// A run of packets of one SSRC whose timestamps advance consistently with their arrival,
/// mapped to the wall clock by one line (see StreamTimeline).
struct TimelineSegment {
  media::Ssrc ssrc;
  /// Wall-clock time (epoch µs) of ticks 0; valid after StreamTimeline::finish().
  int64_t anchor_epoch_us = 0;
  double rate_ratio = 1.0;  ///< valid after finish()
  DriftSource drift_source = DriftSource::None;
  uint64_t packets = 0;
  uint32_t sender_reports = 0;  ///< reports of the segment's SSRC received during it
};

/// Places one stream's RTP packets on the wall-clock timeline (DESIGN.md §3 "Rendering").
///
/// Packets form segments. A segment is a run of one SSRC; a new one starts at a new SSRC,
/// when the timestamp advance since the SSRC's previous packet differs from the
/// arrival-time advance by more than kMaxStepDeviation (hold without timestamp advance,
/// sender restart, timestamp jump), or when the segment's arrival-minus-timestamp offsets
/// would spread over more than kMaxDeviation (which bounds the distance between any
/// packet's place and its arrival, whatever the timestamps say). An SSRC that comes back
/// with consistent timestamps continues its segment.
///
/// Once every packet is known, finish() maps each segment's unwrapped timestamps to the
/// wall clock by a line, wall = anchor + ticks / clock rate * rate_ratio:
/// - rate_ratio (the sender's clock drift against ours) comes from the segment's RTCP
///   sender reports (RFC 3550 §6.4.1: the NTP and RTP timestamps of one instant) when the
///   first and last span at least kMinDriftSpan and half the segment, agree with every
///   report in between within kSenderReportTolerance and give a drift within kMaxDrift;
///   otherwise from the arrival times when the segment spans at least kMinDriftSpan: the
///   slope of the lower convex hull of (timestamp time, arrival - timestamp time) at the
///   mean timestamp time, i.e. the line under every point that is closest to them overall
///   (Moon, Skelly, Towsley, "Estimation and removal of clock skew from network delay
///   measurements", 1999), clamped to kMaxDrift; otherwise 1;
/// - the anchor puts the line under every packet's arrival and touching the envelope: a
///   packet that arrived with the least network delay lies exactly at its arrival, later
///   ones (jitter, a late first packet, bursts) do not move the segment.
/// The sender's NTP clock may be offset from ours by any amount, so sender reports give
/// only the rate, never the anchor. Not thread-safe; one per stream.
class StreamTimeline {
 public:
  static constexpr std::chrono::microseconds kMaxStepDeviation = std::chrono::seconds(1);
  static constexpr std::chrono::microseconds kMaxDeviation = std::chrono::seconds(10);
  static constexpr std::chrono::microseconds kMinDriftSpan = std::chrono::seconds(30);
  static constexpr std::chrono::microseconds kSenderReportTolerance = std::chrono::milliseconds(20);
  /// The largest drift believed (1000 ppm); crystal oscillators stay far below.
  static constexpr double kMaxDrift = 1e-3;
  /// SSRCs remembered per stream; the least recently seen is forgotten beyond this.
  static constexpr std::size_t kMaxSources = 8;

  /// `clock_rate_hz` > 0.
  explicit StreamTimeline(uint32_t clock_rate_hz);

  /// Numbers a packet with these header fields, received at `arrival_epoch_us`. Call in
  /// arrival (spool) order, before finish().
  TimelinePoint add(media::Ssrc ssrc, media::RtpTimestamp timestamp, int64_t arrival_epoch_us);

  /// Notes an RTCP sender report of `ssrc` (RFC 3550 §6.4.1): `rtp_timestamp` and the
  /// 64-bit `ntp_timestamp` (seconds since 1900 in the high 32 bits, fraction in the low)
  /// describe the same instant. A report is attached to the SSRC's current segment; one of
  /// an SSRC without packets yet, or with NTP timestamp 0, is ignored. Before finish().
  void addSenderReport(media::Ssrc ssrc, media::RtpTimestamp rtp_timestamp, uint64_t ntp_timestamp);

  /// Fits every segment's line. Once, after the last add.
  void finish();

  /// Where `point` (from add()) lies. After finish().
  TimelinePlacement placement(TimelinePoint point) const;

  const std::vector<TimelineSegment>& segments() const { return segments_; }
  uint32_t clockRate() const { return clock_rate_hz_; }

 private:
  struct Source {
    media::Ssrc ssrc;
    media::RtpTimestampUnwrapper unwrapper;
    uint32_t segment = 0;
    int64_t base_ticks = 0;  ///< unwrapped timestamp of the segment's first packet
    int64_t last_ticks = 0;
    int64_t last_arrival_us = 0;
    uint64_t last_used = 0;
  };
  /// Per segment, what the fit needs.
  struct SegmentData {
    std::vector<int64_t> ticks;
    std::vector<int64_t> arrivals_us;
    std::vector<int64_t> report_ticks;
    std::vector<int64_t> report_ntp_us;
    int64_t min_offset_us = 0;
    int64_t max_offset_us = 0;
  };

  Source* findSource(media::Ssrc ssrc);
  Source& newSource(media::Ssrc ssrc);
  /// Starts a segment for `source` at a packet of unwrapped timestamp `ticks`.
  void startSegment(Source& source, int64_t ticks);
  /// Offset of a packet from its segment's nominal line: arrival - ticks in µs.
  int64_t offsetUs(int64_t ticks, int64_t arrival_epoch_us) const;
  void fit(TimelineSegment& segment, SegmentData& data) const;
  bool fitFromSenderReports(TimelineSegment& segment, const SegmentData& data) const;
  void fitFromArrivals(TimelineSegment& segment, const SegmentData& data) const;

  uint32_t clock_rate_hz_;
  std::vector<Source> sources_;
  std::vector<TimelineSegment> segments_;
  std::vector<SegmentData> data_;
  uint64_t use_counter_ = 0;
};

/// The sample index, at `output_rate_hz`, of `placement` on a timeline starting at
/// `start_epoch_us` (negative before the start). Rounds to the nearest sample; exact for
/// whole ticks when rate_ratio is 1 and the output rate is a multiple of the clock rate.
int64_t samplePosition(const TimelinePlacement& placement, int64_t start_epoch_us,
                       uint32_t clock_rate_hz, uint32_t output_rate_hz);

/// Microseconds of a 64-bit NTP timestamp (RFC 5905 §6: seconds since 1900, fraction).
int64_t ntpToMicros(uint64_t ntp_timestamp);

}  // namespace siprecd::recording
