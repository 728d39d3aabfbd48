#include "base/log.hpp"

#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace siprecd::log {
namespace {

/// Captures the lines written while alive and restores stderr and the level afterwards.
class CapturedLines {
 public:
  explicit CapturedLines(Level level) {
    setLevel(level);
    setSinkForTesting([this](std::string_view line) {
      std::lock_guard<std::mutex> lock(mutex_);
      lines_.emplace_back(line);
    });
  }
  ~CapturedLines() {
    setSinkForTesting(nullptr);
    setLevel(Level::Info);
  }
  std::vector<nlohmann::json> json() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<nlohmann::json> out;
    for (const auto& line : lines_) {
      out.push_back(nlohmann::json::parse(line));
    }
    return out;
  }
  std::size_t size() {
    std::lock_guard<std::mutex> lock(mutex_);
    return lines_.size();
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> lines_;
};

class ManualClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point steadyNow() const override { return now; }
  std::chrono::system_clock::time_point systemNow() const override { return {}; }
  std::chrono::steady_clock::time_point now{std::chrono::seconds(1000)};
};

TEST(LogLine, HasIsoTimestampLevelComponentAndMessage) {
  // 2026-11-26T14:31:02.123Z
  const std::string line = detail::formatLine(1795703462123, Level::Info, "sip", "hello", 0);
  EXPECT_EQ(line,
            R"({"ts":"2026-11-26T14:31:02.123Z","level":"info","component":"sip","msg":"hello"})");
}

TEST(LogLine, EscapesQuotesControlCharactersAndInvalidUtf8) {
  const std::string message = std::string("a\"b\\c\nd\te\x01 caf\xC3\xA9 bad\xFF\xC3");
  const std::string line = detail::formatLine(0, Level::Warn, "sip", message, 0);
  const auto json = nlohmann::json::parse(line);
  EXPECT_EQ(json["msg"], "a\"b\\c\nd\te\x01 caf\xC3\xA9 bad\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(json["ts"], "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(json["level"], "warn");
  EXPECT_NE(line.find("\\u0001"), std::string::npos);
}

TEST(LogLine, RejectsOverlongAndSurrogateUtf8) {
  // Overlong "/" (C0 AF) and an encoded surrogate (ED A0 80) are not valid UTF-8.
  const std::string line =
      detail::formatLine(0, Level::Info, "x", std::string("\xC0\xAF|\xED\xA0\x80"), 0);
  const auto json = nlohmann::json::parse(line);
  EXPECT_EQ(json["msg"].get<std::string>().find('/'), std::string::npos);
  EXPECT_EQ(json["msg"].get<std::string>().find("\xED\xA0\x80"), std::string::npos);
}

TEST(LogLevel, ParsesNamesCaseInsensitively) {
  EXPECT_EQ(parseLevel("trace").value(), Level::Trace);
  EXPECT_EQ(parseLevel("DEBUG").value(), Level::Debug);
  EXPECT_EQ(parseLevel("Warning").value(), Level::Warn);
  EXPECT_EQ(parseLevel("off").value(), Level::Off);
  const auto bad = parseLevel("verbose");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("verbose"), std::string::npos);
  EXPECT_EQ(levelName(Level::Critical), "critical");
}

TEST(Log, WritesOnlyLinesAtOrAboveTheLevel) {
  CapturedLines captured(Level::Warn);
  debug("sip", "hidden {}", 1);
  info("sip", "hidden {}", 2);
  warn("sip", "shown {}", 3);
  error("db", "shown {}", 4);
  const auto lines = captured.json();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["msg"], "shown 3");
  EXPECT_EQ(lines[0]["component"], "sip");
  EXPECT_EQ(lines[1]["level"], "error");
  EXPECT_FALSE(enabled(Level::Info));
  EXPECT_TRUE(enabled(Level::Critical));
}

TEST(Log, OffWritesNothing) {
  CapturedLines captured(Level::Off);
  critical("sip", "nothing");
  EXPECT_EQ(captured.size(), 0u);
}

TEST(ScopedContext, AddsKeysWhileAliveAndNestedScopesStack) {
  CapturedLines captured(Level::Info);
  {
    ScopedContext recording("recording_id", "r1");
    info("siprec", "outer");
    {
      ScopedContext call("call_id", "c1");
      ScopedContext again("recording_id", "r2");
      info("siprec", "inner");
    }
    info("siprec", "outer again");
  }
  info("siprec", "none");
  const auto lines = captured.json();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0]["recording_id"], "r1");
  EXPECT_FALSE(lines[0].contains("call_id"));
  EXPECT_EQ(lines[1]["recording_id"], "r2");
  EXPECT_EQ(lines[1]["call_id"], "c1");
  EXPECT_EQ(lines[2]["recording_id"], "r1");
  EXPECT_FALSE(lines[2].contains("call_id"));
  EXPECT_FALSE(lines[3].contains("recording_id"));
}

TEST(ScopedContext, IsPerThreadAndIgnoresReservedKeys) {
  CapturedLines captured(Level::Info);
  ScopedContext mine("recording_id", "main");
  ScopedContext reserved("msg", "overwrite attempt");
  std::thread other([] { info("media", "from other thread"); });
  other.join();
  info("media", "from main");
  const auto lines = captured.json();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_FALSE(lines[0].contains("recording_id"));
  EXPECT_EQ(lines[1]["recording_id"], "main");
  EXPECT_EQ(lines[1]["msg"], "from main");
}

TEST(RateLimiter, AllowsPerSecondThenCountsSuppressed) {
  ManualClock clock;
  RateLimiter limiter(2, clock);
  EXPECT_TRUE(limiter.allow());
  EXPECT_TRUE(limiter.allow());
  EXPECT_FALSE(limiter.allow());
  EXPECT_FALSE(limiter.allow());
  clock.now += std::chrono::milliseconds(999);
  EXPECT_FALSE(limiter.allow());
  EXPECT_EQ(limiter.suppressed(), 3u);
  EXPECT_EQ(limiter.suppressed(), 0u);
  clock.now += std::chrono::milliseconds(1);
  EXPECT_TRUE(limiter.allow());
}

TEST(RateLimiter, LimitedReportsSuppressedCountInTheNextLine) {
  CapturedLines captured(Level::Info);
  ManualClock clock;
  RateLimiter limiter(1, clock);
  for (int i = 0; i < 5; ++i) {
    limited(limiter, Level::Warn, "sip", "bad packet {}", i);
  }
  clock.now += std::chrono::seconds(1);
  limited(limiter, Level::Warn, "sip", "bad packet {}", 5);
  const auto lines = captured.json();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["msg"], "bad packet 0");
  EXPECT_FALSE(lines[0].contains("suppressed"));
  EXPECT_EQ(lines[1]["msg"], "bad packet 5");
  EXPECT_EQ(lines[1]["suppressed"], 4);
}

TEST(Log, LinesFromManyThreadsStayWhole) {
  CapturedLines captured(Level::Info);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < 200; ++i) {
        info("media", "thread {} line {}", t, i);
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(captured.json().size(), 800u);
}

}  // namespace
}  // namespace siprecd::log
