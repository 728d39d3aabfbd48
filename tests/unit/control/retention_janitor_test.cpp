#include "control/retention_janitor.hpp"

#include <chrono>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "recording_job_test_support.hpp"

namespace siprecd::control {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test_support::RecordingJobFixture;

class RetentionJanitorTest : public RecordingJobFixture {
 protected:
  int64_t nowMs() const { return clock_.epochMs(); }
};

TEST_F(RetentionJanitorTest, DeletesRecordingsPastTheirDomainsRetention) {
  addRecording("old", "ready", "acme", nowMs() - (48h + 1s) / 1ms);
  addRecording("young", "ready", "acme", nowMs() - (47h) / 1ms);
  addRecording("stored", "stored", "acme", nowMs() - (72h) / 1ms);
  addRecording("other-old", "ready", "other", nowMs() - (72h) / 1ms);  // retention 30 days
  RetentionJanitor retention(*repository_, *runner_, clock_, domains_,
                             RetentionSettings{temp_.path() / "data", 60s, 48h, 1000});
  const auto round = retention.runOnce();
  settle();
  EXPECT_EQ(round.removed, 2u);
  EXPECT_EQ(find("old").state, "deleted");
  EXPECT_EQ(find("stored").state, "deleted");
  EXPECT_EQ(find("young").state, "ready");
  EXPECT_EQ(find("other-old").state, "ready");
  EXPECT_FALSE(fs::exists(sessionDir("old")));
  EXPECT_TRUE(fs::exists(sessionDir("young")));
  const auto events = events_.events();
  ASSERT_EQ(events.size(), 2u);
  for (const auto& event : events) {
    EXPECT_EQ(event.type, EventType::RecordingDeleted);
    EXPECT_EQ(event.data["reason"], "retention");
  }

  // A day later the young one is due too.
  clock_.advance(24h);
  EXPECT_EQ(retention.runOnce().removed, 1u);
  settle();
  EXPECT_EQ(find("young").state, "deleted");
}

TEST_F(RetentionJanitorTest, SkipsLiveAndBusyRecordingsAndRetriesThemNextRound) {
  addRecording("live", "recording", "acme", nowMs() - (72h) / 1ms);
  addRecording("busy", "ready", "acme", nowMs() - (72h) / 1ms);
  scripted_->holdUntilReleased();
  ASSERT_TRUE(runner_->store(storeRequest("busy", "scripted")));
  ASSERT_TRUE(scripted_->waitEntered());

  RetentionJanitor retention(*repository_, *runner_, clock_, domains_,
                             RetentionSettings{temp_.path() / "data", 60s, 48h, 1000});
  auto round = retention.runOnce();
  EXPECT_EQ(round.removed, 0u);
  EXPECT_EQ(round.skipped, 2u);

  scripted_->release();
  settle();
  EXPECT_EQ(find("busy").state, "stored");
  round = retention.runOnce();
  settle();
  EXPECT_EQ(round.removed, 1u);
  EXPECT_EQ(find("busy").state, "deleted");
  EXPECT_EQ(find("live").state, "recording");
  EXPECT_TRUE(fs::exists(sessionDir("live")));
}

TEST_F(RetentionJanitorTest, SweepsDirectoriesOfDeclinedAndCancelledRecordingsAtOnce) {
  addRecording("declined", "declined");
  addRecording("cancelled", "cancelled");
  addRecording("ready", "ready");
  fs::create_directories(sessionDir("unknown-id"));
  RetentionJanitor retention(*repository_, *runner_, clock_, domains_,
                             RetentionSettings{temp_.path() / "data", 60s, 48h, 1000});
  EXPECT_EQ(retention.sweepAbandoned(), 2u);
  EXPECT_FALSE(fs::exists(sessionDir("declined")));
  EXPECT_FALSE(fs::exists(sessionDir("cancelled")));
  EXPECT_TRUE(fs::exists(sessionDir("ready")));
  EXPECT_TRUE(fs::exists(sessionDir("unknown-id")));
  EXPECT_EQ(find("declined").state, "declined");
  EXPECT_TRUE(events_.events().empty());
}

TEST_F(RetentionJanitorTest, SweepWithoutSessionsDirectoryDoesNothing) {
  RetentionJanitor retention(*repository_, *runner_, clock_, domains_,
                             RetentionSettings{temp_.path() / "nowhere", 60s, 48h, 1000});
  EXPECT_EQ(retention.sweepAbandoned(), 0u);
  const auto round = retention.runOnce();
  EXPECT_EQ(round.removed + round.skipped + round.swept, 0u);
}

TEST_F(RetentionJanitorTest, RecordingsOfAnUnconfiguredDomainUseTheDefaultRetention) {
  addRecording("gone-domain", "ready", "removed-domain", nowMs() - (49h) / 1ms);
  RetentionJanitor retention(*repository_, *runner_, clock_, domains_,
                             RetentionSettings{temp_.path() / "data", 60s, 48h, 1000});
  EXPECT_EQ(retention.runOnce().removed, 1u);
  settle();
  EXPECT_EQ(find("gone-domain").state, "deleted");
}

TEST_F(RetentionJanitorTest, StartRunsARoundAtOnceAndStopJoins) {
  addRecording("declined", "declined");
  RetentionJanitor retention(*repository_, *runner_, clock_, domains_,
                             RetentionSettings{temp_.path() / "data", 1h, 48h, 1000});
  retention.start();
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (retention.rounds() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(retention.rounds(), 1u);
  EXPECT_FALSE(fs::exists(sessionDir("declined")));
  retention.stop();  // returns at once although the next round is an hour away
  retention.stop();
  EXPECT_EQ(retention.rounds(), 1u);
}

}  // namespace
}  // namespace siprecd::control
