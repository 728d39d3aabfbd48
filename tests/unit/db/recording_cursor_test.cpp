#include "db/recording_cursor.hpp"

#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include <gtest/gtest.h>

namespace siprecd::db {
namespace {

TEST(RecordingCursor, RoundTripsTimesAndIdsWithAnyBytes) {
  const RecordingCursor cursors[] = {
      {0, "a"},
      {1700000000123, "0f8e2c1a-1b2c-4d5e-8f90-a1b2c3d4e5f6"},
      {-5, "id:with:colons"},
      {std::numeric_limits<int64_t>::max(), std::string("\x00\xff\xfe/+=", 6)},
      {std::numeric_limits<int64_t>::min(), "x"},
      {42, "ab"},
      {42, "abc"},
  };
  for (const auto& cursor : cursors) {
    const std::string text = encodeRecordingCursor(cursor);
    EXPECT_EQ(
        text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        std::string::npos)
        << text;
    const auto decoded = decodeRecordingCursor(text);
    ASSERT_TRUE(decoded) << decoded.error().message;
    EXPECT_EQ(*decoded, cursor);
  }
}

TEST(RecordingCursor, EncodesBase64UrlWithoutPadding) {
  // "1:a" -> MTph, "12:a" -> MTI6YQ (RFC 4648 §5, padding dropped).
  EXPECT_EQ(encodeRecordingCursor({1, "a"}), "MTph");
  EXPECT_EQ(encodeRecordingCursor({12, "a"}), "MTI6YQ");
  EXPECT_EQ(encodeRecordingCursor({1, "\xfb\xff"}), "MTr7_w");
}

TEST(RecordingCursor, RejectsMalformedTextWithCode400NamingTheCursor) {
  const std::string bad[] = {
      "",
      "!!!!",
      "MTph=",                             // padding
      "MTp+",                              // standard, not url-safe, alphabet
      "M",                                 // impossible length
      "MTpi" + std::string("Y"),           // length 5: 1 mod 4
      "MTI6YR",                            // non-zero spare bits
      "MTI6",                              // "12:" has no id
      "OmE",                               // ":a" has no time
      "YWJj",                              // "abc" has no ':'
      "eDph",                              // "x:a" time not decimal
      "MDc6YQ",                            // "07:a" not canonical
      "LTA6YQ",                            // "-0:a" not canonical
      "KzE6YQ",                            // "+1:a" not canonical
      "OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTph",  // time overflows int64
      std::string(2000, 'A'),
  };
  for (const auto& text : bad) {
    const auto decoded = decodeRecordingCursor(text);
    ASSERT_FALSE(decoded) << text;
    EXPECT_EQ(decoded.error().code, 400) << text;
    EXPECT_NE(decoded.error().message.find("cursor"), std::string::npos);
  }
}

TEST(RecordingCursor, ArbitraryTextEitherFailsOrIsCanonical) {
  std::mt19937 random(7);
  const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/:";
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text(random() % 12, ' ');
    for (auto& c : text) {
      c = alphabet[random() % alphabet.size()];
    }
    if (i % 2 == 0) {
      // Half the inputs are real encodings of random "n:id" text with some damage.
      text = encodeRecordingCursor({static_cast<int64_t>(random() % 100000), text});
      if (!text.empty() && i % 4 == 0) {
        text[random() % text.size()] = alphabet[random() % alphabet.size()];
      }
    }
    const auto decoded = decodeRecordingCursor(text);
    if (decoded) {
      ++accepted;
      EXPECT_EQ(encodeRecordingCursor(*decoded), text);
    } else {
      EXPECT_EQ(decoded.error().code, 400);
    }
  }
  EXPECT_GT(accepted, 1000);
}

}  // namespace
}  // namespace siprecd::db
