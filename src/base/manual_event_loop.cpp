#include "base/manual_event_loop.hpp"

#include <algorithm>

namespace siprecd {
namespace {

// An arbitrary but fixed origin: 2024-01-01T00:00:00Z on the wall clock; the steady clock
// starts one day after its epoch so that subtracting small durations stays positive.
constexpr std::chrono::seconds kSystemOrigin{1704067200};
constexpr std::chrono::hours kSteadyOrigin{24};

class ManualTimer final : public Timer {
 public:
  ManualTimer(std::weak_ptr<ManualEventLoop::TimerTable> table,
              ManualEventLoop::TimerTable::Key key)
      : table_(std::move(table)), key_(key) {}
  ~ManualTimer() override { cancel(); }
  void cancel() override {
    if (auto table = table_.lock()) {
      table->timers.erase(key_);
    }
    table_.reset();
  }

 private:
  std::weak_ptr<ManualEventLoop::TimerTable> table_;
  ManualEventLoop::TimerTable::Key key_;
};

}  // namespace

ManualClock::ManualClock()
    : steady_now_(std::chrono::steady_clock::time_point(kSteadyOrigin)),
      system_now_(std::chrono::system_clock::time_point(kSystemOrigin)) {}

void ManualClock::advance(std::chrono::milliseconds delta) {
  if (delta.count() <= 0) {
    return;
  }
  steady_now_ += delta;
  system_now_ += delta;
}

void ManualClock::advanceTo(std::chrono::steady_clock::time_point when) {
  if (when <= steady_now_) {
    return;
  }
  auto delta = when - steady_now_;
  steady_now_ = when;
  system_now_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(delta);
}

ManualEventLoop::ManualEventLoop() : table_(std::make_shared<TimerTable>()) {}

ManualEventLoop::~ManualEventLoop() = default;

void ManualEventLoop::post(std::function<void()> task) {
  std::lock_guard lock(tasks_mutex_);
  tasks_.push_back(std::move(task));
}

std::unique_ptr<Timer> ManualEventLoop::schedule(std::chrono::milliseconds delay,
                                                 std::function<void()> task) {
  if (delay.count() < 0) {
    delay = std::chrono::milliseconds(0);
  }
  TimerTable::Key key{clock_.steadyNow() + delay, table_->next_sequence++};
  table_->timers.emplace(key, std::move(task));
  return std::make_unique<ManualTimer>(table_, key);
}

bool ManualEventLoop::runOneDue() {
  std::function<void()> task;
  {
    std::lock_guard lock(tasks_mutex_);
    if (!tasks_.empty()) {
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
  }
  if (!task) {
    auto it = table_->timers.begin();
    if (it == table_->timers.end() || it->first.first > clock_.steadyNow()) {
      return false;
    }
    // Moved out first so that the callback may destroy its own Timer handle.
    task = std::move(it->second);
    table_->timers.erase(it);
  }
  task();
  return true;
}

std::size_t ManualEventLoop::runReady() {
  std::size_t ran = 0;
  while (runOneDue()) {
    ++ran;
  }
  return ran;
}

std::size_t ManualEventLoop::advance(std::chrono::milliseconds delta) {
  const auto target = clock_.steadyNow() + std::max(delta, std::chrono::milliseconds(0));
  std::size_t ran = runReady();
  while (!table_->timers.empty()) {
    const auto deadline = table_->timers.begin()->first.first;
    if (deadline > target) {
      break;
    }
    clock_.advanceTo(deadline);
    ran += runReady();
  }
  clock_.advanceTo(target);
  ran += runReady();
  return ran;
}

std::size_t ManualEventLoop::pendingTimers() const {
  return table_->timers.size();
}

std::size_t ManualEventLoop::pendingTasks() const {
  std::lock_guard lock(tasks_mutex_);
  return tasks_.size();
}

std::optional<std::chrono::milliseconds> ManualEventLoop::nextTimerIn() const {
  if (table_->timers.empty()) {
    return std::nullopt;
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(table_->timers.begin()->first.first -
                                                               clock_.steadyNow());
}

}  // namespace siprecd
