#include "control/nats_event_publisher.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/clock.hpp"
#include "control/domain_settings.hpp"
#include "control/event_outbox.hpp"
#include "control/nats_test_server.hpp"
#include "control/reply_token.hpp"
#include "db/repository.hpp"
#include "support/temp_dir.hpp"

namespace siprecd::control {
namespace {

using namespace std::chrono_literals;
using test_support::connectTo;
using test_support::eventually;
using test_support::NatsReceived;
using test_support::NatsTestServer;
using test_support::nextMessage;
using test_support::streamMessages;

class NatsEventPublisherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!NatsTestServer::installed()) {
      GTEST_SKIP() << NatsTestServer::kBinary << " not installed";
    }
    ASSERT_TRUE(server_.start());
    repository_ = openRepository(dir_.path() / "siprecd.db");
    ASSERT_TRUE(repository_);
    addDomain("default", "");  // no webhooks: the outbox marks its events skipped
    addDomain("acme.example", "http://127.0.0.1:9/hooks");
    outbox_ = std::make_unique<EventOutbox>(*repository_, tokens_, lookupIn(domains_), clock_);
    connection_ = connectTo(server_.url());
    ASSERT_TRUE(connection_);
    settings_.poll_interval = 20ms;
    settings_.initial_backoff = 20ms;
    settings_.max_backoff = 200ms;
  }
  void TearDown() override {
    stopPublisher();
    if (repository_) {
      repository_->flush();
    }
  }

  static std::unique_ptr<db::Repository> openRepository(const std::filesystem::path& file) {
    auto opened = db::openSqliteRepository(file);
    EXPECT_TRUE(opened) << (opened ? "" : opened.error().message);
    return opened ? std::move(*opened) : nullptr;
  }
  void addDomain(const std::string& name, const std::string& callback_base) {
    auto domain = std::make_shared<DomainSettings>();
    domain->name = name;
    domain->callback_base = callback_base;
    (*domains_)[name] = domain;
  }
  void startPublisher(db::Repository& repository) {
    publisher_ = std::make_unique<NatsEventPublisher>(repository, *connection_, settings_);
    outbox_ = std::make_unique<EventOutbox>(repository, tokens_, lookupIn(domains_), clock_,
                                            publisher_->waker());
    publisher_->start();
  }
  void stopPublisher() {
    if (publisher_) {
      publisher_->stop();
    }
  }
  /// A JetStream subscription (ephemeral consumer from the stream's start) on the events.
  control::NatsPtr<natsSubscription> subscribeEvents(const std::string& subject = "siprecd.>") {
    natsSubscription* raw = nullptr;
    jsSubOptions options;
    jsSubOptions_Init(&options);
    options.Stream = "SIPRECD_EVENTS";
    jsErrCode error = static_cast<jsErrCode>(0);
    const natsStatus status = js_SubscribeSync(&raw, connection_->jetStream(), subject.c_str(),
                                               nullptr, &options, &error);
    EXPECT_EQ(status, NATS_OK) << natsErrorText(status, error);
    return control::NatsPtr<natsSubscription>(raw);
  }
  bool waitForStream() {
    return eventually([&] { return streamMessages(*connection_, "SIPRECD_EVENTS").has_value(); });
  }
  std::vector<db::OutboxEvent> outboxEvents(db::Repository& repository) {
    repository.flush();
    return repository.eventsAfter(0, 100).value();
  }

  NatsTestServer server_;
  test_support::TempDir dir_;
  std::unique_ptr<db::Repository> repository_;
  std::shared_ptr<DomainDirectory> domains_ = std::make_shared<DomainDirectory>();
  ReplyTokens tokens_{"test-server-secret"};
  SystemClock clock_;
  std::unique_ptr<EventOutbox> outbox_;
  std::unique_ptr<NatsConnection> connection_;
  NatsEventPublisherSettings settings_;
  std::unique_ptr<NatsEventPublisher> publisher_;
};

TEST(NatsEventSubject, IsPrefixDomainTokenEventsAndCallbackName) {
  db::OutboxEvent event;
  event.domain = "rec.example.com";
  event.name = "RECORDINGREADY";
  EXPECT_EQ(NatsEventPublisher::subjectFor("siprecd", event),
            "siprecd.rec_example_com.events.recordingReady");
  event.domain = "default";
  event.name = "NEWCALL";
  EXPECT_EQ(NatsEventPublisher::subjectFor("siprecd", event), "siprecd.default.events.newCall");
}

TEST_F(NatsEventPublisherTest, PublishesEveryOutboxEventWithItsBodyAndEventIdInOrder) {
  startPublisher(*repository_);
  outbox_->emit(EventType::NewCall, "default", "r1", {{"callId", "c1"}});
  outbox_->emit(EventType::RecordingStarted, "default", "r1", {});
  outbox_->emit(EventType::RecordingReady, "acme.example", "r2", {{"duration", 3000}});
  outbox_->emit(EventType::RecordingReady, "default", "r1", {{"duration", 2000}});
  const auto stored = outboxEvents(*repository_);
  ASSERT_EQ(stored.size(), 4u);
  EXPECT_EQ(stored[0].status, "skipped");  // no webhook for "default", still published

  ASSERT_TRUE(waitForStream());
  auto subscription = subscribeEvents();
  ASSERT_TRUE(subscription);
  const std::vector<std::string> subjects{
      "siprecd.default.events.newCall", "siprecd.default.events.recordingStarted",
      "siprecd.acme_example.events.recordingReady", "siprecd.default.events.recordingReady"};
  for (std::size_t i = 0; i < stored.size(); ++i) {
    const auto message = nextMessage(subscription.get());
    ASSERT_TRUE(message) << "event " << i << " not received";
    EXPECT_EQ(message->subject, subjects[i]);
    EXPECT_EQ(message->data, stored[i].body);
    EXPECT_EQ(message->header("Nats-Msg-Id"), stored[i].event_id);
    EXPECT_EQ(message->header("Siprecd-Event"), stored[i].name);
    EXPECT_EQ(nlohmann::json::parse(message->data).value("eventId", ""), stored[i].event_id);
  }
  EXPECT_TRUE(eventually([&] { return publisher_->stats().cursor == stored.back().sequence; }));
  EXPECT_EQ(publisher_->stats().published, 4u);
  repository_->flush();  // the cursor's save is queued before stats() shows it
  EXPECT_EQ(repository_->publisherCursor(NatsEventPublisher::kCursorName).value(),
            stored.back().sequence);
}

TEST_F(NatsEventPublisherTest, CarriesOnFromItsSavedCursorAfterARestart) {
  startPublisher(*repository_);
  outbox_->emit(EventType::RecordingStarted, "default", "r1", {});
  outbox_->emit(EventType::RecordingReady, "default", "r1", {});
  auto stored = outboxEvents(*repository_);
  ASSERT_TRUE(eventually([&] { return publisher_->stats().cursor == stored.back().sequence; }));
  publisher_.reset();
  repository_->flush();

  startPublisher(*repository_);
  outbox_->emit(EventType::RecordingDeleted, "default", "r1", {});
  stored = outboxEvents(*repository_);
  ASSERT_TRUE(eventually([&] { return publisher_->stats().cursor == stored.back().sequence; }));
  EXPECT_EQ(publisher_->stats().published, 1u);  // only the new one
  EXPECT_EQ(streamMessages(*connection_, "SIPRECD_EVENTS"), 3u);
}

TEST_F(NatsEventPublisherTest, JetStreamDropsAnEventPublishedAgainWithTheSameEventId) {
  startPublisher(*repository_);
  outbox_->emit(EventType::RecordingStarted, "default", "r1", {});
  outbox_->emit(EventType::RecordingReady, "default", "r1", {});
  const auto stored = outboxEvents(*repository_);
  ASSERT_TRUE(eventually([&] { return publisher_->stats().cursor == stored.back().sequence; }));
  publisher_.reset();

  // A store without the cursor (as after a crash before the cursor was saved) holding the
  // same events: both are published again and JetStream keeps one copy of each.
  auto other = openRepository(dir_.path() / "other.db");
  ASSERT_TRUE(other);
  for (db::OutboxEvent event : stored) {
    other->insertEvent(std::move(event));
  }
  other->flush();
  startPublisher(*other);
  EXPECT_TRUE(eventually([&] { return publisher_->stats().published == 2; }));
  EXPECT_EQ(streamMessages(*connection_, "SIPRECD_EVENTS"), 2u);
  publisher_.reset();
  other->flush();
}

TEST_F(NatsEventPublisherTest, EventsEmittedWhileTheServerIsDownGoOutInOrderWhenItReturns) {
  startPublisher(*repository_);
  outbox_->emit(EventType::RecordingStarted, "default", "r1", {});
  auto stored = outboxEvents(*repository_);
  ASSERT_TRUE(eventually([&] { return publisher_->stats().cursor == stored.back().sequence; }));

  server_.stop();
  outbox_->emit(EventType::RecordingReady, "default", "r1", {});
  outbox_->emit(EventType::RecordingStored, "default", "r1", {});
  stored = outboxEvents(*repository_);
  std::this_thread::sleep_for(300ms);  // the publisher meets the dead connection
  EXPECT_LT(publisher_->stats().cursor, stored.back().sequence);
  ASSERT_TRUE(server_.start());

  ASSERT_TRUE(eventually([&] { return publisher_->stats().cursor == stored.back().sequence; }));
  ASSERT_TRUE(eventually([&] { return connection_->connected(); }));
  auto subscription = subscribeEvents();
  ASSERT_TRUE(subscription);
  for (const auto& event : stored) {
    const auto message = nextMessage(subscription.get());
    ASSERT_TRUE(message);
    EXPECT_EQ(message->header("Nats-Msg-Id"), event.event_id);
  }
  EXPECT_FALSE(nextMessage(subscription.get(), 200ms));
}

TEST_F(NatsEventPublisherTest, CreatesTheStreamAgainWhenItIsDeleted) {
  startPublisher(*repository_);
  outbox_->emit(EventType::RecordingStarted, "default", "r1", {});
  auto stored = outboxEvents(*repository_);
  ASSERT_TRUE(eventually([&] { return publisher_->stats().cursor == stored.back().sequence; }));
  jsErrCode error = static_cast<jsErrCode>(0);
  ASSERT_EQ(js_DeleteStream(connection_->jetStream(), "SIPRECD_EVENTS", nullptr, &error), NATS_OK);

  outbox_->emit(EventType::RecordingReady, "default", "r1", {});
  stored = outboxEvents(*repository_);
  ASSERT_TRUE(eventually([&] { return publisher_->stats().cursor == stored.back().sequence; }));
  EXPECT_GE(publisher_->stats().failures, 1u);
  EXPECT_EQ(streamMessages(*connection_, "SIPRECD_EVENTS"), 1u);
}

TEST_F(NatsEventPublisherTest, PassesOverAnEventLargerThanTheServersMaxPayload) {
  db::OutboxEvent huge;
  huge.event_id = "huge-1";
  huge.domain = "default";
  huge.recording_id = "r1";
  huge.name = "METADATAUPDATED";
  huge.body = R"({"method":"METADATAUPDATED","pad":")" + std::string(2 << 20, 'x') + R"("})";
  repository_->insertEvent(huge);
  startPublisher(*repository_);
  outbox_->emit(EventType::RecordingReady, "default", "r1", {});
  const auto stored = outboxEvents(*repository_);
  ASSERT_TRUE(eventually([&] { return publisher_->stats().cursor == stored.back().sequence; }));
  EXPECT_EQ(publisher_->stats().unpublishable, 1u);
  EXPECT_EQ(publisher_->stats().published, 1u);
  EXPECT_EQ(streamMessages(*connection_, "SIPRECD_EVENTS"), 1u);
}

}  // namespace
}  // namespace siprecd::control
