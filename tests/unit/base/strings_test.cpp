#include "base/strings.hpp"

#include <string>

#include <gtest/gtest.h>

namespace siprecd {
namespace {

TEST(HexDigitValue, ReadsBothCasesAndRejectsOthers) {
  EXPECT_EQ(hexDigitValue('0'), 0);
  EXPECT_EQ(hexDigitValue('9'), 9);
  EXPECT_EQ(hexDigitValue('a'), 10);
  EXPECT_EQ(hexDigitValue('F'), 15);
  EXPECT_EQ(hexDigitValue('g'), -1);
  EXPECT_EQ(hexDigitValue('%'), -1);
}

TEST(PrintableExcerpt, ReplacesControlsTrimsAndCuts) {
  EXPECT_EQ(printableExcerpt("  Access\tDenied\r\n", 200), "Access Denied");
  EXPECT_EQ(printableExcerpt(std::string("a\0b\x7f", 4), 200), "a b");
  EXPECT_EQ(printableExcerpt(std::string(500, 'x'), 200), std::string(200, 'x'));
  EXPECT_EQ(printableExcerpt("", 200), "");
}

}  // namespace
}  // namespace siprecd
