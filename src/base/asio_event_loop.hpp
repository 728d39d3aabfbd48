#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "base/clock.hpp"
#include "base/event_loop.hpp"

namespace asio {
class io_context;
}  // namespace asio

namespace siprecd {

/// The production EventLoop over an asio::io_context: post() is asio::post, schedule() an
/// asio::steady_timer. The loop's thread is whichever thread runs the io_context (one
/// thread only). `clock` serves clock(); timers always run on the real steady clock.
/// Borrowed: `io` and `clock` must outlive the loop. A Timer may be cancelled or destroyed
/// from inside its own callback; pending callbacks of a destroyed Timer never run.
class AsioEventLoop final : public EventLoop {
 public:
  AsioEventLoop(asio::io_context& io, const Clock& clock);
  ~AsioEventLoop() override;
  AsioEventLoop(const AsioEventLoop&) = delete;
  AsioEventLoop& operator=(const AsioEventLoop&) = delete;

  void post(std::function<void()> task) override;
  [[nodiscard]] std::unique_ptr<Timer> schedule(std::chrono::milliseconds delay,
                                                std::function<void()> task) override;
  const Clock& clock() const override { return clock_; }
  asio::io_context& context() { return io_; }

 private:
  asio::io_context& io_;
  const Clock& clock_;
};

/// Owns an io_context, a work guard that keeps it running while idle, and one std::thread
/// running it. stop() (idempotent; call it from one thread at a time) releases the guard and stops
/// the context; the destructor stops and joins. Handlers still queued at stop are destroyed with
/// the context, not run.
class IoThread {
 public:
  /// Starts the thread at once. `name` (at most 15 characters) names it for debuggers.
  explicit IoThread(std::string name = "siprecd-io");
  ~IoThread();
  IoThread(const IoThread&) = delete;
  IoThread& operator=(const IoThread&) = delete;

  asio::io_context& context();
  /// Stops the io_context and joins the thread (unless called from the thread itself).
  void stop();
  /// Whether the calling thread is the one running the context.
  bool isCurrentThread() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace siprecd
