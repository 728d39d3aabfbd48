#include "control/domain_threads.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <pthread.h>

#include "control/wake_signal.hpp"

namespace siprecd::control {
namespace {

using namespace std::chrono_literals;

std::string currentThreadName() {
  std::array<char, 16> name{};
  ::pthread_getname_np(::pthread_self(), name.data(), name.size());
  return name.data();
}

TEST(DomainThreads, RunsOneNamedThreadPerNameWithItsIndex) {
  std::mutex mutex;
  std::map<std::size_t, std::string> ran;
  DomainThreads threads;
  EXPECT_FALSE(threads.started());
  ASSERT_TRUE(threads.start({"sns-acme", "sqs-a-very-long-domain-name"}, [&](std::size_t i) {
    const std::string name = currentThreadName();
    std::lock_guard lock(mutex);
    ran[i] = name;
  }));
  threads.join();
  EXPECT_TRUE(threads.started());
  EXPECT_EQ(threads.size(), 2u);
  const std::map<std::size_t, std::string> expected{{0, "sns-acme"}, {1, "sqs-a-very-long"}};
  EXPECT_EQ(ran, expected);
}

TEST(DomainThreads, StartsOnlyOnce) {
  std::atomic<int> runs{0};
  DomainThreads threads;
  ASSERT_TRUE(threads.start({"one"}, [&](std::size_t) { ++runs; }));
  EXPECT_FALSE(threads.start({"two", "three"}, [&](std::size_t) { runs += 10; }));
  threads.join();
  EXPECT_EQ(runs.load(), 1);
  EXPECT_EQ(threads.size(), 1u);
}

TEST(DomainThreads, JoinWaitsForLoopsEndedByTheirStopSignal) {
  WakeSignal signal;
  std::atomic<int> finished{0};
  DomainThreads threads;
  ASSERT_TRUE(threads.start({"a", "b", "c"}, [&](std::size_t) {
    while (signal.sleepFor(30s)) {
    }
    ++finished;
  }));
  signal.requestStop();
  threads.join();
  EXPECT_EQ(finished.load(), 3);
  threads.join();  // idempotent
}

TEST(DomainThreads, TheDestructorJoins) {
  std::atomic<int> finished{0};
  {
    DomainThreads threads;
    ASSERT_TRUE(threads.start({"a", "b"}, [&](std::size_t) { ++finished; }));
  }
  EXPECT_EQ(finished.load(), 2);
}

TEST(DomainThreads, WithNoNamesStartsNothing) {
  DomainThreads threads;
  EXPECT_TRUE(threads.start({}, [](std::size_t) { FAIL() << "no thread expected"; }));
  threads.join();
  EXPECT_EQ(threads.size(), 0u);
}

}  // namespace
}  // namespace siprecd::control
