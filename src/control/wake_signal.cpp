#include "control/wake_signal.hpp"

namespace siprecd::control {

void WakeSignal::wake() {
  {
    std::lock_guard lock(mutex_);
    ++generation_;
  }
  changed_.notify_all();
}

void WakeSignal::requestStop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
}

uint64_t WakeSignal::generation() const {
  std::lock_guard lock(mutex_);
  return generation_;
}

bool WakeSignal::sleepFor(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return !changed_.wait_for(lock, timeout, [&] { return stopping_.load(); });
}

bool WakeSignal::waitForWake(std::chrono::milliseconds timeout, uint64_t& seen) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout, [&] { return stopping_.load() || generation_ != seen; });
  seen = generation_;
  return !stopping_.load();
}

std::function<void()> WakeSignal::weakWaker(const std::shared_ptr<WakeSignal>& signal) {
  return [weak = std::weak_ptr<WakeSignal>(signal)] {
    if (auto locked = weak.lock()) {
      locked->wake();
    }
  };
}

}  // namespace siprecd::control
