#include "base/manual_event_loop.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace siprecd {
namespace {

using std::chrono::milliseconds;

TEST(ManualEventLoop, PostedTasksRunOnlyOnRunReady) {
  ManualEventLoop loop;
  std::vector<int> order;
  loop.post([&] { order.push_back(1); });
  loop.post([&] { order.push_back(2); });
  EXPECT_TRUE(order.empty());
  EXPECT_EQ(loop.pendingTasks(), 2U);
  EXPECT_EQ(loop.runReady(), 2U);
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

TEST(ManualEventLoop, TasksPostedWhileRunningAlsoRun) {
  ManualEventLoop loop;
  int runs = 0;
  loop.post([&] {
    ++runs;
    loop.post([&] { ++runs; });
  });
  EXPECT_EQ(loop.runReady(), 2U);
  EXPECT_EQ(runs, 2);
}

TEST(ManualEventLoop, AdvanceFiresTimersInDeadlineOrderWithClockAtDeadline) {
  ManualEventLoop loop;
  const auto start = loop.clock().steadyNow();
  std::vector<std::pair<std::string, milliseconds>> fired;
  auto record = [&](std::string name) {
    return [&, name] {
      fired.emplace_back(
          name, std::chrono::duration_cast<milliseconds>(loop.clock().steadyNow() - start));
    };
  };
  auto late = loop.schedule(milliseconds(300), record("late"));
  auto early = loop.schedule(milliseconds(100), record("early"));
  auto tie = loop.schedule(milliseconds(100), record("tie"));
  loop.advance(milliseconds(250));
  ASSERT_EQ(fired.size(), 2U);
  EXPECT_EQ(fired[0], std::make_pair(std::string("early"), milliseconds(100)));
  EXPECT_EQ(fired[1], std::make_pair(std::string("tie"), milliseconds(100)));
  EXPECT_EQ(loop.clock().steadyNow() - start, milliseconds(250));
  loop.advance(milliseconds(50));
  ASSERT_EQ(fired.size(), 3U);
  EXPECT_EQ(fired[2].first, "late");
}

TEST(ManualEventLoop, CancelledOrDestroyedTimersNeverFire) {
  ManualEventLoop loop;
  int runs = 0;
  auto cancelled = loop.schedule(milliseconds(10), [&] { ++runs; });
  cancelled->cancel();
  {
    auto destroyed = loop.schedule(milliseconds(10), [&] { ++runs; });
  }
  EXPECT_EQ(loop.pendingTimers(), 0U);
  loop.advance(milliseconds(100));
  EXPECT_EQ(runs, 0);
}

TEST(ManualEventLoop, TimerMayDestroyItsOwnHandleFromItsCallback) {
  ManualEventLoop loop;
  std::unique_ptr<Timer> timer;
  int runs = 0;
  timer = loop.schedule(milliseconds(5), [&] {
    ++runs;
    timer.reset();
  });
  loop.advance(milliseconds(5));
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(timer, nullptr);
}

TEST(ManualEventLoop, TimersScheduledByTimersFireWithinTheSameAdvance) {
  ManualEventLoop loop;
  std::vector<std::unique_ptr<Timer>> timers;
  int runs = 0;
  timers.push_back(loop.schedule(milliseconds(10), [&] {
    ++runs;
    timers.push_back(loop.schedule(milliseconds(10), [&] { ++runs; }));
  }));
  loop.advance(milliseconds(20));
  EXPECT_EQ(runs, 2);
  EXPECT_FALSE(loop.nextTimerIn().has_value());
}

TEST(ManualEventLoop, ZeroDelayTimerRunsOnRunReady) {
  ManualEventLoop loop;
  int runs = 0;
  auto timer = loop.schedule(milliseconds(0), [&] { ++runs; });
  EXPECT_EQ(loop.nextTimerIn(), milliseconds(0));
  loop.runReady();
  EXPECT_EQ(runs, 1);
}

TEST(ManualEventLoop, TimerHandleOutlivingTheLoopIsInert) {
  std::unique_ptr<Timer> timer;
  {
    ManualEventLoop loop;
    timer = loop.schedule(milliseconds(5), [] {});
  }
  timer->cancel();
  timer.reset();
  SUCCEED();
}

TEST(ManualClock, AdvancesSteadyAndSystemTogether) {
  ManualClock clock;
  const auto steady = clock.steadyNow();
  const auto epoch_ms = clock.epochMs();
  clock.advance(milliseconds(1500));
  EXPECT_EQ(clock.steadyNow() - steady, milliseconds(1500));
  EXPECT_EQ(clock.epochMs() - epoch_ms, 1500);
  clock.advanceTo(steady);  // never backwards
  EXPECT_EQ(clock.steadyNow() - steady, milliseconds(1500));
}

}  // namespace
}  // namespace siprecd
