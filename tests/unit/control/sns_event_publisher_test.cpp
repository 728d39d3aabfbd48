#include "control/sns_event_publisher.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/clock.hpp"
#include "control/aws_query_test_server.hpp"
#include "control/domain_settings.hpp"
#include "control/event_outbox.hpp"
#include "control/eventually.hpp"
#include "control/reply_token.hpp"
#include "db/repository.hpp"
#include "support/temp_dir.hpp"

namespace siprecd::control {
namespace {

using namespace std::chrono_literals;
using test_support::AwsQueryTestServer;
using test_support::eventually;

constexpr const char* kTopic = "arn:aws:sns:eu-west-1:000000000000:events";

class SnsEventPublisherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = db::openSqliteRepository(dir_.path() / "siprecd.db");
    ASSERT_TRUE(opened) << opened.error().message;
    repository_ = std::move(*opened);
    for (const char* name : {"default", "acme"}) {
      auto domain = std::make_shared<DomainSettings>();
      domain->name = name;
      (*domains_)[name] = domain;
    }
    outbox_ = std::make_unique<EventOutbox>(*repository_, tokens_, lookupIn(domains_), clock_);
    settings_.poll_interval = 20ms;
    settings_.initial_backoff = 20ms;
    settings_.max_backoff = 100ms;
  }
  void TearDown() override {
    publisher_.reset();
    repository_->flush();
  }
  SnsTopic topic(const std::string& domain, std::string secret = AwsQueryTestServer::kSecret) {
    SnsTopic topic;
    topic.domain = domain;
    topic.topic_arn = kTopic;
    topic.service.service = "sns";
    topic.service.region = "eu-west-1";
    topic.service.endpoint = parseAwsEndpoint(server_.endpoint()).value();
    topic.service.credentials = {AwsQueryTestServer::kKeyId, std::move(secret), ""};
    return topic;
  }
  void start(std::vector<SnsTopic> topics) {
    publisher_ = std::make_unique<SnsEventPublisher>(*repository_, std::move(topics), settings_);
    outbox_ = std::make_unique<EventOutbox>(*repository_, tokens_, lookupIn(domains_), clock_,
                                            publisher_->waker());
    publisher_->start();
  }
  std::vector<db::OutboxEvent> stored() {
    repository_->flush();
    return repository_->eventsAfter(0, 100).value();
  }

  AwsQueryTestServer server_;
  test_support::TempDir dir_;
  std::unique_ptr<db::Repository> repository_;
  std::shared_ptr<DomainDirectory> domains_ = std::make_shared<DomainDirectory>();
  ReplyTokens tokens_{"test-server-secret"};
  SystemClock clock_;
  std::unique_ptr<EventOutbox> outbox_;
  SnsEventPublisherSettings settings_;
  std::unique_ptr<SnsEventPublisher> publisher_;
};

TEST_F(SnsEventPublisherTest, PublishesTheDomainsEventsVerbatimInOrderWithAttributes) {
  start({topic("acme")});
  outbox_->emit(EventType::RecordingStarted, "acme", "r1", {});
  outbox_->emit(EventType::RecordingReady, "default", "r2", {});  // another domain: not sent
  outbox_->emit(EventType::RecordingReady, "acme", "r1", {{"duration", 2000}});
  const auto events = stored();
  ASSERT_EQ(events.size(), 3u);
  ASSERT_TRUE(eventually([&] { return server_.published().size() == 2; }));
  const auto published = server_.published();
  EXPECT_EQ(published[0].topic_arn, kTopic);
  EXPECT_EQ(published[0].message, events[0].body);
  EXPECT_EQ(published[1].message, events[2].body);
  EXPECT_EQ(published[0].attributes.at("event"), "RECORDINGSTARTED");
  EXPECT_EQ(published[1].attributes.at("event"), "RECORDINGREADY");
  EXPECT_EQ(published[1].attributes.at("eventId"), events[2].event_id);
  EXPECT_EQ(published[1].attributes.at("recordingId"), "r1");
  EXPECT_EQ(published[1].attributes.at("domain"), "acme");
  ASSERT_TRUE(eventually([&] {
    repository_->flush();
    return repository_->publisherCursor(SnsEventPublisher::cursorName("acme")).value() ==
           events[2].sequence;
  }));
  EXPECT_EQ(publisher_->stats().published, 2u);
}

TEST_F(SnsEventPublisherTest, RetriesWithBackOffAndKeepsTheOrder) {
  std::atomic<int> refusals{3};
  server_.intercept(
      [&](const AwsQueryTestServer::Request&) -> std::optional<AwsQueryTestServer::Reply> {
        if (refusals.fetch_sub(1) > 0) {
          return AwsQueryTestServer::Reply{503, "text/xml",
                                           "<ErrorResponse><Error><Code>ServiceUnavailable</Code>"
                                           "</Error></ErrorResponse>"};
        }
        return std::nullopt;
      });
  start({topic("default")});
  outbox_->emit(EventType::RecordingStarted, "default", "r1", {});
  outbox_->emit(EventType::RecordingReady, "default", "r1", {});
  ASSERT_TRUE(eventually([&] { return server_.published().size() == 2; }));
  EXPECT_EQ(server_.published()[0].attributes.at("event"), "RECORDINGSTARTED");
  EXPECT_EQ(server_.published()[1].attributes.at("event"), "RECORDINGREADY");
  EXPECT_EQ(publisher_->stats().failures, 3u);
}

TEST_F(SnsEventPublisherTest, AnEventSnsRefusesForGoodIsPassedOver) {
  server_.intercept(
      [&](const AwsQueryTestServer::Request& request) -> std::optional<AwsQueryTestServer::Reply> {
        if (request.form.at("MessageAttributes.entry.1.Value.StringValue") == "RECORDINGSTARTED") {
          return AwsQueryTestServer::Reply{
              400, "text/xml",
              "<ErrorResponse><Error><Code>InvalidParameter</Code>"
              "<Message>Message too long</Message></Error></ErrorResponse>"};
        }
        return std::nullopt;
      });
  start({topic("default")});
  outbox_->emit(EventType::RecordingStarted, "default", "r1", {});
  outbox_->emit(EventType::RecordingReady, "default", "r1", {});
  ASSERT_TRUE(eventually([&] { return server_.published().size() == 1; }));
  EXPECT_EQ(server_.published()[0].attributes.at("event"), "RECORDINGREADY");
  EXPECT_EQ(publisher_->stats().unpublishable, 1u);
}

TEST_F(SnsEventPublisherTest, AFailingDomainDoesNotHoldBackAnother) {
  start({topic("default", "wrong-secret"), topic("acme")});
  outbox_->emit(EventType::RecordingStarted, "default", "r1", {});
  outbox_->emit(EventType::RecordingStarted, "acme", "r2", {});
  ASSERT_TRUE(eventually([&] { return server_.published().size() == 1; }));
  EXPECT_EQ(server_.published()[0].attributes.at("domain"), "acme");
  EXPECT_TRUE(eventually([&] { return publisher_->stats().failures >= 2; }));
  EXPECT_EQ(server_.published().size(), 1u);
}

TEST_F(SnsEventPublisherTest, CarriesOnAfterItsSavedCursorAfterARestart) {
  start({topic("default")});
  outbox_->emit(EventType::RecordingStarted, "default", "r1", {});
  auto events = stored();
  ASSERT_TRUE(eventually([&] {
    repository_->flush();
    return repository_->publisherCursor(SnsEventPublisher::cursorName("default")).value() ==
           events.back().sequence;
  }));
  publisher_.reset();
  start({topic("default")});
  outbox_->emit(EventType::RecordingDeleted, "default", "r1", {});
  ASSERT_TRUE(eventually([&] { return server_.published().size() == 2; }));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(server_.published().size(), 2u);
  EXPECT_EQ(server_.published()[1].attributes.at("event"), "RECORDINGDELETED");
}

TEST_F(SnsEventPublisherTest, StopsPromptlyWhileAPublishHangs) {
  server_.intercept([](const AwsQueryTestServer::Request&) {
    std::this_thread::sleep_for(3s);
    return std::optional<AwsQueryTestServer::Reply>();
  });
  start({topic("default")});
  outbox_->emit(EventType::RecordingStarted, "default", "r1", {});
  ASSERT_TRUE(eventually([&] { return !server_.requests().empty(); }));
  const auto started = std::chrono::steady_clock::now();
  publisher_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2500ms);
}

}  // namespace
}  // namespace siprecd::control
