#include "control/command_service.hpp"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "base/manual_event_loop.hpp"
#include "db/sqlite_repository.hpp"
#include "support/temp_dir.hpp"

namespace siprecd::control {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr int64_t kStarted = 1'700'000'000'000;

/// LiveSessions that answers with `result` (synchronously, or never when `silent`).
class FakeLiveSessions final : public LiveSessions {
 public:
  void apply(std::string recording_id, SessionCommand command,
             std::function<void(Result<void>)> done) override {
    {
      std::lock_guard lock(mutex);
      calls.emplace_back(std::move(recording_id), command);
    }
    if (!silent) {
      done(result);
      done(result);  // a second call must be harmless
    }
  }
  std::mutex mutex;
  std::vector<std::pair<std::string, SessionCommand>> calls;
  Result<void> result;
  bool silent = false;
};

/// RecordingJobs that records requests; store() can be held until released.
class FakeRecordingJobs final : public RecordingJobs {
 public:
  Result<void> store(StoreRequest request) override {
    std::unique_lock lock(mutex);
    stores.push_back(std::move(request));
    entered.notify_all();
    released.wait(lock, [this] { return !hold; });
    return store_result;
  }
  Result<void> remove(std::string domain, std::string recording_id, std::string reason) override {
    std::lock_guard lock(mutex);
    removes.push_back(domain + "/" + recording_id + "/" + reason);
    return remove_result;
  }
  void release() {
    {
      std::lock_guard lock(mutex);
      hold = false;
    }
    released.notify_all();
  }
  std::size_t storeCount() {
    std::lock_guard lock(mutex);
    return stores.size();
  }

  std::mutex mutex;
  std::condition_variable entered, released;
  bool hold = false;
  std::vector<StoreRequest> stores;
  std::vector<std::string> removes;
  Result<void> store_result;
  Result<void> remove_result;
};

class CommandServiceTest : public testing::Test {
 protected:
  CommandServiceTest() {
    auto opened = db::SqliteRepository::open(dir_.path() / "siprecd.db");
    EXPECT_TRUE(opened) << opened.error().message;
    repository_ = std::move(*opened);
    auto directory = std::make_shared<DomainDirectory>();
    for (const std::string name : {"acme", "other"}) {
      auto settings = std::make_shared<DomainSettings>();
      settings->name = name;
      settings->destinations["local"] = NamedDestination{"local", nullptr};
      (*directory)[name] = settings;
    }
    domains_ = directory;
    service_ = makeService();
  }

  std::unique_ptr<CommandService> makeService(std::chrono::milliseconds live_timeout = 2s) {
    return std::make_unique<CommandService>(domains_, *repository_, live_, jobs_, tokens_, clock_,
                                            live_timeout);
  }

  void addRecording(const std::string& id, const std::string& state,
                    const std::string& domain = "acme", bool started = true) {
    db::RecordingRecord record;
    record.id = id;
    record.domain = domain;
    record.state = state;
    record.created_ms = kStarted - 500;
    if (started) {
      record.started_ms = kStarted;
    }
    if (state == "ready" || state == "stored") {
      record.ended_ms = kStarted + 60'000;
    }
    repository_->insertRecording(record);
    repository_->flush();
  }

  void setState(const std::string& id, const std::string& state) {
    auto record = repository_->findRecording(id);
    ASSERT_TRUE(record && *record);
    (*record)->state = state;
    repository_->updateRecording(**record);
    repository_->flush();
  }

  CommandReply send(const std::string& method, json body, std::string key = "",
                    std::string domain = "acme") {
    return service_->handle(CommandRequest{std::move(domain), method, std::move(body), key});
  }

  static std::string message(const CommandReply& reply) {
    return reply.body["error"]["message"].get<std::string>();
  }

  int64_t nowS() const { return clock_.epochMs() / 1000; }

  test_support::TempDir dir_;
  std::unique_ptr<db::SqliteRepository> repository_;
  std::shared_ptr<const DomainDirectory> domains_;
  FakeLiveSessions live_;
  FakeRecordingJobs jobs_;
  ReplyTokens tokens_{"server-secret"};
  ManualClock clock_;
  std::unique_ptr<CommandService> service_;
};

TEST_F(CommandServiceTest, UnknownDomainIs404) {
  auto reply = send("STORERECORDING", {{"recordingId", "r1"}}, "", "nobody");
  EXPECT_EQ(reply.status, 404);
  EXPECT_EQ(reply.body["success"], false);
  EXPECT_EQ(reply.body["error"]["code"], 404);
}

TEST_F(CommandServiceTest, UnknownOrForeignRecordingIs404) {
  addRecording("theirs", "ready", "other");
  EXPECT_EQ(send("STORERECORDING", {{"recordingId", "missing"}}).status, 404);
  auto reply = send("DELETERECORDING", {{"recordingId", "theirs"}});
  EXPECT_EQ(reply.status, 404);
  EXPECT_TRUE(jobs_.removes.empty());
}

TEST_F(CommandServiceTest, StoreStartsAJobWithAbsoluteTimes) {
  addRecording("r1", "ready");
  auto reply = send(
      "STORERECORDING",
      {{"method", "STORERECORDING"},
       {"recordingId", "r1"},
       {"format", "mp3"},
       {"modificationParams",
        {{"trim", {{"from", 1000}, {"to", 5000}}}, {"mask", {{"from", 2000}, {"to", 2500}}}}}});
  ASSERT_EQ(reply.status, 200) << reply.body.dump();
  EXPECT_EQ(reply.body["success"], true);
  EXPECT_EQ(reply.body["recordingId"], "r1");
  EXPECT_EQ(reply.body["method"], "STORERECORDING");
  EXPECT_EQ(reply.body["state"], "storing");
  EXPECT_EQ(reply.body["previousState"], "ready");
  EXPECT_EQ(reply.body["destination"], "local");
  EXPECT_EQ(reply.body["format"], "mp3");
  EXPECT_EQ(reply.body["layout"], "stereo");
  ASSERT_EQ(jobs_.stores.size(), 1u);
  const StoreRequest& request = jobs_.stores[0];
  EXPECT_EQ(request.domain, "acme");
  EXPECT_EQ(request.recording_id, "r1");
  EXPECT_EQ(request.format, recording::AudioFormat::Mp3);
  EXPECT_EQ(request.trim->from_ms, kStarted + 1000);
  EXPECT_EQ(request.trim->to_ms, kStarted + 5000);
  ASSERT_EQ(request.masks.size(), 1u);
  EXPECT_EQ(request.masks[0].span.from_ms, kStarted + 2000);
}

TEST_F(CommandServiceTest, RelativeTimesFallBackToTheCreationTime) {
  addRecording("r1", "failed", "acme", false);
  auto reply = send("STORERECORDING",
                    {{"recordingId", "r1"}, {"modificationParams", {{"trim", {{"from", 100}}}}}});
  ASSERT_EQ(reply.status, 200) << reply.body.dump();
  EXPECT_EQ(jobs_.stores.at(0).trim->from_ms, kStarted - 500 + 100);
}

TEST_F(CommandServiceTest, InvalidStoreFieldsAre400AndStartNothing) {
  addRecording("r1", "ready");
  auto reply = send("STORERECORDING", {{"recordingId", "r1"}, {"layout", "5.1"}});
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(message(reply).rfind("layout:", 0), 0u) << message(reply);
  auto no_id = send("STORERECORDING", json::object());
  EXPECT_EQ(no_id.status, 400);
  EXPECT_EQ(message(no_id), "recordingId: is required");
  EXPECT_TRUE(jobs_.stores.empty());
}

TEST_F(CommandServiceTest, WrongStatesAre409) {
  addRecording("live", "recording");
  addRecording("busy", "storing");
  addRecording("gone", "deleted");
  addRecording("done", "ready");
  auto store_live = send("STORERECORDING", {{"recordingId", "live"}});
  EXPECT_EQ(store_live.status, 409);
  EXPECT_NE(message(store_live).find("state recording"), std::string::npos) << message(store_live);
  EXPECT_EQ(send("STORERECORDING", {{"recordingId", "busy"}}).status, 409);
  EXPECT_EQ(send("DELETERECORDING", {{"recordingId", "busy"}}).status, 409);
  EXPECT_EQ(send("DELETERECORDING", {{"recordingId", "live"}}).status, 409);
  EXPECT_EQ(send("DELETERECORDING", {{"recordingId", "gone"}}).status, 409);
  EXPECT_EQ(send("STOPRECORDING", {{"recordingId", "done"}}).status, 409);
  EXPECT_EQ(send("PAUSERECORDING", {{"recordingId", "gone"}}).status, 409);
  EXPECT_TRUE(jobs_.stores.empty());
  EXPECT_TRUE(jobs_.removes.empty());
  EXPECT_TRUE(live_.calls.empty());
}

TEST_F(CommandServiceTest, JobErrorsKeepTheirStatus) {
  addRecording("r1", "ready");
  jobs_.store_result = fail("destination: bad template", 400);
  EXPECT_EQ(send("STORERECORDING", {{"recordingId", "r1"}}).status, 400);
  jobs_.store_result = fail("a delete is running", 409);
  EXPECT_EQ(send("STORERECORDING", {{"recordingId", "r1"}}).status, 409);
  jobs_.store_result = fail("worker pool gone");
  auto internal = send("STORERECORDING", {{"recordingId", "r1"}});
  EXPECT_EQ(internal.status, 500);
  EXPECT_EQ(internal.body["success"], false);
}

TEST_F(CommandServiceTest, DeleteGoesToTheJobsWithReasonCommand) {
  addRecording("r1", "stored");
  auto reply = send("DELETERECORDING", {{"recordingId", "r1"}});
  ASSERT_EQ(reply.status, 200) << reply.body.dump();
  EXPECT_EQ(reply.body["state"], "deleted");
  ASSERT_EQ(jobs_.removes.size(), 1u);
  EXPECT_EQ(jobs_.removes[0], "acme/r1/command");
}

TEST_F(CommandServiceTest, LiveCommandsGoToTheSession) {
  addRecording("r1", "recording");
  auto reply = send("PAUSERECORDING", {{"recordingId", "r1"}});
  ASSERT_EQ(reply.status, 200) << reply.body.dump();
  EXPECT_EQ(reply.body["state"], "paused");
  EXPECT_EQ(send("STOPRECORDING", {{"recordingId", "r1"}}).body["state"], "ready");
  EXPECT_EQ(send("CANCELRECORDING", {{"recordingId", "r1"}}).body["state"], "cancelled");
  EXPECT_EQ(send("RESUMERECORDING", {{"recordingId", "r1"}}).body["state"], "recording");
  ASSERT_EQ(live_.calls.size(), 4u);
  EXPECT_EQ(live_.calls[0], std::make_pair(std::string("r1"), SessionCommand::Pause));
  EXPECT_EQ(live_.calls[1].second, SessionCommand::Stop);
  EXPECT_EQ(live_.calls[2].second, SessionCommand::Cancel);
  EXPECT_EQ(live_.calls[3].second, SessionCommand::Resume);
}

TEST_F(CommandServiceTest, SessionRefusalKeepsItsStatus) {
  addRecording("r1", "recording");
  live_.result = fail("not paused", 409);
  auto reply = send("RESUMERECORDING", {{"recordingId", "r1"}});
  EXPECT_EQ(reply.status, 409);
  EXPECT_EQ(message(reply), "not paused");
  live_.result = fail("no live session", 404);
  EXPECT_EQ(send("STOPRECORDING", {{"recordingId", "r1"}}).status, 404);
}

TEST_F(CommandServiceTest, SilentSessionIs503AfterTheTimeout) {
  addRecording("r1", "recording");
  service_ = makeService(20ms);
  live_.silent = true;
  auto reply = send("STOPRECORDING", {{"recordingId", "r1"}});
  EXPECT_EQ(reply.status, 503);
}

TEST_F(CommandServiceTest, ValidReplyIdIsAccepted) {
  addRecording("r1", "ready");
  const auto token = tokens_.issue("acme", "r1", nowS(), 3600s);
  auto reply = send("STORERECORDING", {{"recordingId", "r1"}, {"replyId", token}});
  EXPECT_EQ(reply.status, 200) << reply.body.dump();
}

TEST_F(CommandServiceTest, MismatchedOrInvalidReplyIdIs403) {
  addRecording("r1", "ready");
  addRecording("r2", "ready");
  const auto for_r2 = tokens_.issue("acme", "r2", nowS(), 3600s);
  auto mismatch = send("STORERECORDING", {{"recordingId", "r1"}, {"replyId", for_r2}});
  EXPECT_EQ(mismatch.status, 403);
  EXPECT_EQ(message(mismatch).rfind("replyId:", 0), 0u);
  const auto other_domain = tokens_.issue("other", "r1", nowS(), 3600s);
  EXPECT_EQ(send("STORERECORDING", {{"recordingId", "r1"}, {"replyId", other_domain}}).status, 403);
  EXPECT_EQ(send("STORERECORDING", {{"recordingId", "r1"}, {"replyId", "garbage"}}).status, 403);
  const auto forged = ReplyTokens("another-secret").issue("acme", "r1", nowS(), 3600s);
  EXPECT_EQ(send("STORERECORDING", {{"recordingId", "r1"}, {"replyId", forged}}).status, 403);
  const auto expired = tokens_.issue("acme", "r1", nowS() - 7200, 3600s);
  EXPECT_EQ(send("STORERECORDING", {{"recordingId", "r1"}, {"replyId", expired}}).status, 403);
  EXPECT_TRUE(jobs_.stores.empty());
}

TEST_F(CommandServiceTest, RepeatWithTheSameKeyReturnsTheFirstReply) {
  addRecording("r1", "ready");
  auto first = send("STORERECORDING", {{"recordingId", "r1"}, {"format", "flac"}}, "key-1");
  ASSERT_EQ(first.status, 200);
  // The repeat returns the first reply even though the body differs.
  auto again = send("STORERECORDING", {{"recordingId", "r1"}, {"format", "wav"}}, "key-1");
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(jobs_.storeCount(), 1u);
  // Another key, or another method with the same key, is a new command.
  EXPECT_EQ(send("STORERECORDING", {{"recordingId", "r1"}}, "key-2").status, 200);
  EXPECT_EQ(jobs_.storeCount(), 2u);
  EXPECT_EQ(send("DELETERECORDING", {{"recordingId", "r1"}}, "key-1").status, 200);
  EXPECT_EQ(jobs_.removes.size(), 1u);
}

TEST_F(CommandServiceTest, StoredReplySurvivesARestart) {
  addRecording("r1", "ready");
  auto first = send("STORERECORDING", {{"recordingId", "r1"}}, "key-1");
  ASSERT_EQ(first.status, 200);
  repository_->flush();
  auto saved = repository_->findCommandResult("acme", "r1", "STORERECORDING", "key-1");
  ASSERT_TRUE(saved && *saved);
  EXPECT_EQ((*saved)->status, 200);
  service_ = makeService();  // a new process (or another node) over the same store
  auto again = send("STORERECORDING", {{"recordingId", "r1"}}, "key-1");
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(jobs_.storeCount(), 1u);
}

TEST_F(CommandServiceTest, FailedRepliesAreNotKeptSoARetryCanSucceed) {
  addRecording("r1", "recording");
  EXPECT_EQ(send("STORERECORDING", {{"recordingId", "r1"}}, "key-1").status, 409);
  setState("r1", "ready");
  EXPECT_EQ(send("STORERECORDING", {{"recordingId", "r1"}}, "key-1").status, 200);
  EXPECT_EQ(jobs_.storeCount(), 1u);
}

TEST_F(CommandServiceTest, ConcurrentDuplicatesRunOnce) {
  addRecording("r1", "ready");
  jobs_.hold = true;
  CommandReply first, second;
  std::thread a([&] { first = send("STORERECORDING", {{"recordingId", "r1"}}, "dup"); });
  {
    std::unique_lock lock(jobs_.mutex);
    jobs_.entered.wait(lock, [this] { return !jobs_.stores.empty(); });
  }
  std::thread b([&] { second = send("STORERECORDING", {{"recordingId", "r1"}}, "dup"); });
  std::this_thread::sleep_for(50ms);  // let the duplicate reach its wait (passes either way)
  jobs_.release();
  a.join();
  b.join();
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(second.body, first.body);
  EXPECT_EQ(jobs_.storeCount(), 1u);
}

TEST_F(CommandServiceTest, OverlongIdempotencyKeyIs400) {
  addRecording("r1", "ready");
  EXPECT_EQ(send("STORERECORDING", {{"recordingId", "r1"}}, std::string(256, 'k')).status, 400);
  EXPECT_EQ(send("STORERECORDING", {{"recordingId", "r1"}}, "bad\nkey").status, 400);
  EXPECT_TRUE(jobs_.stores.empty());
}

}  // namespace
}  // namespace siprecd::control
