#include "base/asio_event_loop.hpp"

#include <atomic>
#include <future>
#include <thread>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <gtest/gtest.h>

namespace siprecd {
namespace {

using std::chrono::milliseconds;

TEST(AsioEventLoop, PostRunsTasksInOrderOnTheContextThread) {
  asio::io_context io;
  SystemClock clock;
  AsioEventLoop loop(io, clock);
  std::vector<int> order;
  loop.post([&] { order.push_back(1); });
  loop.post([&] { order.push_back(2); });
  EXPECT_TRUE(order.empty());
  io.run();
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

TEST(AsioEventLoop, ScheduledTaskRunsAfterItsDelay) {
  asio::io_context io;
  SystemClock clock;
  AsioEventLoop loop(io, clock);
  const auto start = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point fired_at;
  auto timer =
      loop.schedule(milliseconds(30), [&] { fired_at = std::chrono::steady_clock::now(); });
  io.run();
  EXPECT_GE(fired_at - start, milliseconds(30));
}

TEST(AsioEventLoop, CancelledAndDestroyedTimersDoNotRun) {
  asio::io_context io;
  SystemClock clock;
  AsioEventLoop loop(io, clock);
  int runs = 0;
  auto cancelled = loop.schedule(milliseconds(5), [&] { ++runs; });
  auto destroyed = loop.schedule(milliseconds(5), [&] { ++runs; });
  auto kept = loop.schedule(milliseconds(10), [&] { runs += 10; });
  cancelled->cancel();
  destroyed.reset();
  io.run();
  EXPECT_EQ(runs, 10);
}

TEST(AsioEventLoop, TimerMayDestroyItsOwnHandleFromItsCallback) {
  asio::io_context io;
  SystemClock clock;
  AsioEventLoop loop(io, clock);
  std::unique_ptr<Timer> timer;
  int runs = 0;
  timer = loop.schedule(milliseconds(1), [&] {
    ++runs;
    timer.reset();
  });
  io.run();
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(timer, nullptr);
}

TEST(AsioEventLoop, ClockIsTheInjectedOne) {
  asio::io_context io;
  SystemClock clock;
  AsioEventLoop loop(io, clock);
  EXPECT_EQ(&loop.clock(), &clock);
}

TEST(IoThread, RunsPostedWorkOnItsOwnThreadUntilStopped) {
  std::promise<std::thread::id> ran_on;
  {
    IoThread thread("test-io");
    asio::post(thread.context(), [&] { ran_on.set_value(std::this_thread::get_id()); });
    auto future = ran_on.get_future();
    ASSERT_EQ(future.wait_for(std::chrono::seconds(5)), std::future_status::ready);
    EXPECT_NE(future.get(), std::this_thread::get_id());
  }  // the destructor stops and joins
}

TEST(IoThread, StaysAliveWhileIdleAndStopsOnRequest) {
  IoThread thread;
  std::this_thread::sleep_for(milliseconds(20));  // idle: the work guard keeps it running
  std::promise<void> ran;
  asio::post(thread.context(), [&] { ran.set_value(); });
  EXPECT_EQ(ran.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
  thread.stop();
  EXPECT_TRUE(thread.context().stopped());
  thread.stop();  // idempotent
}

}  // namespace
}  // namespace siprecd
