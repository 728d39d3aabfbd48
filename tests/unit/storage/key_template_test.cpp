#include "storage/key_template.hpp"

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace siprecd::storage {
namespace {

const std::map<std::string, std::string> kValues = {{"domain", "acme"},
                                                    {"recordingId", "r-1"},
                                                    {"date", "2026-03-04"},
                                                    {"callId", "abc@10.0.0.1"},
                                                    {"ext", "wav"}};

TEST(KeyTemplate, ExpandsEveryPlaceholder) {
  auto key = expandKeyTemplate("{domain}/{date}/{recordingId}-{callId}.{ext}", kValues);
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_EQ(*key, "acme/2026-03-04/r-1-abc@10.0.0.1.wav");
}

TEST(KeyTemplate, KeepsLiteralText) {
  auto key = expandKeyTemplate("calls/{recordingId}", kValues);
  ASSERT_TRUE(key);
  EXPECT_EQ(*key, "calls/r-1");
}

TEST(KeyTemplate, ReplacesUnsafeCharactersInValues) {
  auto values = kValues;
  values["callId"] = "a/b c\\d";
  auto key = expandKeyTemplate("{callId}.{ext}", values);
  ASSERT_TRUE(key);
  EXPECT_EQ(*key, "a_b_c_d.wav");
}

TEST(KeyTemplate, ValueCannotClimbOutOfTheRoot) {
  auto values = kValues;
  values["callId"] = "..";
  auto key = expandKeyTemplate("{domain}/{callId}/x.{ext}", values);
  ASSERT_TRUE(key);
  EXPECT_EQ(*key, "acme/__/x.wav");
  values["callId"] = "../../etc/passwd";
  key = expandKeyTemplate("{callId}", values);
  ASSERT_TRUE(key);
  EXPECT_EQ(*key, ".._.._etc_passwd");
}

TEST(KeyTemplate, RejectsParentSegmentsInTheTemplate) {
  for (const char* text :
       {"../{recordingId}", "a/../../{recordingId}", "{domain}/..", "./{recordingId}", "a/./b"}) {
    auto key = expandKeyTemplate(text, kValues);
    ASSERT_FALSE(key) << text;
    EXPECT_EQ(key.error().code, 400);
    EXPECT_NE(key.error().message.find("segment"), std::string::npos) << key.error().message;
  }
}

TEST(KeyTemplate, RejectsAbsoluteAndEmptyKeys) {
  auto absolute = expandKeyTemplate("/{recordingId}", kValues);
  ASSERT_FALSE(absolute);
  EXPECT_NE(absolute.error().message.find("'/'"), std::string::npos);
  EXPECT_FALSE(expandKeyTemplate("", kValues));
  EXPECT_FALSE(expandKeyTemplate("a//{recordingId}", kValues));
  EXPECT_FALSE(expandKeyTemplate("{recordingId}/", kValues));
}

TEST(KeyTemplate, RejectsControlCharactersAndNul) {
  EXPECT_FALSE(expandKeyTemplate(std::string("a\0b", 3), kValues));
  EXPECT_FALSE(expandKeyTemplate("a\nb", kValues));
  EXPECT_FALSE(expandKeyTemplate("a\x7f", kValues));
}

TEST(KeyTemplate, RejectsUnknownPlaceholderNamingIt) {
  auto key = expandKeyTemplate("{domain}/{user}", kValues);
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().code, 400);
  EXPECT_NE(key.error().message.find("{user}"), std::string::npos) << key.error().message;
}

TEST(KeyTemplate, RejectsUnbalancedBraces) {
  for (const char* text : {"{domain", "domain}", "{dom{ain}", "{}", "a}{b"}) {
    EXPECT_FALSE(expandKeyTemplate(text, kValues)) << text;
  }
}

TEST(KeyTemplate, RejectsPlaceholderWithoutValue) {
  auto key = expandKeyTemplate("{callId}", {{"domain", "acme"}});
  ASSERT_FALSE(key);
  EXPECT_NE(key.error().message.find("{callId}"), std::string::npos);
}

TEST(KeyTemplate, RejectsOverlongKeysAndSegments) {
  EXPECT_FALSE(expandKeyTemplate(std::string(256, 'a'), kValues));
  EXPECT_TRUE(expandKeyTemplate(std::string(255, 'a'), kValues));
  std::string deep;
  for (int i = 0; i < 120; ++i) {
    deep += "abcdefghi/";
  }
  EXPECT_FALSE(expandKeyTemplate(deep + "{recordingId}", kValues));
}

TEST(KeyTemplate, CheckKeyAcceptsNestedRelativeKeys) {
  EXPECT_TRUE(checkKey("a/b/c.wav"));
  EXPECT_TRUE(checkKey("a..b/.hidden"));
  EXPECT_FALSE(checkKey("a/../b"));
}

// Every template of up to four pieces (hostile literals and placeholders with hostile
// values): whatever expands stays below the root.
TEST(KeyTemplate, NoExpansionLeavesTheRoot) {
  const std::vector<std::string> pieces = {
      "..",    ".", "/", "a",  "{domain}",           "{callId}",
      "{ext}", "{", "}", "\\", std::string(1, '\0'), "%2e"};
  const std::map<std::string, std::string> hostile = {{"domain", ".."},
                                                      {"recordingId", "../x"},
                                                      {"date", "/"},
                                                      {"callId", "../../etc"},
                                                      {"ext", "."}};
  const std::filesystem::path root = "/srv/root";
  std::size_t expanded = 0;
  for (std::size_t count = 1; count <= 4; ++count) {
    std::size_t combinations = 1;
    for (std::size_t i = 0; i < count; ++i) {
      combinations *= pieces.size();
    }
    for (std::size_t n = 0; n < combinations; ++n) {
      std::string text;
      for (std::size_t i = 0, rest = n; i < count; ++i, rest /= pieces.size()) {
        text += pieces[rest % pieces.size()];
      }
      auto key = expandKeyTemplate(text, hostile);
      if (!key) {
        continue;
      }
      ++expanded;
      ASSERT_TRUE(checkKey(*key)) << text;
      const auto resolved = (root / *key).lexically_normal();
      ASSERT_EQ(resolved.string().rfind("/srv/root/", 0), 0u) << text << " -> " << *key;
    }
  }
  EXPECT_GT(expanded, 100u);  // the property was exercised, not vacuously true
}

TEST(KeyTemplate, DateIsTheUtcDayOfTheStart) {
  EXPECT_EQ(keyDate(0), "1970-01-01");
  // 2026-03-04T23:59:59.999Z and the next millisecond.
  EXPECT_EQ(keyDate(1772668799999), "2026-03-04");
  EXPECT_EQ(keyDate(1772668800000), "2026-03-05");
  EXPECT_EQ(keyDate(-1), "1969-12-31");
}

}  // namespace
}  // namespace siprecd::storage
