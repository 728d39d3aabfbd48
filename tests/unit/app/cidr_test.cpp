#include "app/cidr.hpp"

#include <gtest/gtest.h>

namespace siprecd::app {
namespace {

TEST(Cidr, MatchesIpv4Networks) {
  EXPECT_TRUE(cidrContains("10.0.0.0/8", "10.200.3.4"));
  EXPECT_FALSE(cidrContains("10.0.0.0/8", "11.0.0.1"));
  EXPECT_TRUE(cidrContains("192.168.1.0/24", "192.168.1.255"));
  EXPECT_FALSE(cidrContains("192.168.1.0/24", "192.168.2.0"));
  EXPECT_TRUE(cidrContains("172.16.0.0/12", "172.31.255.1"));
  EXPECT_FALSE(cidrContains("172.16.0.0/12", "172.32.0.1"));
}

TEST(Cidr, PrefixZeroMatchesEveryAddressOfItsFamily) {
  EXPECT_TRUE(cidrContains("0.0.0.0/0", "203.0.113.9"));
  EXPECT_FALSE(cidrContains("0.0.0.0/0", "2001:db8::1"));
  EXPECT_TRUE(cidrContains("::/0", "2001:db8::1"));
}

TEST(Cidr, BareAddressIsAHostRoute) {
  EXPECT_TRUE(cidrContains("10.1.2.3", "10.1.2.3"));
  EXPECT_FALSE(cidrContains("10.1.2.3", "10.1.2.4"));
  EXPECT_TRUE(cidrContains("2001:db8::1", "[2001:db8::1]"));
}

TEST(Cidr, MatchesIpv6NetworksWithPartialBytes) {
  EXPECT_TRUE(cidrContains("2001:db8::/32", "2001:db8:ffff::1"));
  EXPECT_FALSE(cidrContains("2001:db8::/32", "2001:db9::1"));
  EXPECT_TRUE(cidrContains("2001:db8:8000::/33", "2001:db8:8001::1"));
  EXPECT_FALSE(cidrContains("2001:db8:8000::/33", "2001:db8:7fff::1"));
  EXPECT_TRUE(cidrContains("fe80::/10", "fe80::1%eth0"));
}

TEST(Cidr, Ipv4MappedIpv6AddressMatchesIpv4Network) {
  EXPECT_TRUE(cidrContains("10.0.0.0/8", "::ffff:10.1.2.3"));
  EXPECT_FALSE(cidrContains("10.0.0.0/8", "::ffff:11.1.2.3"));
}

TEST(Cidr, RejectsMalformedNetworksAndAddresses) {
  EXPECT_FALSE(parseCidr("10.0.0.0/33"));
  EXPECT_FALSE(parseCidr("2001:db8::/129"));
  EXPECT_FALSE(parseCidr("10.0.0/8"));
  EXPECT_FALSE(parseCidr("example.com/8"));
  EXPECT_FALSE(parseCidr("10.0.0.0/"));
  EXPECT_FALSE(parseCidr("10.0.0.0/-1"));
  EXPECT_FALSE(cidrContains("10.0.0.0/8", "not an ip"));
  EXPECT_FALSE(cidrContains("garbage", "10.0.0.1"));
  const auto error = parseCidr("10.0.0.0/40");
  ASSERT_FALSE(error);
  EXPECT_NE(error.error().message.find("10.0.0.0/40"), std::string::npos);
}

TEST(Cidr, HostBitsBeyondThePrefixAreIgnored) {
  EXPECT_TRUE(cidrContains("10.9.9.9/8", "10.1.1.1"));
}

}  // namespace
}  // namespace siprecd::app
