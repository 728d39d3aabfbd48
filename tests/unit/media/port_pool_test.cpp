#include "media/port_pool.hpp"

#include <set>

#include <gtest/gtest.h>

namespace siprecd::media {
namespace {

using std::chrono::seconds;
const PortPool::TimePoint kT0 = PortPool::TimePoint(std::chrono::hours(1));

TEST(PortPool, HandsOutEvenPortsWhoseRtcpPortFits) {
  PortPool pool(PortRange{1001, 1008}, seconds(10));
  EXPECT_EQ(pool.capacity(), 3U);  // 1002, 1004, 1006 (1008 has no 1009)
  std::set<uint16_t> ports;
  while (auto port = pool.acquire(kT0)) {
    EXPECT_EQ(*port % 2, 0);
    ports.insert(*port);
  }
  EXPECT_EQ(ports, (std::set<uint16_t>{1002, 1004, 1006}));
}

TEST(PortPool, ExhaustedRangeGivesNothing) {
  PortPool pool(PortRange{2000, 2003}, seconds(10));
  ASSERT_TRUE(pool.acquire(kT0));
  ASSERT_TRUE(pool.acquire(kT0));
  EXPECT_FALSE(pool.acquire(kT0));
}

TEST(PortPool, ReleasedPortWaitsForCooldown) {
  PortPool pool(PortRange{2000, 2001}, seconds(10));
  const auto port = pool.acquire(kT0);
  ASSERT_EQ(port, 2000);
  pool.release(*port, kT0);
  EXPECT_FALSE(pool.acquire(kT0 + seconds(9)));
  EXPECT_EQ(pool.acquire(kT0 + seconds(10)), 2000);
}

TEST(PortPool, ReusesPortsInFifoOrder) {
  PortPool pool(PortRange{2000, 2005}, seconds(0));
  EXPECT_EQ(pool.acquire(kT0), 2000);
  pool.release(2000, kT0);
  EXPECT_EQ(pool.acquire(kT0), 2002);
  EXPECT_EQ(pool.acquire(kT0), 2004);
  EXPECT_EQ(pool.acquire(kT0), 2000);
}

TEST(PortPool, UnusedPortIsReusableAtOnce) {
  PortPool pool(PortRange{2000, 2001}, seconds(10));
  pool.releaseUnused(*pool.acquire(kT0));
  EXPECT_EQ(pool.acquire(kT0), 2000);
}

}  // namespace
}  // namespace siprecd::media
