#include "recording/stream_timeline.hpp"

#include <gtest/gtest.h>

namespace siprecd::recording {
namespace {

using media::RtpTimestamp;
using media::Ssrc;

constexpr int64_t kT0 = 1'700'000'000'000'000;

TEST(StreamTimeline, FirstPacketAnchorsOnItsArrival) {
  StreamTimeline timeline(8000);
  const auto placement = timeline.place(Ssrc(1), RtpTimestamp(5000), kT0);
  EXPECT_EQ(placement.anchor_epoch_us, kT0);
  EXPECT_EQ(placement.ticks, 0);
}

TEST(StreamTimeline, LaterPacketsFollowTimestampsNotArrivalJitter) {
  StreamTimeline timeline(8000);
  timeline.place(Ssrc(1), RtpTimestamp(5000), kT0);
  const auto late = timeline.place(Ssrc(1), RtpTimestamp(5160), kT0 + 95'000);
  EXPECT_EQ(late.anchor_epoch_us, kT0);
  EXPECT_EQ(late.ticks, 160);
  const auto early = timeline.place(Ssrc(1), RtpTimestamp(5320), kT0 + 96'000);
  EXPECT_EQ(early.ticks, 320);
}

TEST(StreamTimeline, UnwrapsTimestampAcrossWrap) {
  StreamTimeline timeline(8000);
  timeline.place(Ssrc(1), RtpTimestamp(0xFFFFFF60), kT0);
  const auto next = timeline.place(Ssrc(1), RtpTimestamp(0x00000040), kT0 + 28'000);
  EXPECT_EQ(next.anchor_epoch_us, kT0);
  EXPECT_EQ(next.ticks, 0xA0 + 0x40);
}

TEST(StreamTimeline, ReorderedPacketLandsBeforeItsSuccessor) {
  StreamTimeline timeline(8000);
  timeline.place(Ssrc(1), RtpTimestamp(0xFFFFFFF0), kT0);
  timeline.place(Ssrc(1), RtpTimestamp(0x00000130), kT0 + 40'000);
  const auto late = timeline.place(Ssrc(1), RtpTimestamp(0x00000090), kT0 + 41'000);
  EXPECT_EQ(late.anchor_epoch_us, kT0);
  EXPECT_EQ(late.ticks, 0x10 + 0x90);
}

TEST(StreamTimeline, NewSsrcReanchorsOnItsArrival) {
  StreamTimeline timeline(8000);
  timeline.place(Ssrc(1), RtpTimestamp(100), kT0);
  const auto other = timeline.place(Ssrc(2), RtpTimestamp(0x12345678), kT0 + 700'000);
  EXPECT_EQ(other.anchor_epoch_us, kT0 + 700'000);
  EXPECT_EQ(other.ticks, 0);
  const auto next = timeline.place(Ssrc(2), RtpTimestamp(0x12345678 + 160), kT0 + 720'000);
  EXPECT_EQ(next.anchor_epoch_us, kT0 + 700'000);
  EXPECT_EQ(next.ticks, 160);
}

TEST(StreamTimeline, ReturningSsrcKeepsItsAnchorWhenTimestampsStayConsistent) {
  StreamTimeline timeline(8000);
  timeline.place(Ssrc(1), RtpTimestamp(0), kT0);
  timeline.place(Ssrc(2), RtpTimestamp(999), kT0 + 20'000);
  const auto back = timeline.place(Ssrc(1), RtpTimestamp(320), kT0 + 40'000);
  EXPECT_EQ(back.anchor_epoch_us, kT0);
  EXPECT_EQ(back.ticks, 320);
}

TEST(StreamTimeline, HoldWithoutTimestampAdvanceReanchors) {
  StreamTimeline timeline(8000);
  timeline.place(Ssrc(1), RtpTimestamp(0), kT0);
  const auto resumed = timeline.place(Ssrc(1), RtpTimestamp(160), kT0 + 5'000'000);
  EXPECT_EQ(resumed.anchor_epoch_us, kT0 + 5'000'000);
  EXPECT_EQ(resumed.ticks, 0);
}

TEST(StreamTimeline, SilenceWithTimestampAdvanceKeepsAnchor) {
  StreamTimeline timeline(8000);
  timeline.place(Ssrc(1), RtpTimestamp(0), kT0);
  const auto resumed = timeline.place(Ssrc(1), RtpTimestamp(40'000), kT0 + 5'010'000);
  EXPECT_EQ(resumed.anchor_epoch_us, kT0);
  EXPECT_EQ(resumed.ticks, 40'000);
}

TEST(StreamTimeline, TimestampJumpReanchors) {
  StreamTimeline timeline(8000);
  timeline.place(Ssrc(1), RtpTimestamp(0), kT0);
  const auto jumped = timeline.place(Ssrc(1), RtpTimestamp(0x40000000), kT0 + 20'000);
  EXPECT_EQ(jumped.anchor_epoch_us, kT0 + 20'000);
  EXPECT_EQ(jumped.ticks, 0);
}

TEST(StreamTimeline, SmallStepsCannotDriftFarFromArrival) {
  StreamTimeline timeline(8000);
  timeline.place(Ssrc(1), RtpTimestamp(0), kT0);
  // Each packet claims 0.9 s of audio but arrives 20 ms after the previous one.
  TimelinePlacement placement;
  for (uint32_t i = 1; i <= 100; ++i) {
    placement = timeline.place(Ssrc(1), RtpTimestamp(i * 7200), kT0 + i * 20'000);
    const int64_t position_us = placement.anchor_epoch_us + placement.ticks * 125;
    EXPECT_LE(std::llabs(position_us - (kT0 + i * 20'000)), 10'000'000) << i;
  }
}

TEST(SamplePosition, ConvertsAnchorAndTicksToOutputSamples) {
  const TimelinePlacement placement{kT0 + 500'000, 160};
  EXPECT_EQ(samplePosition(placement, kT0, 8000, 8000), 4000 + 160);
  EXPECT_EQ(samplePosition(placement, kT0 + 1'000'000, 8000, 8000), -4000 + 160);
  EXPECT_EQ(samplePosition(TimelinePlacement{kT0 + 62, 0}, kT0, 8000, 8000), 0);
  EXPECT_EQ(samplePosition(TimelinePlacement{kT0 + 63, 0}, kT0, 8000, 8000), 1);
  EXPECT_EQ(samplePosition(TimelinePlacement{kT0, 960}, kT0, 48000, 8000), 160);
}

}  // namespace
}  // namespace siprecd::recording
