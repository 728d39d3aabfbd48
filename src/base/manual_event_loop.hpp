#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "base/clock.hpp"
#include "base/event_loop.hpp"

namespace siprecd {

/// A clock that moves only when told to: tests inject it so that timers and timestamps are
/// deterministic. Both time lines start at a fixed, arbitrary point and advance together.
/// Reading is thread-safe; advance() must not race with readers.
class ManualClock final : public Clock {
 public:
  ManualClock();
  std::chrono::steady_clock::time_point steadyNow() const override { return steady_now_; }
  std::chrono::system_clock::time_point systemNow() const override { return system_now_; }
  /// Moves both clocks forward by `delta` (>= 0).
  void advance(std::chrono::milliseconds delta);
  /// Moves both clocks so that steadyNow() == `when` (never backwards).
  void advanceTo(std::chrono::steady_clock::time_point when);

 private:
  std::chrono::steady_clock::time_point steady_now_;
  std::chrono::system_clock::time_point system_now_;
};

/// An EventLoop for tests: nothing runs until the test says so. post() queues a task;
/// runReady() runs queued tasks and timers due now; advance() moves the clock, firing the
/// due timers in deadline order (ties in scheduling order) with the clock set to each
/// timer's deadline. post() is thread-safe; everything else belongs to the test's thread.
/// A Timer may be cancelled or destroyed from inside its own callback; a Timer that
/// outlives the loop is inert.
class ManualEventLoop final : public EventLoop {
 public:
  ManualEventLoop();
  ~ManualEventLoop() override;
  ManualEventLoop(const ManualEventLoop&) = delete;
  ManualEventLoop& operator=(const ManualEventLoop&) = delete;

  void post(std::function<void()> task) override;
  [[nodiscard]] std::unique_ptr<Timer> schedule(std::chrono::milliseconds delay,
                                                std::function<void()> task) override;
  const Clock& clock() const override { return clock_; }
  ManualClock& manualClock() { return clock_; }

  /// Runs posted tasks and timers that are due at the current time (including those they
  /// post or schedule with zero delay) until none remain. Returns how many ran.
  std::size_t runReady();
  /// Advances the clock by `delta`, running every task and timer that becomes due on the
  /// way, in order. Returns how many ran.
  std::size_t advance(std::chrono::milliseconds delta);
  /// Timers scheduled and neither fired nor cancelled.
  std::size_t pendingTimers() const;
  /// Tasks posted and not yet run.
  std::size_t pendingTasks() const;
  /// The deadline of the earliest pending timer, relative to now; nullopt when none.
  std::optional<std::chrono::milliseconds> nextTimerIn() const;

  /// Shared with the Timer handles so that a handle outliving the loop stays safe.
  struct TimerTable {
    using Key = std::pair<std::chrono::steady_clock::time_point, uint64_t>;
    std::map<Key, std::function<void()>> timers;
    uint64_t next_sequence = 0;
  };

 private:
  bool runOneDue();

  ManualClock clock_;
  mutable std::mutex tasks_mutex_;
  std::deque<std::function<void()>> tasks_;
  std::shared_ptr<TimerTable> table_;
};

}  // namespace siprecd
