#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "base/clock.hpp"

namespace siprecd {

/// A one-shot timer. Destroying it or calling cancel() guarantees the callback will not
/// run afterwards (when called on the loop's thread).
class Timer {
 public:
  virtual ~Timer() = default;
  virtual void cancel() = 0;
};

/// A single-threaded executor: the home of the objects that live on it (the SIP thread,
/// for instance). Production code uses AsioEventLoop; tests use ManualEventLoop with a
/// manual clock so that protocol timers run deterministically.
class EventLoop {
 public:
  virtual ~EventLoop() = default;
  /// Runs `task` on the loop's thread, after the tasks already posted. Thread-safe.
  virtual void post(std::function<void()> task) = 0;
  /// Runs `task` once on the loop's thread after `delay`. Call on the loop's thread.
  [[nodiscard]] virtual std::unique_ptr<Timer> schedule(std::chrono::milliseconds delay,
                                                        std::function<void()> task) = 0;
  virtual const Clock& clock() const = 0;
};

}  // namespace siprecd
