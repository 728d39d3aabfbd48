#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

namespace siprecd::control {

/// A wakeable, stoppable waiter shared by a background worker's threads and the threads
/// that poke it (EventOutbox's `on_persisted`, stop()). wake() counts a generation so a
/// waiter that noted the generation before its work misses no wake that came during it;
/// requestStop() is final and ends every wait at once.
///
/// Thread-safe; every method may be called from any thread. Hold it in a shared_ptr when a
/// waker() must stay safe after the owner is gone.
class WakeSignal {
 public:
  WakeSignal() = default;
  WakeSignal(const WakeSignal&) = delete;
  WakeSignal& operator=(const WakeSignal&) = delete;

  /// Advances the generation and ends every waitForWake(). Never blocks for long.
  void wake();
  /// From now on stopping() is true and every wait returns at once. Idempotent.
  void requestStop();
  /// Lock-free.
  bool stopping() const { return stopping_.load(); }
  /// The flag behind stopping(), for calls that poll it (AwsQueryClient::send). Lives as
  /// long as the signal.
  const std::atomic<bool>& stopFlag() const { return stopping_; }
  /// How many wake() calls so far.
  uint64_t generation() const;

  /// Waits `timeout` or until requestStop(); wake() does not end it. False when stopping.
  bool sleepFor(std::chrono::milliseconds timeout);
  /// Waits `timeout`, until requestStop() or until the generation differs from `seen`
  /// (at once when it already does); then sets `seen` to the current generation. False
  /// when stopping.
  bool waitForWake(std::chrono::milliseconds timeout, uint64_t& seen);

  /// A function calling signal->wake() that holds only a weak reference: a no-op once the
  /// signal is gone.
  static std::function<void()> weakWaker(const std::shared_ptr<WakeSignal>& signal);

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  uint64_t generation_ = 0;  // guarded by mutex_
  // Written under mutex_ (so no waiter misses it), read anywhere.
  std::atomic<bool> stopping_{false};
};

}  // namespace siprecd::control
