#include "control/wake_signal.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>

#include <gtest/gtest.h>

namespace siprecd::control {
namespace {

using namespace std::chrono_literals;

/// Far longer than any test may take: a wait that does not end early fails the elapsed check.
constexpr std::chrono::milliseconds kLong = 30s;
constexpr std::chrono::milliseconds kEarly = 10s;

TEST(WakeSignal, AWakeAfterTheNotedGenerationEndsTheWaitAtOnce) {
  WakeSignal signal;
  uint64_t seen = signal.generation();
  signal.wake();
  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(signal.waitForWake(kLong, seen));
  EXPECT_LT(std::chrono::steady_clock::now() - started, kEarly);
  EXPECT_EQ(seen, 1u);
  EXPECT_EQ(signal.generation(), 1u);
}

TEST(WakeSignal, AWakeFromAnotherThreadEndsTheWait) {
  WakeSignal signal;
  uint64_t seen = signal.generation();
  bool woken = false;
  std::thread waiter([&] { woken = signal.waitForWake(kLong, seen); });
  signal.wake();
  waiter.join();
  EXPECT_TRUE(woken);
  EXPECT_EQ(seen, 1u);
}

TEST(WakeSignal, WaitForWakeWithoutAWakeRunsToItsTimeout) {
  WakeSignal signal;
  uint64_t seen = signal.generation();
  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(signal.waitForWake(20ms, seen));
  EXPECT_GE(std::chrono::steady_clock::now() - started, 20ms);
  EXPECT_EQ(seen, 0u);
}

TEST(WakeSignal, AWakeAlreadySeenDoesNotEndTheNextWait) {
  WakeSignal signal;
  signal.wake();
  uint64_t seen = 0;
  ASSERT_TRUE(signal.waitForWake(kLong, seen));
  ASSERT_EQ(seen, 1u);
  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(signal.waitForWake(20ms, seen));
  EXPECT_GE(std::chrono::steady_clock::now() - started, 20ms);
}

TEST(WakeSignal, SleepForIsNotEndedByAWake) {
  WakeSignal signal;
  signal.wake();
  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(signal.sleepFor(20ms));
  EXPECT_GE(std::chrono::steady_clock::now() - started, 20ms);
}

TEST(WakeSignal, RequestStopEndsEveryWaitOnOtherThreads) {
  WakeSignal signal;
  bool slept = true;
  bool waited = true;
  std::thread sleeper([&] { slept = signal.sleepFor(kLong); });
  std::thread waiter([&] {
    uint64_t seen = 0;
    waited = signal.waitForWake(kLong, seen);
  });
  const auto started = std::chrono::steady_clock::now();
  signal.requestStop();
  sleeper.join();
  waiter.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, kEarly);
  EXPECT_FALSE(slept);
  EXPECT_FALSE(waited);
}

TEST(WakeSignal, AStoppedSignalStaysStoppedAndWaitsNoMore) {
  WakeSignal signal;
  EXPECT_FALSE(signal.stopping());
  EXPECT_FALSE(signal.stopFlag().load());
  signal.requestStop();
  signal.requestStop();
  EXPECT_TRUE(signal.stopping());
  EXPECT_TRUE(signal.stopFlag().load());
  uint64_t seen = signal.generation();
  const auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(signal.sleepFor(kLong));
  EXPECT_FALSE(signal.waitForWake(kLong, seen));
  EXPECT_LT(std::chrono::steady_clock::now() - started, kEarly);
}

TEST(WakeSignal, WeakWakerWakesWhileTheSignalLivesAndIsANoOpAfter) {
  auto signal = std::make_shared<WakeSignal>();
  const auto waker = WakeSignal::weakWaker(signal);
  waker();
  waker();
  EXPECT_EQ(signal->generation(), 2u);
  EXPECT_EQ(signal.use_count(), 1);
  signal.reset();
  waker();  // must not touch the destroyed signal
}

}  // namespace
}  // namespace siprecd::control
