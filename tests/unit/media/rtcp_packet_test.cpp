#include "media/rtcp_packet.hpp"

#include <gtest/gtest.h>

#include "media_test_support.hpp"

namespace siprecd::media {
namespace {

using testing::bytesOf;

// An empty receiver report (RFC 3550 §6.4.2: header + SSRC, length 1) followed by an SDES
// with one CNAME chunk "ab" (header, SSRC, item 1 len 2 "ab", end + pad: length 3).
const std::vector<std::byte> kCompound = bytesOf({
    0x80, 201, 0, 1, 0x11, 0x22, 0x33, 0x44,                             // RR
    0x81, 202, 0, 3, 0x11, 0x22, 0x33, 0x44, 1, 2, 'a', 'b', 0, 0, 0, 0  // SDES
});

TEST(RtcpCompound, CountsPacketsOfValidCompound) {
  const auto compound = RtcpCompound::parse(kCompound);
  ASSERT_TRUE(compound) << compound.error().message;
  EXPECT_EQ(compound->packetCount(), 2U);
  EXPECT_EQ(compound->firstPacketType(), static_cast<uint8_t>(RtcpPacketType::ReceiverReport));
}

TEST(RtcpCompound, RejectsLengthBeyondDatagram) {
  auto bytes = kCompound;
  bytes[11] = std::byte{4};
  const auto compound = RtcpCompound::parse(bytes);
  ASSERT_FALSE(compound);
  EXPECT_NE(compound.error().message.find("length"), std::string::npos);
}

TEST(RtcpCompound, RejectsTrailingBytesAfterLastPacket) {
  auto bytes = kCompound;
  bytes.push_back(std::byte{0x80});
  bytes.push_back(std::byte{200});
  EXPECT_FALSE(RtcpCompound::parse(bytes));
}

TEST(RtcpCompound, RejectsBadVersionInLaterPacket) {
  auto bytes = kCompound;
  bytes[8] = std::byte{0x41};
  EXPECT_FALSE(RtcpCompound::parse(bytes));
}

TEST(RtcpCompound, RejectsRtpLookingPacketType) {
  EXPECT_FALSE(RtcpCompound::parse(bytesOf({0x80, 0, 0, 0})));
  EXPECT_FALSE(RtcpCompound::parse(bytesOf({0x80, 201})));
}

// A sender report (RFC 3550 §6.4.1) with `blocks` report blocks of zeros after the sender
// info: SSRC 0x01020304, NTP 0x83AA7E80_80000000, RTP 0xA0B0C0D0, 50 packets, 8000 octets.
std::vector<std::byte> senderReport(int blocks) {
  std::vector<std::byte> bytes = bytesOf({0x80 | blocks,
                                          200,
                                          0,
                                          6 + 6 * blocks,
                                          1,
                                          2,
                                          3,
                                          4,
                                          0x83,
                                          0xAA,
                                          0x7E,
                                          0x80,
                                          0x80,
                                          0,
                                          0,
                                          0,
                                          0xA0,
                                          0xB0,
                                          0xC0,
                                          0xD0,
                                          0,
                                          0,
                                          0,
                                          50,
                                          0,
                                          0,
                                          0x1F,
                                          0x40});
  bytes.resize(bytes.size() + 24 * static_cast<std::size_t>(blocks));
  return bytes;
}

TEST(RtcpSenderReport, ReadsSenderInfo) {
  const auto bytes = senderReport(1);
  const auto report = RtcpSenderReport::tryParse(bytes);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->ssrc, Ssrc(0x01020304));
  EXPECT_EQ(report->ntp_timestamp, 0x83AA7E8080000000ULL);
  EXPECT_EQ(report->rtp_timestamp, RtpTimestamp(0xA0B0C0D0));
  EXPECT_EQ(report->packet_count, 50U);
  EXPECT_EQ(report->octet_count, 8000U);
  EXPECT_EQ(report->report_count, 1U);
}

TEST(RtcpSenderReport, RejectsOtherTypesAndShortPackets) {
  auto bytes = senderReport(0);
  EXPECT_TRUE(RtcpSenderReport::tryParse(bytes));
  EXPECT_FALSE(RtcpSenderReport::tryParse(std::span(bytes).first(27)));
  auto receiver_report = bytes;
  receiver_report[1] = std::byte{201};
  EXPECT_FALSE(RtcpSenderReport::tryParse(receiver_report));
  auto version1 = bytes;
  version1[0] = std::byte{0x40};
  EXPECT_FALSE(RtcpSenderReport::tryParse(version1));
  auto missing_block = senderReport(2);
  missing_block[3] = std::byte{6 + 6};  // length for one block, RC says two
  missing_block.resize(28 + 24);
  EXPECT_FALSE(RtcpSenderReport::tryParse(missing_block));
  auto beyond = bytes;
  beyond[3] = std::byte{7};  // length beyond the packet
  EXPECT_FALSE(RtcpSenderReport::tryParse(beyond));
}

TEST(RtcpSenderReport, PaddingCountsAgainstTheReportBlocks) {
  auto padded = senderReport(0);
  padded[0] = std::byte{0xA0};  // P set
  padded.insert(padded.end(), {std::byte{0}, std::byte{0}, std::byte{0}, std::byte{4}});
  padded[3] = std::byte{7};
  EXPECT_TRUE(RtcpSenderReport::tryParse(padded));
  padded[padded.size() - 1] = std::byte{0};  // a zero pad count is invalid
  EXPECT_FALSE(RtcpSenderReport::tryParse(padded));
  padded[padded.size() - 1] = std::byte{8};  // eats into the sender info
  EXPECT_FALSE(RtcpSenderReport::tryParse(padded));
}

TEST(RtcpCompound, VisitsEachPacketInOrder) {
  auto bytes = senderReport(0);
  bytes.insert(bytes.end(), kCompound.begin(), kCompound.end());
  const auto compound = RtcpCompound::tryParse(bytes);
  ASSERT_TRUE(compound);
  std::vector<std::pair<uint8_t, std::size_t>> seen;
  compound->forEachPacket([&seen](uint8_t type, std::span<const std::byte> packet) {
    seen.emplace_back(type, packet.size());
  });
  EXPECT_EQ(seen, (std::vector<std::pair<uint8_t, std::size_t>>{{200, 28}, {201, 8}, {202, 16}}));
}

}  // namespace
}  // namespace siprecd::media
