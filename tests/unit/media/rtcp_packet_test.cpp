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

}  // namespace
}  // namespace siprecd::media
