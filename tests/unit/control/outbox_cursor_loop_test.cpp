#include "control/outbox_cursor_loop.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "control/wake_signal.hpp"
#include "db/repository.hpp"
#include "support/temp_dir.hpp"

namespace siprecd::control {
namespace {

using namespace std::chrono_literals;
using Step = OutboxCursorLoop::Step;
using Readiness = OutboxCursorLoop::Readiness;

constexpr std::string_view kComponent = "test";
constexpr const char* kCursor = "test-cursor";

/// The loops run on the test thread: a hook calls requestStop() once the test has seen
/// enough, so run() returns; no timing is involved unless a test says otherwise.
class OutboxCursorLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = db::openSqliteRepository(dir_.path() / "siprecd.db");
    ASSERT_TRUE(opened) << opened.error().message;
    repository_ = std::move(*opened);
    settings_.poll_interval = 30s;  // an idle wait that is not woken fails the test
    settings_.initial_backoff = 1ms;
    settings_.max_backoff = 2ms;
  }
  void TearDown() override { repository_->flush(); }

  /// Inserts events named e1.. and returns them as stored (with their sequences).
  std::vector<db::OutboxEvent> insert(int count, const std::string& domain = "default") {
    for (int i = 0; i < count; ++i) {
      db::OutboxEvent event;
      event.event_id = "id-" + std::to_string(next_);
      event.domain = domain;
      event.recording_id = "r1";
      event.name = "e" + std::to_string(next_);
      event.body = "{}";
      ++next_;
      repository_->insertEvent(event);
    }
    repository_->flush();
    return repository_->eventsAfter(0, 1000).value();
  }
  int64_t storedCursor() {
    repository_->flush();
    return repository_->publisherCursor(kCursor).value();
  }

  test_support::TempDir dir_;
  std::unique_ptr<db::Repository> repository_;
  WakeSignal signal_;
  OutboxCursorLoop::Settings settings_;
  int next_ = 1;
};

TEST_F(OutboxCursorLoopTest, PublishesEveryEventInOrderAndSavesTheCursor) {
  const auto events = insert(3);
  OutboxCursorLoop loop(*repository_, kCursor, signal_, settings_, kComponent);
  std::vector<std::string> published;
  OutboxCursorLoop::Hooks hooks;
  hooks.publish = [&](const db::OutboxEvent& event) {
    published.push_back(event.name);
    if (published.size() == 3) {
      signal_.requestStop();
    }
    return Step::Done;
  };
  loop.run(hooks);
  EXPECT_EQ(published, (std::vector<std::string>{"e1", "e2", "e3"}));
  EXPECT_EQ(loop.savedCursor(), events.back().sequence);
  EXPECT_EQ(storedCursor(), events.back().sequence);
}

TEST_F(OutboxCursorLoopTest, StartsAfterTheSavedCursor) {
  const auto events = insert(3);
  repository_->savePublisherCursor(kCursor, events[1].sequence);
  repository_->flush();
  OutboxCursorLoop loop(*repository_, kCursor, signal_, settings_, kComponent);
  std::vector<int64_t> loaded;
  std::vector<std::string> published;
  OutboxCursorLoop::Hooks hooks;
  hooks.on_cursor_loaded = [&](int64_t cursor) { loaded.push_back(cursor); };
  hooks.publish = [&](const db::OutboxEvent& event) {
    published.push_back(event.name);
    signal_.requestStop();
    return Step::Done;
  };
  loop.run(hooks);
  EXPECT_EQ(loaded, std::vector<int64_t>{events[1].sequence});
  EXPECT_EQ(published, std::vector<std::string>{"e3"});
}

TEST_F(OutboxCursorLoopTest, ARetryHoldsBackTheLaterEventsUntilItSucceeds) {
  const auto events = insert(2);
  OutboxCursorLoop loop(*repository_, kCursor, signal_, settings_, kComponent);
  std::vector<std::string> attempts;
  int refusals = 2;
  OutboxCursorLoop::Hooks hooks;
  hooks.publish = [&](const db::OutboxEvent& event) {
    attempts.push_back(event.name);
    if (event.name == "e1" && refusals-- > 0) {
      return Step::Retry;
    }
    if (event.name == "e2") {
      signal_.requestStop();
    }
    return Step::Done;
  };
  loop.run(hooks);
  EXPECT_EQ(attempts, (std::vector<std::string>{"e1", "e1", "e1", "e2"}));
  EXPECT_EQ(storedCursor(), events.back().sequence);
}

TEST_F(OutboxCursorLoopTest, AStopDuringARoundLeavesTheRestAndSavesWhatWasDone) {
  const auto events = insert(3);
  OutboxCursorLoop loop(*repository_, kCursor, signal_, settings_, kComponent);
  std::vector<std::string> published;
  OutboxCursorLoop::Hooks hooks;
  hooks.publish = [&](const db::OutboxEvent& event) {
    published.push_back(event.name);
    signal_.requestStop();
    return Step::Done;
  };
  loop.run(hooks);
  EXPECT_EQ(published, std::vector<std::string>{"e1"});
  EXPECT_EQ(loop.savedCursor(), events[0].sequence);
  EXPECT_EQ(storedCursor(), events[0].sequence);
}

TEST_F(OutboxCursorLoopTest, PublishesOnlyOnceReady) {
  insert(1);
  OutboxCursorLoop loop(*repository_, kCursor, signal_, settings_, kComponent);
  std::vector<Readiness> answers{Readiness::WaitShortly, Readiness::BackOff, Readiness::Ready};
  std::size_t checks = 0;
  std::size_t checks_at_publish = 0;
  OutboxCursorLoop::Hooks hooks;
  hooks.ready = [&] { return answers[std::min(checks++, answers.size() - 1)]; };
  hooks.publish = [&](const db::OutboxEvent&) {
    checks_at_publish = checks;
    signal_.requestStop();
    return Step::Done;
  };
  loop.run(hooks);
  EXPECT_EQ(checks_at_publish, 3u);
}

TEST_F(OutboxCursorLoopTest, AWakeEndsTheIdleWaitAtOnce) {
  OutboxCursorLoop loop(*repository_, kCursor, signal_, settings_, kComponent);
  std::atomic<int> rounds{0};
  std::vector<std::string> published;
  OutboxCursorLoop::Hooks hooks;
  hooks.ready = [&] {
    ++rounds;
    return Readiness::Ready;
  };
  hooks.publish = [&](const db::OutboxEvent& event) {
    published.push_back(event.name);
    signal_.requestStop();
    return Step::Done;
  };
  std::thread runner([&] { loop.run(hooks); });
  while (rounds.load() == 0) {
    std::this_thread::yield();
  }
  // The first round found nothing (or finds the event): either way a wake after the
  // round began ends its idle wait, long before poll_interval.
  const auto started = std::chrono::steady_clock::now();
  insert(1);
  signal_.wake();
  runner.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  EXPECT_EQ(published, std::vector<std::string>{"e1"});
}

TEST_F(OutboxCursorLoopTest, AStopEndsTheIdleWait) {
  OutboxCursorLoop loop(*repository_, kCursor, signal_, settings_, kComponent);
  std::atomic<int> rounds{0};
  OutboxCursorLoop::Hooks hooks;
  hooks.ready = [&] {
    ++rounds;
    return Readiness::Ready;
  };
  hooks.publish = [](const db::OutboxEvent&) { return Step::Done; };
  std::thread runner([&] { loop.run(hooks); });
  while (rounds.load() == 0) {
    std::this_thread::yield();
  }
  const auto started = std::chrono::steady_clock::now();
  signal_.requestStop();
  runner.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  EXPECT_EQ(loop.savedCursor(), 0);
}

}  // namespace
}  // namespace siprecd::control
