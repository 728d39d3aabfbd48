#include <gtest/gtest.h>

#include "siprec/rs_metadata.hpp"

namespace siprecd::siprec {
namespace {

TEST(RsDateTime, ParsesUtcWithAndWithoutFraction) {
  EXPECT_EQ(parseRsDateTimeMs("2010-12-16T23:41:07Z"), 1292542867000);
  EXPECT_EQ(parseRsDateTimeMs("2010-12-16T23:50:27.250Z"), 1292543427250);
  EXPECT_EQ(parseRsDateTimeMs("2010-12-16T23:50:27.25Z"), 1292543427250);
  EXPECT_EQ(parseRsDateTimeMs("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parseRsDateTimeMs("2010-12-16T23:41Z"), 1292542860000);  // seconds omitted
  EXPECT_EQ(parseRsDateTimeMs("  2010-12-16T23:41:07Z\n"), 1292542867000);
}

TEST(RsDateTime, TruncatesFractionBeyondMilliseconds) {
  EXPECT_EQ(parseRsDateTimeMs("2023-01-19T08:21:13.382512Z"), 1674116473382);
  EXPECT_EQ(parseRsDateTimeMs("2023-01-19T08:21:13.3829999999Z"), 1674116473382);
}

TEST(RsDateTime, AppliesZoneOffsets) {
  EXPECT_EQ(parseRsDateTimeMs("2024-03-10T14:05:59.123+05:30"), 1710059759123);
  EXPECT_EQ(parseRsDateTimeMs("2024-03-10T14:05:59.123+0530"), 1710059759123);
  EXPECT_EQ(parseRsDateTimeMs("2016-06-22T10:44:43+01:00"), 1466588683000);
  EXPECT_EQ(parseRsDateTimeMs("2016-06-22T10:44:43+01"), 1466588683000);
  EXPECT_EQ(parseRsDateTimeMs("2024-12-31T23:59:59-08:00"), 1735718399000);
  EXPECT_EQ(parseRsDateTimeMs("2010-12-16T23:41:07+00:00"), 1292542867000);
}

TEST(RsDateTime, MissingZoneMeansUtc) {
  EXPECT_EQ(parseRsDateTimeMs("2012-06-26T13:44:13"), 1340718253000);
  EXPECT_EQ(parseRsDateTimeMs("2012-06-26 13:44:13"), 1340718253000);
  EXPECT_EQ(parseRsDateTimeMs("2012-06-26t13:44:13z"), 1340718253000);
}

TEST(RsDateTime, HandlesCalendarEdges) {
  EXPECT_EQ(parseRsDateTimeMs("2000-02-29T12:00:00Z"), 951825600000);
  EXPECT_EQ(parseRsDateTimeMs("1969-12-31T23:59:59.999Z"), -1);
  EXPECT_EQ(parseRsDateTimeMs("2010-12-16T24:00:00Z"), parseRsDateTimeMs("2010-12-17T00:00:00Z"));
}

TEST(RsDateTime, RejectsMalformedOrOutOfRange) {
  for (const char* text :
       {"", "yesterday", "2010-12-16", "2010-12-16T23:41:07Q", "2010-13-01T00:00:00Z",
        "2010-00-01T00:00:00Z", "2011-02-29T00:00:00Z", "2010-12-32T00:00:00Z",
        "2010-12-16T25:00:00Z", "2010-12-16T24:00:01Z", "2010-12-16T23:60:00Z",
        "2010-12-16T23:41:61Z", "2010-12-16T23:41:07.Z", "2010-12-16T23:41:07+5:30",
        "2010-12-16T23:41:07+05:", "2010-12-16T23:41:07+24:00", "2010-12-16T23:41:07Z junk",
        "10-12-16T23:41:07Z", "2010/12/16T23:41:07Z"}) {
    EXPECT_FALSE(parseRsDateTimeMs(text).has_value()) << text;
  }
}

}  // namespace
}  // namespace siprecd::siprec
