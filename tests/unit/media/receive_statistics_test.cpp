#include "media/receive_statistics.hpp"

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <vector>

#include <gtest/gtest.h>

#include "media_test_support.hpp"

namespace siprecd::media {
namespace {

using testing::bytesOf;
using testing::makeRtp;
using testing::RtpFields;

constexpr uint8_t kEventPt = 101;
constexpr uint32_t kSsrcA = 0x11223344;
constexpr uint32_t kSsrcB = 0x55667788;

// RFC 4733 §2.3 payload: event, E bit + volume, duration.
std::vector<std::byte> eventPayload(int event, bool end, int duration) {
  return bytesOf({event, end ? 0x8A : 0x0A, (duration >> 8) & 0xFF, duration & 0xFF});
}

/// Feeds synthetic packets to a ReceiveStatistics and reads its report.
class Feeder {
 public:
  explicit Feeder(ReceiveFormat format = {8000, kEventPt}) : statistics_(format) {}

  void feed(const RtpFields& fields, int64_t arrival_us,
            const std::vector<std::byte>& payload = bytesOf({0x7F, 0x7F})) {
    const auto datagram = makeRtp(fields, payload);
    const auto packet = RtpPacket::tryParse(datagram);
    ASSERT_TRUE(packet.has_value());
    statistics_.onPacket(*packet, arrival_us);
  }
  /// Audio packet `seq` of SSRC `ssrc`, timestamp seq * 160, arriving at seq * 20 ms.
  void audio(uint16_t seq, uint32_t ssrc = kSsrcA) {
    RtpFields fields;
    fields.seq = seq;
    fields.timestamp = static_cast<uint32_t>(seq) * 160;
    fields.ssrc = ssrc;
    feed(fields, clock_us_);
    clock_us_ += 20'000;
  }
  void audio(std::initializer_list<int> seqs) {
    for (int seq : seqs) {
      audio(static_cast<uint16_t>(seq));
    }
  }
  void audioRange(int first, int last_inclusive, uint32_t ssrc = kSsrcA) {
    for (int seq = first; seq <= last_inclusive; ++seq) {
      audio(static_cast<uint16_t>(seq), ssrc);
    }
  }
  StreamStats report() const {
    StreamStats stats;
    statistics_.report(stats);
    return stats;
  }

 private:
  ReceiveStatistics statistics_;
  int64_t clock_us_ = 1'700'000'000'000'000;
};

TEST(ReceiveStatistics, InOrderStreamHasNoLoss) {
  Feeder feeder;
  feeder.audioRange(100, 149);
  const StreamStats stats = feeder.report();
  EXPECT_EQ(stats.expected, 50U);
  EXPECT_EQ(stats.lost, 0U);
  EXPECT_EQ(stats.duplicates, 0U);
  EXPECT_EQ(stats.reordered, 0U);
  EXPECT_EQ(stats.extended_highest_seq, 149U);
  EXPECT_EQ(stats.ssrc_changes, 0U);
  EXPECT_EQ(stats.sequence_restarts, 0U);
}

TEST(ReceiveStatistics, CountsMissingSequenceNumbersAsLost) {
  Feeder feeder;
  feeder.audio({0, 1, 2, 5, 6, 8, 9});
  const StreamStats stats = feeder.report();
  EXPECT_EQ(stats.expected, 10U);
  EXPECT_EQ(stats.lost, 3U);
}

TEST(ReceiveStatistics, ForwardJumpBelowMaxDropoutIsLoss) {
  Feeder feeder;
  feeder.audioRange(0, 9);
  feeder.audio({2009, 2010});
  const StreamStats stats = feeder.report();
  EXPECT_EQ(stats.expected, 2011U);
  EXPECT_EQ(stats.lost, 1999U);
  EXPECT_EQ(stats.sequence_restarts, 0U);
}

TEST(ReceiveStatistics, DuplicatesAreCountedApartAndDoNotHideLoss) {
  Feeder feeder;
  feeder.audio({0, 1, 2, 2, 3, 1, 3, 5});
  const StreamStats stats = feeder.report();
  EXPECT_EQ(stats.duplicates, 3U);
  EXPECT_EQ(stats.reordered, 0U);
  EXPECT_EQ(stats.expected, 6U);
  EXPECT_EQ(stats.lost, 1U);  // 4 is missing although 8 packets arrived for 6 numbers
}

TEST(ReceiveStatistics, LatePacketIsReorderedNotLostAndItsRepeatIsDuplicate) {
  Feeder feeder;
  feeder.audio({0, 1, 3, 4, 2, 5, 2});
  const StreamStats stats = feeder.report();
  EXPECT_EQ(stats.reordered, 1U);
  EXPECT_EQ(stats.duplicates, 1U);
  EXPECT_EQ(stats.expected, 6U);
  EXPECT_EQ(stats.lost, 0U);
  EXPECT_EQ(stats.extended_highest_seq, 5U);
}

TEST(ReceiveStatistics, LatePacketOlderThanTheFirstExtendsExpected) {
  Feeder feeder;
  feeder.audio({10, 11, 9});
  const StreamStats stats = feeder.report();
  EXPECT_EQ(stats.expected, 3U);
  EXPECT_EQ(stats.lost, 0U);
  EXPECT_EQ(stats.reordered, 1U);
}

TEST(ReceiveStatistics, SequenceWrapAt65535CountsACycle) {
  Feeder feeder;
  feeder.audioRange(65530, 65535);
  feeder.audio({0, 2, 1, 3, 4, 5});
  const StreamStats stats = feeder.report();
  EXPECT_EQ(stats.expected, 12U);
  EXPECT_EQ(stats.lost, 0U);
  EXPECT_EQ(stats.reordered, 1U);
  EXPECT_EQ(stats.extended_highest_seq, 0x10005U);
}

TEST(ReceiveStatistics, ReorderAcrossTheWrapIsLateNotARestart) {
  Feeder feeder;
  feeder.audio({65533, 65534, 0, 65535, 1});
  const StreamStats stats = feeder.report();
  EXPECT_EQ(stats.reordered, 1U);
  EXPECT_EQ(stats.duplicates, 0U);
  EXPECT_EQ(stats.sequence_restarts, 0U);
  EXPECT_EQ(stats.expected, 5U);
  EXPECT_EQ(stats.lost, 0U);
  EXPECT_EQ(stats.extended_highest_seq, 0x10001U);
}

TEST(ReceiveStatistics, SsrcChangeRestartsSequenceAccounting) {
  Feeder feeder;
  feeder.audioRange(100, 109, kSsrcA);
  feeder.audioRange(40000, 40009, kSsrcB);
  const StreamStats stats = feeder.report();
  EXPECT_EQ(stats.ssrc_changes, 1U);
  EXPECT_EQ(stats.sequence_restarts, 0U);
  EXPECT_EQ(stats.expected, 20U);
  EXPECT_EQ(stats.lost, 0U);
  EXPECT_EQ(stats.extended_highest_seq, 40009U);
}

TEST(ReceiveStatistics, ConfirmedLargeJumpIsARestartWithoutLoss) {
  Feeder feeder;
  feeder.audioRange(0, 9);
  feeder.audioRange(20000, 20009);
  const StreamStats stats = feeder.report();
  EXPECT_EQ(stats.sequence_restarts, 1U);
  EXPECT_EQ(stats.expected, 20U);
  EXPECT_EQ(stats.lost, 0U);
  EXPECT_EQ(stats.extended_highest_seq, 20009U);
}

TEST(ReceiveStatistics, LargeJumpBackwardsIsARestartToo) {
  Feeder feeder;
  feeder.audioRange(30000, 30009);
  feeder.audioRange(500, 504);
  const StreamStats stats = feeder.report();
  EXPECT_EQ(stats.sequence_restarts, 1U);
  EXPECT_EQ(stats.expected, 15U);
  EXPECT_EQ(stats.lost, 0U);
  EXPECT_EQ(stats.extended_highest_seq, 504U);
}

TEST(ReceiveStatistics, UnconfirmedStrayJumpIsIgnored) {
  Feeder feeder;
  feeder.audio({0, 1, 2, 3, 4, 30000, 5, 6, 7, 8, 9});
  const StreamStats stats = feeder.report();
  EXPECT_EQ(stats.sequence_restarts, 0U);
  EXPECT_EQ(stats.expected, 10U);
  EXPECT_EQ(stats.lost, 0U);
  EXPECT_EQ(stats.extended_highest_seq, 9U);
}

/// Audio at 8 kHz, 20 ms packets, arrival delayed by offsets_ms[i % size] on top of the
/// 20 ms schedule; returns the jitter after `count` packets.
double jitterMsOf(std::initializer_list<int> offsets_ms, int count, uint32_t clock_rate_hz = 8000) {
  Feeder feeder(ReceiveFormat{clock_rate_hz, kEventPt});
  const std::vector<int> offsets(offsets_ms);
  for (int i = 0; i < count; ++i) {
    RtpFields fields;
    fields.seq = static_cast<uint16_t>(i);
    fields.timestamp = 0xFFFFF000U + static_cast<uint32_t>(i) * 160;  // wraps at i = 26
    const int offset_ms = offsets[static_cast<std::size_t>(i) % offsets.size()];
    feeder.feed(fields, 1'000'000'000 + int64_t{i} * 20'000 + int64_t{offset_ms} * 1000);
  }
  return feeder.report().jitter_ms;
}

TEST(ReceiveStatistics, ConstantTransitHasZeroJitter) {
  EXPECT_EQ(jitterMsOf({7}, 200), 0.0);
}

// RFC 3550 A.8: J += (|D| - J) / 16 per packet after the first, so a constant |D| gives
// J_n = |D| (1 - (15/16)^n) after n updates.
TEST(ReceiveStatistics, JitterFollowsRfc3550RecurrenceForAlternatingTransit) {
  // Arrivals alternately on time and 10 ms late: |D| = 10 ms = 80 units at 8 kHz.
  const double after_one = 10.0 * (1.0 - 15.0 / 16.0);
  EXPECT_NEAR(jitterMsOf({0, 10}, 2), after_one, 1e-9);  // 5 units
  const double after_199 = 10.0 * (1.0 - std::pow(15.0 / 16.0, 199));
  EXPECT_NEAR(jitterMsOf({0, 10}, 200), after_199, 1e-9);
  EXPECT_NEAR(after_199, 10.0, 1e-4);
  // Arrivals alternately 10 ms early and 10 ms late: |D| = 20 ms = 160 units.
  EXPECT_NEAR(jitterMsOf({-10, 10}, 200), 20.0 * (1.0 - std::pow(15.0 / 16.0, 199)), 1e-9);
}

TEST(ReceiveStatistics, JitterNeedsAClockRate) {
  EXPECT_EQ(jitterMsOf({0, 10}, 50, 0), 0.0);
}

TEST(ReceiveStatistics, JitterIsScaledByTheClockRate) {
  // At 16 kHz the timestamps (160 per 20 ms packet) run at half the arrival rate: every
  // transit difference is 160 units = 10 ms.
  EXPECT_NEAR(jitterMsOf({0}, 100, 16000), 10.0 * (1.0 - std::pow(15.0 / 16.0, 99)), 1e-9);
}

TEST(ReceiveStatistics, CountsArrivalGapsOver200Ms) {
  Feeder feeder;
  const int64_t start = 5'000'000;
  int seq = 0;
  for (int64_t at_ms : {0, 20, 40, 300, 320, 520, 900, 920}) {
    RtpFields fields;
    fields.seq = static_cast<uint16_t>(seq++);
    feeder.feed(fields, start + at_ms * 1000);
  }
  const StreamStats stats = feeder.report();
  EXPECT_EQ(stats.gaps_over_200ms, 2U);  // 260 and 380 ms; exactly 200 ms does not count
  EXPECT_EQ(stats.longest_gap_ms, 380U);
}

TEST(ReceiveStatistics, ListsWhereLongGapsHappened) {
  Feeder feeder;
  const int64_t start = 1'700'000'000'000'000;
  int seq = 0;
  for (int64_t at_ms : {0, 20, 40, 300, 320, 520, 900, 920}) {
    RtpFields fields;
    fields.seq = static_cast<uint16_t>(seq++);
    feeder.feed(fields, start + at_ms * 1000);
  }
  const StreamStats stats = feeder.report();
  ASSERT_EQ(stats.gaps.size(), 2U);
  EXPECT_EQ(stats.gaps[0], (ArrivalGap{1'700'000'000'040, 260}));
  EXPECT_EQ(stats.gaps[1], (ArrivalGap{1'700'000'000'520, 380}));
}

TEST(ReceiveStatistics, GapListKeepsTheFirst32AndCountsTheRest) {
  Feeder feeder;
  int64_t now = 1'000'000;
  for (int seq = 0; seq < 50; ++seq) {
    RtpFields fields;
    fields.seq = static_cast<uint16_t>(seq);
    feeder.feed(fields, now);
    now += 300'000;
  }
  const StreamStats stats = feeder.report();
  EXPECT_EQ(stats.gaps_over_200ms, 49U);
  ASSERT_EQ(stats.gaps.size(), StreamStats::kMaxListedGaps);
  EXPECT_EQ(stats.gaps.front(), (ArrivalGap{1'000, 300}));
  EXPECT_EQ(stats.gaps.back(), (ArrivalGap{1'000 + 31 * 300, 300}));
}

TEST(ReceiveStatistics, NoGapNoList) {
  Feeder feeder;
  feeder.audioRange(0, 99);
  const StreamStats stats = feeder.report();
  EXPECT_TRUE(stats.gaps.empty());
  EXPECT_EQ(stats.gaps.capacity(), 0U);
}

TEST(ReceiveStatistics, ReorderedPacketIsLateOnlyMoreThan60MsAfterTheNewest) {
  Feeder feeder;
  constexpr int64_t start = 1'000'000;
  auto at = [&feeder](uint16_t seq, int64_t ms) {
    RtpFields fields;
    fields.seq = seq;
    fields.timestamp = seq * 160U;
    feeder.feed(fields, start + ms * 1000);
  };
  at(0, 0);
  at(2, 40);
  at(1, 60);  // 20 ms after seq 2 arrived: reordered, in time for a jitter buffer
  at(4, 80);
  at(3, 140);  // exactly 60 ms after seq 4: not late
  at(6, 160);
  at(5, 221);  // 61 ms after seq 6: late
  at(7, 230);
  at(5, 300);  // a duplicate is never late
  at(10, 400);
  at(8, 700);  // long after seq 10: late
  const StreamStats stats = feeder.report();
  EXPECT_EQ(stats.reordered, 4U);
  EXPECT_EQ(stats.late, 2U);
  EXPECT_EQ(stats.duplicates, 1U);
  EXPECT_EQ(stats.lost, 1U);  // seq 9
}

TEST(ReceiveStatistics, TimestampWrapKeepsJitterSmall) {
  Feeder feeder;
  const int64_t start = 1'000'000;
  for (uint16_t i = 0; i < 20; ++i) {
    RtpFields fields;
    fields.seq = static_cast<uint16_t>(65530 + i);                         // the sequence wraps too
    fields.timestamp = static_cast<uint32_t>(0xFFFFFB00ULL + i * 160ULL);  // wraps at i = 8
    feeder.feed(fields, start + i * 20'000);
  }
  const StreamStats stats = feeder.report();
  EXPECT_EQ(stats.expected, 20U);
  EXPECT_EQ(stats.lost, 0U);
  EXPECT_EQ(stats.sequence_restarts, 0U);
  EXPECT_EQ(stats.extended_highest_seq, 65536U + 13U);
  EXPECT_LT(stats.jitter_ms, 0.001);
}

TEST(ReceiveStatistics, DtmfEventCountedOnceDespiteEndRetransmissions) {
  Feeder feeder;
  int64_t now = 1'000'000;
  uint16_t seq = 0;
  uint32_t audio_ts = 0;
  auto audio = [&] {
    RtpFields fields;
    fields.seq = seq++;
    fields.timestamp = audio_ts;
    feeder.feed(fields, now);
    audio_ts += 160;
    now += 20'000;
  };
  auto event = [&](int digit, bool marker, bool end, int duration) {
    RtpFields fields;
    fields.seq = seq++;
    fields.timestamp = audio_ts;  // start of the event, kept for all its packets
    fields.payload_type = kEventPt;
    fields.marker = marker;
    feeder.feed(fields, now, eventPayload(digit, end, duration));
    now += 20'000;
  };
  auto keyPress = [&](int digit) {
    event(digit, true, false, 160);
    event(digit, false, false, 320);
    event(digit, false, false, 480);
    for (int i = 0; i < 3; ++i) {
      event(digit, false, true, 640);
    }
    audio_ts += 6 * 160;  // the audio clock ran on while the event's 6 packets were sent
  };
  audio();
  audio();
  keyPress(1);
  audio();
  keyPress(1);  // the same digit again is a new event
  audio();
  keyPress(9);
  audio();
  const StreamStats stats = feeder.report();
  EXPECT_EQ(stats.dtmf_events, 3U);
  EXPECT_EQ(stats.lost, 0U);
  EXPECT_EQ(stats.jitter_ms, 0.0);  // event packets are left out of the jitter estimate
}

TEST(ReceiveStatistics, LateEventPacketOfAnEarlierEventIsNotANewEvent) {
  Feeder feeder;
  RtpFields first;
  first.payload_type = kEventPt;
  first.timestamp = 8000;
  first.seq = 1;
  first.marker = true;
  feeder.feed(first, 1000, eventPayload(3, false, 160));
  RtpFields second = first;
  second.timestamp = 16000;
  second.seq = 3;
  feeder.feed(second, 2000, eventPayload(4, false, 160));
  first.seq = 2;
  first.marker = false;
  feeder.feed(first, 3000, eventPayload(3, true, 320));  // late end of the first event
  EXPECT_EQ(feeder.report().dtmf_events, 2U);
}

TEST(ReceiveStatistics, LongEventSegmentIsNotANewEvent) {
  Feeder feeder;
  RtpFields fields;
  fields.payload_type = kEventPt;
  fields.timestamp = 1000;
  fields.marker = true;
  feeder.feed(fields, 1000, eventPayload(5, false, 0xFFFF));
  // RFC 4733 §2.5.1.3: the next segment has a new timestamp, no marker bit.
  fields.seq = 1;
  fields.timestamp = 1000 + 0xFFFF;
  fields.marker = false;
  feeder.feed(fields, 2000, eventPayload(5, false, 160));
  fields.seq = 2;
  feeder.feed(fields, 3000, eventPayload(5, true, 320));
  EXPECT_EQ(feeder.report().dtmf_events, 1U);
}

TEST(ReceiveStatistics, NoDtmfCountingWithoutTelephoneEventPayloadType) {
  Feeder feeder(ReceiveFormat{8000, std::nullopt});
  RtpFields fields;
  fields.payload_type = kEventPt;
  fields.marker = true;
  feeder.feed(fields, 1000, eventPayload(5, true, 160));
  EXPECT_EQ(feeder.report().dtmf_events, 0U);
}

}  // namespace
}  // namespace siprecd::media
