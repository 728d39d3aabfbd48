#pragma once

#include <chrono>
#include <cstdint>

namespace siprecd {

/// Time source, injected so that timers and timestamps are testable.
/// Thread-safe; implementations hold no mutable state or guard it themselves.
class Clock {
 public:
  virtual ~Clock() = default;
  /// Monotonic time for durations and timers.
  virtual std::chrono::steady_clock::time_point steadyNow() const = 0;
  /// Wall-clock time for recordings' timelines (epoch).
  virtual std::chrono::system_clock::time_point systemNow() const = 0;

  int64_t epochMs() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(systemNow().time_since_epoch())
        .count();
  }
};

/// The real clocks.
class SystemClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point steadyNow() const override {
    return std::chrono::steady_clock::now();
  }
  std::chrono::system_clock::time_point systemNow() const override {
    return std::chrono::system_clock::now();
  }
};

}  // namespace siprecd
