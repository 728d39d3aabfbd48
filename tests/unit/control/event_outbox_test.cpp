#include "control/event_outbox.hpp"

#include <atomic>
#include <regex>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "base/manual_event_loop.hpp"
#include "db/repository.hpp"
#include "support/temp_dir.hpp"

namespace siprecd::control {
namespace {

class EventOutboxTest : public ::testing::Test {
 protected:
  EventOutboxTest() {
    auto opened = db::openSqliteRepository(dir_.path() / "siprecd.db");
    EXPECT_TRUE(opened) << (opened ? "" : opened.error().message);
    repository_ = std::move(*opened);
    auto domains = std::make_shared<DomainDirectory>();
    auto acme = std::make_shared<DomainSettings>();
    acme->name = "acme";
    acme->callback_base = "http://127.0.0.1:9/hooks";
    acme->retention = std::chrono::hours(48);
    (*domains)["acme"] = acme;
    auto quiet = std::make_shared<DomainSettings>();
    quiet->name = "quiet";
    (*domains)["quiet"] = quiet;
    outbox_ = std::make_unique<EventOutbox>(*repository_, tokens_, lookupIn(domains), clock_,
                                            [this] { ++persisted_; });
  }

  std::vector<db::OutboxEvent> events(const std::string& recording_id) {
    repository_->flush();
    return repository_->eventsForRecording(recording_id).value();
  }

  test_support::TempDir dir_;
  std::unique_ptr<db::Repository> repository_;
  ManualClock clock_;
  ReplyTokens tokens_{"0123456789abcdef0123456789abcdef"};
  std::atomic<int> persisted_{0};
  std::unique_ptr<EventOutbox> outbox_;
};

TEST_F(EventOutboxTest, BodyCarriesEnvelopeReplyIdAndDataAtTopLevel) {
  outbox_->emit(EventType::RecordingReady, "acme", "rec-1",
                {{"durationMs", 1234}, {"interrupted", false}, {"method", "FORGED"}});
  const auto stored = events("rec-1");
  ASSERT_EQ(stored.size(), 1U);
  const db::OutboxEvent& event = stored[0];
  EXPECT_EQ(event.name, "RECORDINGREADY");
  EXPECT_EQ(event.domain, "acme");
  EXPECT_EQ(event.status, "pending");
  EXPECT_EQ(event.created_ms, clock_.epochMs());
  EXPECT_EQ(event.next_attempt_ms, clock_.epochMs());
  EXPECT_EQ(event.attempts, 0);
  EXPECT_TRUE(std::regex_match(
      event.event_id,
      std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));

  const auto body = nlohmann::json::parse(event.body);
  EXPECT_EQ(body["method"], "RECORDINGREADY");  // the envelope wins over data fields
  EXPECT_EQ(body["eventId"], event.event_id);
  EXPECT_EQ(body["timestamp"], clock_.epochMs());
  EXPECT_EQ(body["domain"], "acme");
  EXPECT_EQ(body["recordingId"], "rec-1");
  EXPECT_EQ(body["durationMs"], 1234);
  EXPECT_EQ(body["interrupted"], false);
  EXPECT_EQ(event.body.rfind(R"({"method":"RECORDINGREADY",)", 0), 0U) << event.body;

  const auto claims = tokens_.verify(body["replyId"].get<std::string>(), clock_.epochMs() / 1000);
  ASSERT_TRUE(claims) << claims.error().message;
  EXPECT_EQ(claims->domain, "acme");
  EXPECT_EQ(claims->recording_id, "rec-1");
  // Retention (48 h) plus a day.
  EXPECT_EQ(claims->expires_at_s - claims->issued_at_s, 72 * 3600);
  EXPECT_EQ(persisted_, 1);
}

TEST_F(EventOutboxTest, NewCallCarriesNoReplyId) {
  outbox_->emit(EventType::NewCall, "acme", "rec-2", {{"callId", "abc@host"}});
  const auto stored = events("rec-2");
  ASSERT_EQ(stored.size(), 1U);
  const auto body = nlohmann::json::parse(stored[0].body);
  EXPECT_EQ(body["method"], "NEWCALL");
  EXPECT_EQ(body["callId"], "abc@host");
  EXPECT_FALSE(body.contains("replyId"));
}

TEST_F(EventOutboxTest, DomainWithoutCallbackKeepsEventAsSkipped) {
  outbox_->emit(EventType::RecordingStarted, "quiet", "rec-3", nlohmann::json::object());
  outbox_->emit(EventType::RecordingStarted, "nobody", "rec-3", nlohmann::json::object());
  const auto stored = events("rec-3");
  ASSERT_EQ(stored.size(), 2U);
  EXPECT_EQ(stored[0].status, "skipped");
  EXPECT_EQ(stored[0].last_error, "no callback_base configured");
  EXPECT_EQ(stored[1].status, "skipped");
  EXPECT_EQ(stored[1].last_error, "unknown domain");
  EXPECT_EQ(repository_->pendingEventCount().value(), 0);
  EXPECT_TRUE(repository_->dueEvents(clock_.epochMs() + 1'000'000, 10).value().empty());
  EXPECT_EQ(persisted_, 0);  // nothing to deliver: the dispatcher is not woken
}

TEST_F(EventOutboxTest, NonObjectDataIsKeptUnderData) {
  outbox_->emit(EventType::RecordingFailed, "acme", "rec-4", nlohmann::json::array({1, 2}));
  const auto body = nlohmann::json::parse(events("rec-4")[0].body);
  EXPECT_EQ(body["data"], nlohmann::json::array({1, 2}));
}

TEST_F(EventOutboxTest, InvalidUtf8InDataDoesNotThrow) {
  outbox_->emit(EventType::MetadataUpdated, "acme", "rec-5", {{"name", std::string("caf\xe9")}});
  const auto stored = events("rec-5");
  ASSERT_EQ(stored.size(), 1U);
  EXPECT_TRUE(nlohmann::json::accept(stored[0].body));
}

TEST_F(EventOutboxTest, ConcurrentEmittersKeepEveryEventInOrderPerThread) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < kPerThread; ++i) {
        outbox_->emit(EventType::MetadataUpdated, "acme", "rec-t" + std::to_string(t), {{"n", i}});
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  std::set<std::string> ids;
  for (int t = 0; t < kThreads; ++t) {
    const auto stored = events("rec-t" + std::to_string(t));
    ASSERT_EQ(stored.size(), static_cast<std::size_t>(kPerThread));
    for (int i = 0; i < kPerThread; ++i) {
      EXPECT_EQ(nlohmann::json::parse(stored[static_cast<std::size_t>(i)].body)["n"], i);
      ids.insert(stored[static_cast<std::size_t>(i)].event_id);
    }
  }
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kThreads * kPerThread));
  EXPECT_EQ(persisted_, kThreads * kPerThread);
}

}  // namespace
}  // namespace siprecd::control
