#include "media/udp_socket.hpp"

#include <gtest/gtest.h>

namespace siprecd::media {
namespace {

TEST(UdpSocketBuffer, KernelGrantsTwiceTheAskedReceiveBuffer) {
  const auto address = BindAddress::parse("127.0.0.1");
  ASSERT_TRUE(address);
  // Sizes below the default net.core.rmem_max (212992), so no privilege is needed.
  const auto small = UdpSocket::bind(*address, 0, 32 * 1024);
  const auto large = UdpSocket::bind(*address, 0, 80 * 1024);
  ASSERT_TRUE(small && large);
  EXPECT_EQ(small->receiveBufferBytes(), 2U * 32 * 1024);
  EXPECT_EQ(large->receiveBufferBytes(), 2U * 80 * 1024);
  EXPECT_NE(small->localPort(), 0);
}

TEST(UdpSocketBind, BusyPortIsReportedAsInUse) {
  const auto address = BindAddress::parse("127.0.0.1");
  ASSERT_TRUE(address);
  const auto first = UdpSocket::bind(*address, 0, 64 * 1024);
  ASSERT_TRUE(first);
  const auto second = UdpSocket::bind(*address, first->localPort(), 64 * 1024);
  ASSERT_FALSE(second);
  EXPECT_TRUE(second.error().address_in_use);
}

}  // namespace
}  // namespace siprecd::media
