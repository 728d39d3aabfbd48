#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "base/clock.hpp"
#include "base/result.hpp"

/// Structured logging: one JSON object per line on stderr,
///   {"ts":"2026-11-26T14:31:02.123Z","level":"info","component":"sip","msg":"...",
///    "recording_id":"...","call_id":"..."}
/// Context keys come from the ScopedContext objects alive on the writing thread.
/// Every function here is thread-safe; lines from different threads never interleave.
namespace siprecd::log {

enum class Level { Trace, Debug, Info, Warn, Error, Critical, Off };

/// Parses "trace", "debug", "info", "warn" (or "warning"), "error", "critical", "off",
/// case-insensitively. Fails with a message quoting the text.
Result<Level> parseLevel(std::string_view text);
/// The lower-case name of a level ("info").
std::string_view levelName(Level level);

/// Sends every line to stderr (the default even without init) and sets the threshold.
/// Call at start-up; safe to call again.
void init(Level level);
/// Changes the threshold at run time (e.g. on SIGHUP).
void setLevel(Level level);
/// True when lines at `level` are written; cheap (one relaxed atomic load).
inline bool enabled(Level level);

/// Receives complete lines (without the trailing newline) instead of stderr; for tests.
/// An empty function restores stderr. Called under the writer's lock: never log from it.
using LineSink = std::function<void(std::string_view line)>;
void setSinkForTesting(LineSink sink);

namespace detail {
inline std::atomic<int> g_threshold{static_cast<int>(Level::Info)};
/// Formats the JSON line (adding the thread's context) and writes it.
/// `suppressed` > 0 adds "suppressed":N (lines dropped by a RateLimiter before this one).
void write(Level level, std::string_view component, std::string_view message,
           uint64_t suppressed = 0);
/// The JSON line as write() would produce it at `epoch_ms`; exposed for tests.
std::string formatLine(int64_t epoch_ms, Level level, std::string_view component,
                       std::string_view message, uint64_t suppressed);

template <typename... Args>
void logf(Level level, std::string_view component, fmt::format_string<Args...> format,
          Args&&... args) {
  if (!enabled(level)) {
    return;
  }
  write(level, component, fmt::vformat(format, fmt::make_format_args(args...)));
}
}  // namespace detail

inline bool enabled(Level level) {
  return level != Level::Off &&
         static_cast<int>(level) >= detail::g_threshold.load(std::memory_order_relaxed);
}

/// `component` is the module's name ("sip", "media", "db", "http"); the message is
/// {fmt}-formatted. Never throws (a formatting error is a compile-time error).
template <typename... Args>
void trace(std::string_view component, fmt::format_string<Args...> format, Args&&... args) {
  detail::logf(Level::Trace, component, format, std::forward<Args>(args)...);
}
template <typename... Args>
void debug(std::string_view component, fmt::format_string<Args...> format, Args&&... args) {
  detail::logf(Level::Debug, component, format, std::forward<Args>(args)...);
}
template <typename... Args>
void info(std::string_view component, fmt::format_string<Args...> format, Args&&... args) {
  detail::logf(Level::Info, component, format, std::forward<Args>(args)...);
}
template <typename... Args>
void warn(std::string_view component, fmt::format_string<Args...> format, Args&&... args) {
  detail::logf(Level::Warn, component, format, std::forward<Args>(args)...);
}
template <typename... Args>
void error(std::string_view component, fmt::format_string<Args...> format, Args&&... args) {
  detail::logf(Level::Error, component, format, std::forward<Args>(args)...);
}
template <typename... Args>
void critical(std::string_view component, fmt::format_string<Args...> format, Args&&... args) {
  detail::logf(Level::Critical, component, format, std::forward<Args>(args)...);
}

/// Adds `key: value` to every line written by this thread while the object is alive.
/// Scopes nest (LIFO); an inner scope with the same key hides the outer one. The keys
/// "ts", "level", "component", "msg" and "suppressed" are reserved and ignored.
/// Must be destroyed on the thread that created it; neither copyable nor movable.
class ScopedContext {
 public:
  ScopedContext(std::string key, std::string value);
  ~ScopedContext();
  ScopedContext(const ScopedContext&) = delete;
  ScopedContext& operator=(const ScopedContext&) = delete;
};

/// Allows at most `per_second` events per one-second window (windows start at the first
/// event after the previous window ended) and counts the refused ones. Thread-safe.
/// Typical use, for bad network input:
///   static log::RateLimiter limiter(5);
///   log::limited(limiter, log::Level::Warn, "sip", "bad message from {}", peer);
class RateLimiter {
 public:
  /// `clock` must outlive the limiter; the default is the system clock.
  explicit RateLimiter(int per_second);
  RateLimiter(int per_second, const Clock& clock);

  /// True when the event may be logged now; false (and counted) otherwise.
  bool allow();
  /// The number of events refused since the previous call; resets the count.
  uint64_t suppressed();

 private:
  const Clock& clock_;
  const int per_second_;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point window_start_{};
  int in_window_ = 0;
  uint64_t suppressed_ = 0;
};

/// Writes the line if `limiter` allows it, adding "suppressed":N when lines were dropped
/// since the previous one it allowed.
template <typename... Args>
void limited(RateLimiter& limiter, Level level, std::string_view component,
             fmt::format_string<Args...> format, Args&&... args) {
  if (!enabled(level) || !limiter.allow()) {
    return;
  }
  detail::write(level, component, fmt::vformat(format, fmt::make_format_args(args...)),
                limiter.suppressed());
}

}  // namespace siprecd::log
