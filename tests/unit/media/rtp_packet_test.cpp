#include "media/rtp_packet.hpp"

#include <gtest/gtest.h>

#include "media_test_support.hpp"

namespace siprecd::media {
namespace {

using testing::bytesOf;
using testing::makeRtp;
using testing::RtpFields;

TEST(RtpPacket, ParsesFixedHeaderAndPayload) {
  RtpFields fields;
  fields.seq = 0xABCD;
  fields.timestamp = 0x01020304;
  fields.ssrc = 0xDEADBEEF;
  fields.payload_type = 8;
  fields.marker = true;
  const auto datagram = makeRtp(fields, bytesOf({1, 2, 3}));
  const auto packet = RtpPacket::parse(datagram);
  ASSERT_TRUE(packet) << packet.error().message;
  EXPECT_EQ(packet->sequenceNumber(), SeqNum(0xABCD));
  EXPECT_EQ(packet->timestamp(), RtpTimestamp(0x01020304));
  EXPECT_EQ(packet->ssrc(), Ssrc(0xDEADBEEF));
  EXPECT_EQ(packet->payloadType(), 8);
  EXPECT_TRUE(packet->marker());
  EXPECT_EQ(packet->headerBytes(), 12U);
  EXPECT_EQ(packet->paddingBytes(), 0U);
  ASSERT_EQ(packet->payload().size(), 3U);
  EXPECT_EQ(packet->payload()[2], std::byte{3});
  EXPECT_FALSE(packet->extension());
}

TEST(RtpPacket, AcceptsEmptyPayload) {
  const auto datagram = makeRtp(RtpFields{}, {});
  const auto packet = RtpPacket::parse(datagram);
  ASSERT_TRUE(packet);
  EXPECT_TRUE(packet->payload().empty());
}

TEST(RtpPacket, RejectsShortDatagram) {
  const auto datagram = makeRtp(RtpFields{}, {});
  const auto packet = RtpPacket::parse(std::span(datagram).first(11));
  ASSERT_FALSE(packet);
  EXPECT_NE(packet.error().message.find("fixed header"), std::string::npos);
}

TEST(RtpPacket, RejectsVersionOtherThanTwo) {
  for (int version : {0, 1, 3}) {
    auto datagram = makeRtp(RtpFields{}, bytesOf({1}));
    datagram[0] = static_cast<std::byte>((version << 6) | 0);
    const auto packet = RtpPacket::parse(datagram);
    ASSERT_FALSE(packet) << version;
    EXPECT_NE(packet.error().message.find("version"), std::string::npos);
  }
}

TEST(RtpPacket, ReadsCsrcListAndSkipsIt) {
  RtpFields fields;
  fields.csrcs = {0x01010101, 0x02020202};
  const auto datagram = makeRtp(fields, bytesOf({9, 9}));
  const auto packet = RtpPacket::parse(datagram);
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->csrcCount(), 2);
  EXPECT_EQ(packet->csrc(1), Ssrc(0x02020202));
  EXPECT_EQ(packet->headerBytes(), 20U);
  EXPECT_EQ(packet->payload().size(), 2U);
}

TEST(RtpPacket, RejectsCsrcCountBeyondDatagram) {
  auto datagram = makeRtp(RtpFields{}, bytesOf({1, 2, 3, 4}));
  datagram[0] = std::byte{0x82};  // two CSRCs announced, only 4 bytes follow
  const auto packet = RtpPacket::parse(datagram);
  ASSERT_FALSE(packet);
  EXPECT_NE(packet.error().message.find("CSRC"), std::string::npos);
}

TEST(RtpPacket, ReadsHeaderExtensionAndSkipsIt) {
  RtpFields fields;
  fields.has_extension = true;
  fields.extension = bytesOf({0x10, 0xAA, 0, 0});
  const auto datagram = makeRtp(fields, bytesOf({7}));
  const auto packet = RtpPacket::parse(datagram);
  ASSERT_TRUE(packet);
  const auto extension = packet->extension();
  ASSERT_TRUE(extension);
  EXPECT_EQ(extension->profile, 0xBEDE);
  ASSERT_EQ(extension->data.size(), 4U);
  EXPECT_EQ(extension->data[1], std::byte{0xAA});
  EXPECT_EQ(packet->headerBytes(), 20U);
  ASSERT_EQ(packet->payload().size(), 1U);
  EXPECT_EQ(packet->payload()[0], std::byte{7});
}

TEST(RtpPacket, RejectsExtensionHeaderBeyondDatagram) {
  auto datagram = makeRtp(RtpFields{}, bytesOf({1, 2}));
  datagram[0] = std::byte{0x90};  // X bit, but only 2 bytes after the fixed header
  ASSERT_FALSE(RtpPacket::parse(datagram));
}

TEST(RtpPacket, RejectsExtensionLengthBeyondDatagram) {
  RtpFields fields;
  fields.has_extension = true;
  fields.extension = bytesOf({1, 2, 3, 4});
  auto datagram = makeRtp(fields, {});
  datagram[15] = std::byte{2};  // claims 2 words, 1 present
  const auto packet = RtpPacket::parse(datagram);
  ASSERT_FALSE(packet);
  EXPECT_NE(packet.error().message.find("extension"), std::string::npos);
}

TEST(RtpPacket, StripsPadding) {
  RtpFields fields;
  fields.padding = 3;
  const auto datagram = makeRtp(fields, bytesOf({5, 6}));
  const auto packet = RtpPacket::parse(datagram);
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->paddingBytes(), 3U);
  ASSERT_EQ(packet->payload().size(), 2U);
  EXPECT_EQ(packet->payload()[1], std::byte{6});
}

TEST(RtpPacket, RejectsPaddingCountZero) {
  auto datagram = makeRtp(RtpFields{}, bytesOf({1, 0}));
  datagram[0] = std::byte{0xA0};
  ASSERT_FALSE(RtpPacket::parse(datagram));
}

TEST(RtpPacket, RejectsPaddingLargerThanPayload) {
  RtpFields fields;
  fields.padding = 2;
  auto datagram = makeRtp(fields, bytesOf({1}));
  datagram.back() = std::byte{4};  // 4 > 3 bytes after the header
  const auto packet = RtpPacket::parse(datagram);
  ASSERT_FALSE(packet);
  EXPECT_NE(packet.error().message.find("padding"), std::string::npos);
}

TEST(RtpPacket, PaddingMayTakeTheWholePayload) {
  RtpFields fields;
  fields.padding = 4;
  const auto datagram = makeRtp(fields, {});
  const auto packet = RtpPacket::parse(datagram);
  ASSERT_TRUE(packet);
  EXPECT_TRUE(packet->payload().empty());
}

TEST(RtpPacket, RtcpDemultiplexingUsesSecondOctet) {
  EXPECT_TRUE(looksLikeRtcp(bytesOf({0x80, 200, 0, 6})));
  EXPECT_TRUE(looksLikeRtcp(bytesOf({0x81, 201, 0, 7})));
  EXPECT_TRUE(looksLikeRtcp(bytesOf({0x80, 206, 0, 2})));
  EXPECT_FALSE(looksLikeRtcp(bytesOf({0x80, 0, 0, 1})));
  EXPECT_FALSE(looksLikeRtcp(bytesOf({0x80, 0x80 | 8, 0, 1})));   // PCMA with marker
  EXPECT_FALSE(looksLikeRtcp(bytesOf({0x80, 96 | 0x80, 0, 1})));  // dynamic PT 96 + marker
  EXPECT_FALSE(looksLikeRtcp(bytesOf({0x40, 200, 0, 1})));        // version 1
  EXPECT_FALSE(looksLikeRtcp(bytesOf({0x80})));
}

}  // namespace
}  // namespace siprecd::media
