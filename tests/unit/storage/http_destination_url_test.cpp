#include <gtest/gtest.h>

#include "storage/http_destination.hpp"
#include "support/temp_dir.hpp"

namespace siprecd::storage {
namespace {

TEST(HttpDestinationUrl, LocationDropsQueryAndFragment) {
  EXPECT_EQ(urlWithoutQuery("https://b.s3.amazonaws.com/k.wav?X-Amz-Signature=abc"),
            "https://b.s3.amazonaws.com/k.wav");
  EXPECT_EQ(urlWithoutQuery("http://h/p#frag"), "http://h/p");
  EXPECT_EQ(urlWithoutQuery("http://h/p"), "http://h/p");
}

TEST(HttpDestinationUrl, AcceptsOnlyHttpUrlsWithAHost) {
  EXPECT_TRUE(isHttpUrl("https://example.com/a?b=c"));
  EXPECT_TRUE(isHttpUrl("HTTP://127.0.0.1:8080/a"));
  EXPECT_FALSE(isHttpUrl("file:///etc/passwd"));
  EXPECT_FALSE(isHttpUrl("ftp://example.com/a"));
  EXPECT_FALSE(isHttpUrl("http:///path"));
  EXPECT_FALSE(isHttpUrl("http://"));
  EXPECT_FALSE(isHttpUrl("http://host/a b"));
  EXPECT_FALSE(isHttpUrl("example.com/a"));
}

TEST(HttpDestinationUrl, PutRejectsNonHttpUrlWith400) {
  test_support::TempDir temp;
  HttpDestination destination;
  auto stored = destination.put(temp.write("a.wav", "abc"), "file:///tmp/x", "audio/wav");
  ASSERT_FALSE(stored);
  EXPECT_EQ(stored.error().code, 400);
}

TEST(HttpDestinationUrl, TransportFailureIsRetriedThenReportedWithoutTheQuery) {
  test_support::TempDir temp;
  HttpDestinationSettings settings;
  settings.attempts = 2;
  settings.backoff = std::chrono::milliseconds(1);
  settings.connect_timeout = std::chrono::milliseconds(2000);
  HttpDestination destination(settings);
  // Port 1 on loopback: nothing listens, the connection is refused at once.
  auto stored = destination.put(temp.write("a.wav", "abc"), "http://127.0.0.1:1/k.wav?sig=SECRET",
                                "audio/wav");
  ASSERT_FALSE(stored);
  EXPECT_EQ(stored.error().code, 0);
  EXPECT_NE(stored.error().message.find("http://127.0.0.1:1/k.wav"), std::string::npos);
  EXPECT_EQ(stored.error().message.find("SECRET"), std::string::npos) << stored.error().message;
}

}  // namespace
}  // namespace siprecd::storage
