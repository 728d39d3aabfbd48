#include "media/rtp_types.hpp"

#include <gtest/gtest.h>

namespace siprecd::media {
namespace {

TEST(SeqNum, DistanceIsSignedModulo65536) {
  EXPECT_EQ(SeqNum(5).distanceFrom(SeqNum(3)), 2);
  EXPECT_EQ(SeqNum(3).distanceFrom(SeqNum(5)), -2);
  EXPECT_EQ(SeqNum(2).distanceFrom(SeqNum(65535)), 3);
  EXPECT_EQ(SeqNum(65535).distanceFrom(SeqNum(2)), -3);
  EXPECT_EQ(SeqNum(32767).distanceFrom(SeqNum(0)), 32767);
  EXPECT_EQ(SeqNum(32768).distanceFrom(SeqNum(0)), -32768);
}

TEST(SeqNum, NewerThanAcrossWrap) {
  EXPECT_TRUE(SeqNum(0).isNewerThan(SeqNum(65535)));
  EXPECT_FALSE(SeqNum(65535).isNewerThan(SeqNum(0)));
  EXPECT_FALSE(SeqNum(7).isNewerThan(SeqNum(7)));
}

TEST(SeqNum, AdvancedByWraps) {
  EXPECT_EQ(SeqNum(65534).advancedBy(3), SeqNum(1));
  EXPECT_EQ(SeqNum(1).advancedBy(-3), SeqNum(65534));
}

TEST(RtpTimestamp, DistanceIsSignedModulo2To32) {
  EXPECT_EQ(RtpTimestamp(16).distanceFrom(RtpTimestamp(0xFFFFFFF0)), 32);
  EXPECT_EQ(RtpTimestamp(0xFFFFFFF0).distanceFrom(RtpTimestamp(16)), -32);
  EXPECT_EQ(RtpTimestamp(160).distanceFrom(RtpTimestamp(0)), 160);
  EXPECT_EQ(RtpTimestamp(0x80000000).distanceFrom(RtpTimestamp(0)), -2147483648LL);
  EXPECT_TRUE(RtpTimestamp(100).isNewerThan(RtpTimestamp(0xFFFFFF00)));
}

TEST(RtpTimestamp, AdvancedByWraps) {
  EXPECT_EQ(RtpTimestamp(0xFFFFFF60).advancedBy(320), RtpTimestamp(160));
  EXPECT_EQ(RtpTimestamp(160).advancedBy(-320), RtpTimestamp(0xFFFFFF60));
}

TEST(Unwrapper, ExtendsTimestampsAcrossWrap) {
  RtpTimestampUnwrapper unwrapper;
  EXPECT_EQ(unwrapper.unwrap(RtpTimestamp(0xFFFFFF60)), 0xFFFFFF60LL);
  EXPECT_EQ(unwrapper.unwrap(RtpTimestamp(0)), 0x100000000LL);
  EXPECT_EQ(unwrapper.unwrap(RtpTimestamp(160)), 0x100000000LL + 160);
}

TEST(Unwrapper, ReorderedValueBeforeWrapStaysSmaller) {
  SeqNumUnwrapper unwrapper;
  EXPECT_EQ(unwrapper.unwrap(SeqNum(65534)), 65534);
  EXPECT_EQ(unwrapper.unwrap(SeqNum(1)), 65537);
  EXPECT_EQ(unwrapper.unwrap(SeqNum(65535)), 65535);
  EXPECT_EQ(unwrapper.unwrap(SeqNum(2)), 65538);
}

TEST(Unwrapper, ResetMapsNextValueToItself) {
  SeqNumUnwrapper unwrapper;
  unwrapper.unwrap(SeqNum(65535));
  unwrapper.unwrap(SeqNum(3));
  unwrapper.reset();
  EXPECT_EQ(unwrapper.unwrap(SeqNum(9)), 9);
}

}  // namespace
}  // namespace siprecd::media
