#include "media/media_settings.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace siprecd::media
