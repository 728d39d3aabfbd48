#include "media/media_settings.hpp"

#include <gtest/gtest.h>
#include <sched.h>

namespace siprecd::media {
namespace {

TEST(PortRangeParse, AcceptsFirstDashLast) {
  const auto range = parsePortRange("20000-39999");
  ASSERT_TRUE(range) << range.error().message;
  EXPECT_EQ(*range, (PortRange{20000, 39999}));
  EXPECT_EQ(*parsePortRange(" 1000 - 1001 "), (PortRange{1000, 1001}));
}

TEST(PortRangeParse, RejectsMalformedText) {
  for (const char* text : {"", "20000", "20000-", "-20000", "a-b", "1-2-3", "20000:39999"}) {
    const auto range = parsePortRange(text);
    ASSERT_FALSE(range) << text;
    EXPECT_NE(range.error().message.find("port range"), std::string::npos);
  }
}

TEST(PortRangeParse, RejectsOutOfRangeOrReversedBounds) {
  EXPECT_FALSE(parsePortRange("0-100"));
  EXPECT_FALSE(parsePortRange("1000-65536"));
  EXPECT_FALSE(parsePortRange("3000-2000"));
}

TEST(PortRangeParse, RejectsRangeWithoutEvenOddPair) {
  EXPECT_FALSE(parsePortRange("1000-1000"));
  EXPECT_FALSE(parsePortRange("1001-1002"));
  EXPECT_TRUE(parsePortRange("1001-1003"));
  EXPECT_FALSE(parsePortRange("65535-65535"));
  EXPECT_TRUE(parsePortRange("65534-65535"));
}

TEST(ReceiveBackendParse, AcceptsTheTwoBackendNames) {
  EXPECT_EQ(*parseReceiveBackend("recvmmsg"), ReceiveBackend::Recvmmsg);
  EXPECT_EQ(*parseReceiveBackend("io_uring"), ReceiveBackend::IoUring);
  EXPECT_EQ(toString(ReceiveBackend::IoUring), "io_uring");
  const auto bad = parseReceiveBackend("epoll");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("epoll"), std::string::npos);
}

TEST(MediaThreads, ExplicitCountIsKept) {
  EXPECT_EQ(resolveMediaThreads(3), 3U);
}

TEST(MediaThreads, ZeroMeansOnePerCpuOfTheAffinityMask) {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  ASSERT_EQ(::sched_getaffinity(0, sizeof(cpus), &cpus), 0);
  EXPECT_EQ(resolveMediaThreads(0), static_cast<unsigned>(CPU_COUNT(&cpus)));
}

TEST(MediaSettingsDefaults, SpoolBufferFillsAboutOncePerFlushIntervalOfG711) {
  const MediaSettings settings;
  // 50 records of 24 + 160 + 4 bytes per second of 20 ms G.711: at most one write more per
  // interval than the flush alone, for a small buffer per stream.
  const std::size_t per_interval = 50U * 188 * settings.flush_interval.count() / 1000;
  EXPECT_GE(settings.spool_buffer_bytes * 2, per_interval);
  EXPECT_LE(settings.spool_buffer_bytes, per_interval);
  EXPECT_EQ(settings.threads, 0U);
  EXPECT_EQ(settings.receive_backend, ReceiveBackend::Recvmmsg);
}

}  // namespace
}  // namespace siprecd::media
