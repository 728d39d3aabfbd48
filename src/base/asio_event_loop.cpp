#include "base/asio_event_loop.hpp"

#include <optional>
#include <system_error>
#include <thread>
#include <utility>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <pthread.h>

namespace siprecd {
namespace {

/// The shared state of one scheduled task: the pending async_wait handler keeps it alive,
/// the Timer handle can disarm it.
struct TimerState {
  explicit TimerState(asio::io_context& io) : timer(io) {}
  asio::steady_timer timer;
  std::function<void()> task;
  bool armed = true;
};

class AsioTimer final : public Timer {
 public:
  explicit AsioTimer(std::shared_ptr<TimerState> state) : state_(std::move(state)) {}
  ~AsioTimer() override { cancel(); }
  void cancel() override {
    if (!state_) {
      return;
    }
    state_->armed = false;
    state_->task = nullptr;
    state_->timer.cancel();
    state_.reset();
  }

 private:
  std::shared_ptr<TimerState> state_;
};

}  // namespace

AsioEventLoop::AsioEventLoop(asio::io_context& io, const Clock& clock) : io_(io), clock_(clock) {}

AsioEventLoop::~AsioEventLoop() = default;

void AsioEventLoop::post(std::function<void()> task) {
  asio::post(io_, std::move(task));
}

std::unique_ptr<Timer> AsioEventLoop::schedule(std::chrono::milliseconds delay,
                                               std::function<void()> task) {
  auto state = std::make_shared<TimerState>(io_);
  state->task = std::move(task);
  state->timer.expires_after(delay);
  state->timer.async_wait([state](const std::error_code& error) {
    if (error || !state->armed || !state->task) {
      return;
    }
    state->armed = false;
    // Moved out first so that the task may destroy its own Timer handle.
    auto run = std::move(state->task);
    state->task = nullptr;
    run();
  });
  return std::make_unique<AsioTimer>(std::move(state));
}

struct IoThread::Impl {
  asio::io_context io{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
  std::thread thread;
};

IoThread::IoThread(std::string name) : impl_(std::make_unique<Impl>()) {
  impl_->guard.emplace(impl_->io.get_executor());
  impl_->thread = std::thread([this, thread_name = std::move(name)] {
    if (!thread_name.empty()) {
      pthread_setname_np(pthread_self(), thread_name.substr(0, 15).c_str());
    }
    // Handlers report errors through error_codes; an exception here is a broken
    // invariant, and terminating is the documented outcome.
    impl_->io.run();
  });
}

IoThread::~IoThread() {
  stop();
  if (impl_->thread.joinable()) {
    // Destroyed from its own thread (a handler owned it): nothing left to wait for.
    impl_->thread.detach();
  }
}

asio::io_context& IoThread::context() {
  return impl_->io;
}

void IoThread::stop() {
  impl_->guard.reset();
  impl_->io.stop();
  if (impl_->thread.joinable() && !isCurrentThread()) {
    impl_->thread.join();
  }
}

bool IoThread::isCurrentThread() const {
  return impl_->thread.get_id() == std::this_thread::get_id();
}

}  // namespace siprecd
