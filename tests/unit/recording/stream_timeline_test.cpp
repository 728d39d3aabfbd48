#include "recording/stream_timeline.hpp"

#include <cmath>
#include <cstdlib>
#include <random>

#include <gtest/gtest.h>

namespace siprecd::recording {
namespace {

using media::RtpTimestamp;
using media::Ssrc;

constexpr int64_t kT0 = 1'700'000'000'000'000;
/// 2^32 / 10^6: NTP fraction units per microsecond.
constexpr double kNtpPerMicro = 4294.967296;

/// Wall-clock µs of a point after finish().
int64_t wallUs(const StreamTimeline& timeline, TimelinePoint point) {
  const TimelinePlacement placement = timeline.placement(point);
  return placement.anchor_epoch_us + std::llround(static_cast<double>(placement.ticks) * 1e6 /
                                                  timeline.clockRate() * placement.rate_ratio);
}

uint64_t ntpAt(int64_t micros) {
  const auto seconds = static_cast<uint64_t>(micros / 1'000'000);
  const auto fraction =
      static_cast<uint64_t>(static_cast<double>(micros % 1'000'000) * kNtpPerMicro);
  return (seconds << 32U) | fraction;
}

TEST(StreamTimeline, FirstPacketAnchorsOnItsArrival) {
  StreamTimeline timeline(8000);
  const auto point = timeline.add(Ssrc(1), RtpTimestamp(5000), kT0);
  timeline.finish();
  EXPECT_EQ(point.ticks, 0);
  const auto placement = timeline.placement(point);
  EXPECT_EQ(placement.anchor_epoch_us, kT0);
  EXPECT_EQ(placement.ticks, 0);
  EXPECT_EQ(placement.rate_ratio, 1.0);
}

TEST(StreamTimeline, LateFirstPacketDoesNotShiftTheSegment) {
  StreamTimeline timeline(8000);
  // Sent every 20 ms from kT0; the first arrives 80 ms late, the others 0..5 ms late.
  std::vector<TimelinePoint> points;
  points.push_back(timeline.add(Ssrc(1), RtpTimestamp(1000), kT0 + 80'000));
  for (int i = 1; i < 50; ++i) {
    points.push_back(
        timeline.add(Ssrc(1), RtpTimestamp(1000 + i * 160U), kT0 + i * 20'000 + (i % 6) * 1000));
  }
  timeline.finish();
  ASSERT_EQ(timeline.segments().size(), 1U);
  EXPECT_EQ(timeline.placement(points[0]).anchor_epoch_us, kT0);
  EXPECT_EQ(wallUs(timeline, points[0]), kT0);
  EXPECT_EQ(wallUs(timeline, points[49]), kT0 + 49 * 20'000);
}

TEST(StreamTimeline, FollowsTimestampsNotArrivalJitter) {
  StreamTimeline timeline(8000);
  std::mt19937 random(7);
  std::uniform_int_distribution<int64_t> jitter(0, 60'000);
  std::vector<TimelinePoint> points;
  for (int i = 0; i < 500; ++i) {
    // Packet 3 arrives with no delay: it defines the envelope.
    const int64_t delay = i == 3 ? 0 : 500 + jitter(random);
    points.push_back(timeline.add(Ssrc(9), RtpTimestamp(77 + i * 160U), kT0 + i * 20'000 + delay));
  }
  timeline.finish();
  ASSERT_EQ(timeline.segments().size(), 1U);
  for (int i = 0; i < 500; ++i) {
    EXPECT_EQ(points[i].ticks, i * 160);
    EXPECT_EQ(wallUs(timeline, points[i]), kT0 + i * 20'000) << i;
  }
}

TEST(StreamTimeline, UnwrapsTimestampAcrossWrap) {
  StreamTimeline timeline(8000);
  timeline.add(Ssrc(1), RtpTimestamp(0xFFFFFF60), kT0);
  const auto next = timeline.add(Ssrc(1), RtpTimestamp(0x00000040), kT0 + 28'000);
  timeline.finish();
  EXPECT_EQ(next.segment, 0U);
  EXPECT_EQ(next.ticks, 0xA0 + 0x40);
  EXPECT_EQ(wallUs(timeline, next), kT0 + 28'000);
}

TEST(StreamTimeline, ReorderedPacketAcrossWrapLandsBeforeItsSuccessor) {
  StreamTimeline timeline(8000);
  timeline.add(Ssrc(1), RtpTimestamp(0xFFFFFFF0), kT0);
  timeline.add(Ssrc(1), RtpTimestamp(0x00000130), kT0 + 40'000);
  const auto late = timeline.add(Ssrc(1), RtpTimestamp(0x00000090), kT0 + 41'000);
  timeline.finish();
  EXPECT_EQ(late.segment, 0U);
  EXPECT_EQ(late.ticks, 0x10 + 0x90);
  EXPECT_EQ(wallUs(timeline, late), kT0 + 20'000);
}

TEST(StreamTimeline, NewSsrcStartsASegmentAnchoredOnItsArrival) {
  StreamTimeline timeline(8000);
  timeline.add(Ssrc(1), RtpTimestamp(100), kT0);
  const auto other = timeline.add(Ssrc(2), RtpTimestamp(0x12345678), kT0 + 700'000);
  const auto next = timeline.add(Ssrc(2), RtpTimestamp(0x12345678 + 160), kT0 + 720'000);
  timeline.finish();
  ASSERT_EQ(timeline.segments().size(), 2U);
  EXPECT_EQ(timeline.segments()[1].ssrc, Ssrc(2));
  EXPECT_EQ(other.segment, 1U);
  EXPECT_EQ(other.ticks, 0);
  EXPECT_EQ(wallUs(timeline, other), kT0 + 700'000);
  EXPECT_EQ(next.ticks, 160);
  EXPECT_EQ(wallUs(timeline, next), kT0 + 720'000);
}

TEST(StreamTimeline, ReturningSsrcContinuesItsSegmentWhenTimestampsStayConsistent) {
  StreamTimeline timeline(8000);
  timeline.add(Ssrc(1), RtpTimestamp(0), kT0);
  timeline.add(Ssrc(2), RtpTimestamp(999), kT0 + 20'000);
  const auto back = timeline.add(Ssrc(1), RtpTimestamp(320), kT0 + 40'000);
  timeline.finish();
  EXPECT_EQ(timeline.segments().size(), 2U);
  EXPECT_EQ(back.segment, 0U);
  EXPECT_EQ(back.ticks, 320);
}

TEST(StreamTimeline, HoldWithoutTimestampAdvanceStartsASegment) {
  StreamTimeline timeline(8000);
  timeline.add(Ssrc(1), RtpTimestamp(0), kT0);
  const auto resumed = timeline.add(Ssrc(1), RtpTimestamp(160), kT0 + 5'000'000);
  timeline.finish();
  EXPECT_EQ(resumed.segment, 1U);
  EXPECT_EQ(resumed.ticks, 0);
  EXPECT_EQ(wallUs(timeline, resumed), kT0 + 5'000'000);
}

TEST(StreamTimeline, SilenceWithTimestampAdvanceKeepsTheSegment) {
  StreamTimeline timeline(8000);
  timeline.add(Ssrc(1), RtpTimestamp(0), kT0);
  const auto resumed = timeline.add(Ssrc(1), RtpTimestamp(40'000), kT0 + 5'010'000);
  timeline.finish();
  EXPECT_EQ(resumed.segment, 0U);
  EXPECT_EQ(resumed.ticks, 40'000);
  EXPECT_EQ(wallUs(timeline, resumed), kT0 + 5'000'000);
}

TEST(StreamTimeline, TimestampJumpStartsASegment) {
  StreamTimeline timeline(8000);
  timeline.add(Ssrc(1), RtpTimestamp(0), kT0);
  const auto jumped = timeline.add(Ssrc(1), RtpTimestamp(0x40000000), kT0 + 20'000);
  const auto after = timeline.add(Ssrc(1), RtpTimestamp(0x40000000 + 160), kT0 + 40'000);
  timeline.finish();
  EXPECT_EQ(jumped.segment, 1U);
  EXPECT_EQ(after.segment, 1U);
  EXPECT_EQ(wallUs(timeline, jumped), kT0 + 20'000);
  EXPECT_EQ(wallUs(timeline, after), kT0 + 40'000);
}

TEST(StreamTimeline, SmallStepsCannotDriftFarFromArrival) {
  StreamTimeline timeline(8000);
  timeline.add(Ssrc(1), RtpTimestamp(0), kT0);
  // Each packet claims 0.9 s of audio but arrives 20 ms after the previous one.
  std::vector<TimelinePoint> points;
  for (uint32_t i = 1; i <= 100; ++i) {
    points.push_back(timeline.add(Ssrc(1), RtpTimestamp(i * 7200), kT0 + i * 20'000));
  }
  timeline.finish();
  EXPECT_GT(timeline.segments().size(), 5U);
  for (uint32_t i = 1; i <= 100; ++i) {
    EXPECT_LE(std::llabs(wallUs(timeline, points[i - 1]) - (kT0 + i * 20'000)), 10'000'000) << i;
  }
}

/// One hour of 20 ms packets from a sender whose clock runs `ppm` fast, received with
/// 0..40 ms of jitter (every 50th packet undelayed).
struct DriftingStream {
  std::vector<TimelinePoint> points;
  std::vector<int64_t> sent_us;
};

DriftingStream addDriftingHour(StreamTimeline& timeline, double ppm, bool sender_reports,
                               int64_t sender_ntp_offset_us = 0) {
  DriftingStream stream;
  std::mt19937 random(11);
  std::uniform_int_distribution<int64_t> jitter(0, 40'000);
  constexpr int kPackets = 180'000;
  for (int i = 0; i < kPackets; ++i) {
    const uint32_t timestamp = 0x10000000U + static_cast<uint32_t>(i) * 160U;
    // A fast clock reaches the timestamp early: real time = nominal / (1 + drift).
    const auto sent = kT0 + std::llround(i * 20'000.0 / (1.0 + ppm * 1e-6));
    const int64_t delay = i % 50 == 0 ? 0 : jitter(random);
    stream.points.push_back(timeline.add(Ssrc(5), RtpTimestamp(timestamp), sent + delay));
    stream.sent_us.push_back(sent);
    if (sender_reports && i % 250 == 125) {  // every 5 s
      timeline.addSenderReport(Ssrc(5), RtpTimestamp(timestamp),
                               ntpAt(sent + sender_ntp_offset_us));
    }
  }
  timeline.finish();
  return stream;
}

TEST(StreamTimeline, CorrectsClockDriftFromArrivalTimes) {
  StreamTimeline timeline(8000);
  const DriftingStream stream = addDriftingHour(timeline, 100, false);
  ASSERT_EQ(timeline.segments().size(), 1U);
  EXPECT_EQ(timeline.segments()[0].drift_source, DriftSource::Arrivals);
  EXPECT_NEAR(timeline.segments()[0].rate_ratio, 1.0 / (1.0 + 100e-6), 2e-6);
  // Without correction the end would be 360 ms late; stay within 2 ms everywhere.
  for (std::size_t i = 0; i < stream.points.size(); i += 997) {
    EXPECT_LE(std::llabs(wallUs(timeline, stream.points[i]) - stream.sent_us[i]), 2000) << i;
  }
  EXPECT_LE(std::llabs(wallUs(timeline, stream.points.back()) - stream.sent_us.back()), 2000);
}

TEST(StreamTimeline, UsesSenderReportsForTheRateWhateverTheirClockOffset) {
  StreamTimeline timeline(8000);
  // The sender's NTP clock is 3.5 s ahead of ours: only its rate is used.
  const DriftingStream stream = addDriftingHour(timeline, -250, true, 3'500'000);
  ASSERT_EQ(timeline.segments().size(), 1U);
  const TimelineSegment& segment = timeline.segments()[0];
  EXPECT_EQ(segment.drift_source, DriftSource::SenderReports);
  EXPECT_EQ(segment.sender_reports, 720U);
  EXPECT_NEAR(segment.rate_ratio, 1.0 / (1.0 - 250e-6), 1e-7);
  for (std::size_t i = 0; i < stream.points.size(); i += 997) {
    EXPECT_LE(std::llabs(wallUs(timeline, stream.points[i]) - stream.sent_us[i]), 1000) << i;
  }
}

TEST(StreamTimeline, IgnoresInconsistentSenderReports) {
  StreamTimeline timeline(8000);
  for (int i = 0; i < 3000; ++i) {  // 60 s
    const uint32_t timestamp = static_cast<uint32_t>(i) * 160U;
    timeline.add(Ssrc(5), RtpTimestamp(timestamp), kT0 + i * 20'000);
    if (i % 500 == 0) {
      // The sender's NTP clock is 2 s off for two reports mid-call.
      const int64_t step = i >= 1000 && i < 2000 ? 2'000'000 : 0;
      timeline.addSenderReport(Ssrc(5), RtpTimestamp(timestamp), ntpAt(kT0 + i * 20'000 + step));
    }
  }
  timeline.addSenderReport(Ssrc(77), RtpTimestamp(0), ntpAt(kT0));  // unknown SSRC: ignored
  timeline.finish();
  ASSERT_EQ(timeline.segments().size(), 1U);
  EXPECT_EQ(timeline.segments()[0].sender_reports, 6U);
  EXPECT_EQ(timeline.segments()[0].drift_source, DriftSource::Arrivals);
  EXPECT_NEAR(timeline.segments()[0].rate_ratio, 1.0, 1e-6);
}

TEST(StreamTimeline, ShortSegmentsKeepTheNominalRate) {
  StreamTimeline timeline(8000);
  // 10 s whose arrivals suggest 2000 ppm: too short to believe.
  for (int i = 0; i < 500; ++i) {
    timeline.add(Ssrc(1), RtpTimestamp(i * 160U), kT0 + i * 20'040);
  }
  timeline.finish();
  EXPECT_EQ(timeline.segments()[0].drift_source, DriftSource::None);
  EXPECT_EQ(timeline.segments()[0].rate_ratio, 1.0);
}

TEST(SamplePosition, ConvertsAnchorAndTicksToOutputSamples) {
  const TimelinePlacement placement{kT0 + 500'000, 160};
  EXPECT_EQ(samplePosition(placement, kT0, 8000, 8000), 4000 + 160);
  EXPECT_EQ(samplePosition(placement, kT0 + 1'000'000, 8000, 8000), -4000 + 160);
  EXPECT_EQ(samplePosition(TimelinePlacement{kT0 + 62, 0}, kT0, 8000, 8000), 0);
  EXPECT_EQ(samplePosition(TimelinePlacement{kT0 + 63, 0}, kT0, 8000, 8000), 1);
  EXPECT_EQ(samplePosition(TimelinePlacement{kT0, 960}, kT0, 48000, 8000), 160);
  EXPECT_EQ(samplePosition(TimelinePlacement{kT0, 160}, kT0, 8000, 16000), 320);
  EXPECT_EQ(samplePosition(TimelinePlacement{kT0, 10'000, 1.0001}, kT0, 8000, 8000), 10'001);
}

TEST(NtpToMicros, ConvertsSecondsAndFraction) {
  EXPECT_EQ(ntpToMicros((uint64_t{5} << 32U) | 0x80000000U), 5'500'000);
  EXPECT_LE(std::llabs(ntpToMicros(ntpAt(kT0 + 123'456)) - (kT0 + 123'456)), 1);
}

}  // namespace
}  // namespace siprecd::recording
