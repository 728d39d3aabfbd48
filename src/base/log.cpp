#include "base/log.hpp"

#include <array>
#include <cstdio>
#include <ctime>
#include <memory>
#include <vector>

#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>

#include "base/strings.hpp"

namespace siprecd::log {
namespace {

/// Writes pre-formatted JSON lines to stderr, or to a test sink when one is set.
class JsonLineSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  void setTestSink(LineSink line_sink) {
    std::lock_guard<std::mutex> lock(mutex_);
    test_sink_ = std::move(line_sink);
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::string_view line(msg.payload.data(), msg.payload.size());
    if (test_sink_) {
      test_sink_(line);
      return;
    }
    std::string out(line);
    out.push_back('\n');
    std::fwrite(out.data(), 1, out.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }

 private:
  LineSink test_sink_;
};

struct Backend {
  std::shared_ptr<JsonLineSink> sink = std::make_shared<JsonLineSink>();
  spdlog::logger logger{"siprecd", sink};

  Backend() {
    logger.set_formatter(std::make_unique<spdlog::pattern_formatter>(
        "%v", spdlog::pattern_time_type::utc, std::string()));
    logger.set_level(spdlog::level::trace);
    logger.flush_on(spdlog::level::err);
  }
};

Backend& backend() {
  static Backend instance;
  return instance;
}

spdlog::level::level_enum toSpdlog(Level level) {
  switch (level) {
    case Level::Trace:
      return spdlog::level::trace;
    case Level::Debug:
      return spdlog::level::debug;
    case Level::Info:
      return spdlog::level::info;
    case Level::Warn:
      return spdlog::level::warn;
    case Level::Error:
      return spdlog::level::err;
    case Level::Critical:
      return spdlog::level::critical;
    case Level::Off:
      break;
  }
  return spdlog::level::off;
}

thread_local std::vector<std::pair<std::string, std::string>> t_context;

bool isReservedKey(std::string_view key) {
  return key == "ts" || key == "level" || key == "component" || key == "msg" || key == "suppressed";
}

/// Length of the valid UTF-8 sequence starting at text[i], or 0 if invalid (RFC 3629).
std::size_t utf8SequenceLength(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  std::size_t length = 0;
  unsigned char min_second = 0x80;
  unsigned char max_second = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) {
      min_second = 0xA0;
    } else if (lead == 0xED) {
      max_second = 0x9F;
    }
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) {
      min_second = 0x90;
    } else if (lead == 0xF4) {
      max_second = 0x8F;
    }
  } else {
    return 0;
  }
  if (i + length > text.size()) {
    return 0;
  }
  if (byte(i + 1) < min_second || byte(i + 1) > max_second) {
    return 0;
  }
  for (std::size_t k = 2; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) {
      return 0;
    }
  }
  return length;
}

/// Appends `text` as a JSON string (RFC 8259 section 7): quotes, backslashes and control
/// characters escaped; invalid UTF-8 bytes replaced by U+FFFD so the line stays valid.
void appendJsonString(std::string& out, std::string_view text) {
  out.push_back('"');
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          if (c < 0x20 || c == 0x7F) {
            fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    const std::size_t length = utf8SequenceLength(text, i);
    if (length == 0) {
      out += "\\ufffd";
      ++i;
    } else {
      out.append(text.substr(i, length));
      i += length;
    }
  }
  out.push_back('"');
}

void appendTimestamp(std::string& out, int64_t epoch_ms) {
  const auto seconds = static_cast<std::time_t>(epoch_ms / 1000);
  const int64_t millis = epoch_ms % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  fmt::format_to(std::back_inserter(out), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                 utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min,
                 utc.tm_sec, millis);
}

int64_t nowEpochMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const SystemClock& systemClock() {
  static const SystemClock clock;
  return clock;
}

}  // namespace

Result<Level> parseLevel(std::string_view text) {
  static constexpr std::array<std::pair<std::string_view, Level>, 8> kNames{{
      {"trace", Level::Trace},
      {"debug", Level::Debug},
      {"info", Level::Info},
      {"warn", Level::Warn},
      {"warning", Level::Warn},
      {"error", Level::Error},
      {"critical", Level::Critical},
      {"off", Level::Off},
  }};
  for (const auto& [name, level] : kNames) {
    if (iequals(text, name)) {
      return level;
    }
  }
  return fail(fmt::format(
      "unknown log level \"{}\" (expected trace, debug, info, warn, error, critical or off)",
      text));
}

std::string_view levelName(Level level) {
  switch (level) {
    case Level::Trace:
      return "trace";
    case Level::Debug:
      return "debug";
    case Level::Info:
      return "info";
    case Level::Warn:
      return "warn";
    case Level::Error:
      return "error";
    case Level::Critical:
      return "critical";
    case Level::Off:
      break;
  }
  return "off";
}

void init(Level level) {
  backend();
  setLevel(level);
}

void setLevel(Level level) {
  detail::g_threshold.store(static_cast<int>(level), std::memory_order_relaxed);
}

void setSinkForTesting(LineSink sink) {
  backend().sink->setTestSink(std::move(sink));
}

namespace detail {

std::string formatLine(int64_t epoch_ms, Level level, std::string_view component,
                       std::string_view message, uint64_t suppressed) {
  std::string line;
  line.reserve(96 + message.size());
  line += "{\"ts\":\"";
  appendTimestamp(line, epoch_ms);
  line += "\",\"level\":\"";
  line += levelName(level);
  line += "\",\"component\":";
  appendJsonString(line, component);
  line += ",\"msg\":";
  appendJsonString(line, message);
  if (suppressed > 0) {
    fmt::format_to(std::back_inserter(line), ",\"suppressed\":{}", suppressed);
  }
  for (std::size_t i = 0; i < t_context.size(); ++i) {
    const auto& [key, value] = t_context[i];
    if (key.empty()) {
      continue;
    }
    bool hidden = false;
    for (std::size_t j = i + 1; j < t_context.size() && !hidden; ++j) {
      hidden = t_context[j].first == key;
    }
    if (hidden) {
      continue;
    }
    line.push_back(',');
    appendJsonString(line, key);
    line.push_back(':');
    appendJsonString(line, value);
  }
  line.push_back('}');
  return line;
}

void write(Level level, std::string_view component, std::string_view message, uint64_t suppressed) {
  const std::string line = formatLine(nowEpochMs(), level, component, message, suppressed);
  backend().logger.log(toSpdlog(level), std::string_view(line));
}

}  // namespace detail

ScopedContext::ScopedContext(std::string key, std::string value) {
  if (isReservedKey(key)) {
    // Keep the push/pop pairing: an entry whose key is reserved is written as nothing.
    key.clear();
  }
  t_context.emplace_back(std::move(key), std::move(value));
}

ScopedContext::~ScopedContext() {
  t_context.pop_back();
}

RateLimiter::RateLimiter(int per_second) : RateLimiter(per_second, systemClock()) {}

RateLimiter::RateLimiter(int per_second, const Clock& clock)
    : clock_(clock), per_second_(per_second) {}

bool RateLimiter::allow() {
  const auto now = clock_.steadyNow();
  std::lock_guard<std::mutex> lock(mutex_);
  if (in_window_ == 0 || now - window_start_ >= std::chrono::seconds(1)) {
    window_start_ = now;
    in_window_ = 0;
  }
  if (in_window_ < per_second_) {
    ++in_window_;
    return true;
  }
  ++suppressed_;
  return false;
}

uint64_t RateLimiter::suppressed() {
  std::lock_guard<std::mutex> lock(mutex_);
  return std::exchange(suppressed_, 0);
}

}  // namespace siprecd::log
