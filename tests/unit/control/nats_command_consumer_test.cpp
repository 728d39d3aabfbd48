#include "control/nats_command_consumer.hpp"

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "control/command_handler.hpp"
#include "control/nats_test_server.hpp"

namespace siprecd::control {
namespace {

using namespace std::chrono_literals;
using test_support::connectTo;
using test_support::eventually;
using test_support::NatsReceived;
using test_support::NatsTestServer;
using test_support::nextMessage;
using test_support::streamMessages;

/// Keeps every request and answers with the queued statuses (then 200).
class RecordingHandler final : public CommandHandler {
 public:
  CommandReply handle(const CommandRequest& request) override {
    std::function<void()> hook;
    {
      std::lock_guard lock(mutex_);
      hook = hook_;
    }
    if (hook) {
      hook();
    }
    std::lock_guard lock(mutex_);
    requests_.push_back(request);
    int status = 200;
    if (!statuses_.empty()) {
      status = statuses_.front();
      statuses_.pop_front();
    } else if (always_) {
      status = *always_;
    }
    if (status >= 200 && status < 300) {
      return CommandReply{status, {{"success", true}, {"method", request.method}}};
    }
    return CommandReply{status,
                        {{"success", false}, {"error", {{"code", status}, {"message", "no"}}}}};
  }
  void answer(std::vector<int> statuses) {
    std::lock_guard lock(mutex_);
    statuses_.assign(statuses.begin(), statuses.end());
  }
  /// Runs (outside the lock) at the start of every handle().
  void onHandle(std::function<void()> hook) {
    std::lock_guard lock(mutex_);
    hook_ = std::move(hook);
  }
  void answerAlways(int status) {
    std::lock_guard lock(mutex_);
    always_ = status;
  }
  std::vector<CommandRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  std::size_t count() const { return requests().size(); }

 private:
  mutable std::mutex mutex_;
  std::vector<CommandRequest> requests_;
  std::deque<int> statuses_;
  std::optional<int> always_;
  std::function<void()> hook_;
};

class NatsCommandConsumerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!NatsTestServer::installed()) {
      GTEST_SKIP() << NatsTestServer::kBinary << " not installed";
    }
    ASSERT_TRUE(server_.start());
    connection_ = connectTo(server_.url());
    ASSERT_TRUE(connection_);
    client_ = connectTo(server_.url());
    ASSERT_TRUE(client_);
    settings_.fetch_timeout = 100ms;
    settings_.resubscribe_pause = 50ms;
    settings_.consumer_check_interval = 200ms;
    settings_.initial_retry_delay = 50ms;
    settings_.max_retry_delay = 200ms;
  }
  void TearDown() override {
    if (consumer_) {
      consumer_->stop();
    }
  }

  void startConsumer(std::vector<std::string> domains = {"default"}) {
    consumer_ = std::make_unique<NatsCommandConsumer>(*connection_, handler_, std::move(domains),
                                                      settings_);
    consumer_->start();
    ASSERT_TRUE(
        eventually([&] { return streamMessages(*client_, "SIPRECD_COMMANDS").has_value(); }));
  }
  /// Publishes to JetStream (waits for the stream's acknowledgement; a stream just created
  /// may not listen on its subjects yet: no responders is retried).
  void publish(const std::string& subject, const std::string& body,
               const std::map<std::string, std::string>& headers = {}) {
    natsMsg* raw = nullptr;
    ASSERT_EQ(
        natsMsg_Create(&raw, subject.c_str(), nullptr, body.data(), static_cast<int>(body.size())),
        NATS_OK);
    NatsPtr<natsMsg> message(raw);
    for (const auto& [key, value] : headers) {
      ASSERT_EQ(natsMsgHeader_Set(message.get(), key.c_str(), value.c_str()), NATS_OK);
    }
    natsStatus status = NATS_OK;
    jsErrCode error = static_cast<jsErrCode>(0);
    eventually([&] {
      jsPubAck* ack = nullptr;
      status = js_PublishMsg(&ack, client_->jetStream(), message.get(), nullptr, &error);
      NatsPtr<jsPubAck> owned(ack);
      return status != NATS_NO_RESPONDERS;
    });
    ASSERT_EQ(status, NATS_OK) << natsErrorText(status, error);
  }
  NatsPtr<natsSubscription> subscribe(const std::string& subject) {
    natsSubscription* raw = nullptr;
    EXPECT_EQ(natsConnection_SubscribeSync(&raw, client_->connection(), subject.c_str()), NATS_OK);
    EXPECT_EQ(natsConnection_Flush(client_->connection()), NATS_OK);
    return NatsPtr<natsSubscription>(raw);
  }
  bool commandsDrained() {
    return eventually([&] { return streamMessages(*client_, "SIPRECD_COMMANDS") == 0u; });
  }

  NatsTestServer server_;
  std::unique_ptr<NatsConnection> connection_;
  std::unique_ptr<NatsConnection> client_;
  RecordingHandler handler_;
  NatsCommandConsumerSettings settings_;
  std::unique_ptr<NatsCommandConsumer> consumer_;
};

const nlohmann::json kStore = {{"method", "STORERECORDING"},
                               {"recordingId", "r1"},
                               {"replyId", "token"},
                               {"destination", "archive"}};

TEST(NatsCommandRetryDelay, DoublesPerDeliveryUpToTheMaximum) {
  NatsCommandConsumerSettings settings;
  settings.initial_retry_delay = 1000ms;
  settings.max_retry_delay = 5000ms;
  EXPECT_EQ(NatsCommandConsumer::retryDelay(settings, 1), 1000ms);
  EXPECT_EQ(NatsCommandConsumer::retryDelay(settings, 2), 2000ms);
  EXPECT_EQ(NatsCommandConsumer::retryDelay(settings, 3), 4000ms);
  EXPECT_EQ(NatsCommandConsumer::retryDelay(settings, 4), 5000ms);
  EXPECT_EQ(NatsCommandConsumer::retryDelay(settings, 1000), 5000ms);
}

TEST_F(NatsCommandConsumerTest, HandsTheEnvelopeToTheHandlerAcknowledgesAndReplies) {
  startConsumer();
  auto replies = subscribe("siprecd.default.replies");
  publish("siprecd.default.commands", kStore.dump(), {{"Idempotency-Key", "key-1"}});
  publish("siprecd.default.commands", R"({"method":"DELETERECORDING","recordingId":"r1"})",
          {{"Nats-Msg-Id", "msg-2"}});
  ASSERT_TRUE(eventually([&] { return handler_.count() == 2; }));
  const auto requests = handler_.requests();
  EXPECT_EQ(requests[0].domain, "default");
  EXPECT_EQ(requests[0].method, "STORERECORDING");
  EXPECT_EQ(requests[0].body, kStore);
  EXPECT_EQ(requests[0].idempotency_key, "key-1");
  EXPECT_EQ(requests[1].method, "DELETERECORDING");
  EXPECT_EQ(requests[1].idempotency_key, "msg-2");  // Nats-Msg-Id when no Idempotency-Key
  EXPECT_TRUE(commandsDrained());

  const auto first = nextMessage(replies.get());
  ASSERT_TRUE(first);
  EXPECT_EQ(first->header("Siprecd-Status"), "200");
  EXPECT_EQ(first->header("Idempotency-Key"), "key-1");
  EXPECT_EQ(first->header("Siprecd-Command-Sequence"), "1");
  EXPECT_EQ(nlohmann::json::parse(first->data),
            (nlohmann::json{{"success", true}, {"method", "STORERECORDING"}}));
  const auto second = nextMessage(replies.get());
  ASSERT_TRUE(second);
  EXPECT_EQ(second->header("Nats-Msg-Id"), "msg-2");
  EXPECT_EQ(consumer_->stats().received, 2u);
  EXPECT_EQ(consumer_->stats().accepted, 2u);
}

TEST_F(NatsCommandConsumerTest, RefusedCommandIsAcknowledgedCountedAndReplied) {
  handler_.answer({404});
  startConsumer();
  auto replies = subscribe("siprecd.default.replies");
  publish("siprecd.default.commands", kStore.dump());
  ASSERT_TRUE(commandsDrained());
  EXPECT_EQ(handler_.count(), 1u);
  EXPECT_EQ(consumer_->stats().rejected, 1u);
  const auto reply = nextMessage(replies.get());
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->header("Siprecd-Status"), "404");
  EXPECT_EQ(nlohmann::json::parse(reply->data)["error"]["code"], 404);
}

TEST_F(NatsCommandConsumerTest, MalformedMessagesAreAcknowledgedCountedAndNeverHandled) {
  startConsumer();
  auto replies = subscribe("siprecd.default.replies");
  publish("siprecd.default.commands", "not json {");
  publish("siprecd.default.commands", "[1, 2]");
  publish("siprecd.default.commands", "");
  ASSERT_TRUE(eventually([&] { return consumer_->stats().malformed == 3; }));
  EXPECT_TRUE(commandsDrained());
  EXPECT_EQ(handler_.count(), 0u);
  const auto reply = nextMessage(replies.get());
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->header("Siprecd-Status"), "400");
  EXPECT_EQ(nlohmann::json::parse(reply->data)["success"], false);
}

TEST_F(NatsCommandConsumerTest, UnavailableIsDeliveredAgainAfterADelayThenAccepted) {
  handler_.answer({503, 503});
  startConsumer();
  auto replies = subscribe("siprecd.default.replies");
  publish("siprecd.default.commands", kStore.dump(), {{"Idempotency-Key", "k"}});
  ASSERT_TRUE(eventually([&] { return consumer_->stats().accepted == 1; }));
  EXPECT_TRUE(commandsDrained());
  const auto requests = handler_.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[2].idempotency_key, "k");
  EXPECT_EQ(requests[2].body, kStore);
  EXPECT_EQ(consumer_->stats().retried, 2u);
  const auto reply = nextMessage(replies.get());  // only the final answer is published
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->header("Siprecd-Status"), "200");
}

TEST_F(NatsCommandConsumerTest, GivesUpAfterTheMaximumNumberOfDeliveries) {
  handler_.answerAlways(503);
  settings_.max_deliveries = 3;
  startConsumer();
  publish("siprecd.default.commands", kStore.dump());
  ASSERT_TRUE(eventually([&] { return consumer_->stats().failed == 1; }));
  EXPECT_TRUE(commandsDrained());
  EXPECT_EQ(handler_.count(), 3u);
  EXPECT_EQ(consumer_->stats().retried, 2u);
}

TEST_F(NatsCommandConsumerTest, EachDomainHasItsSubjectAndADottedNameUsesItsToken) {
  startConsumer({"default", "rec.example.com"});
  publish("siprecd.rec_example_com.commands", kStore.dump());
  publish("siprecd.default.commands", kStore.dump());
  ASSERT_TRUE(eventually([&] { return handler_.count() == 2; }));
  std::vector<std::string> domains;
  for (const auto& request : handler_.requests()) {
    domains.push_back(request.domain);
  }
  std::sort(domains.begin(), domains.end());
  EXPECT_EQ(domains, (std::vector<std::string>{"default", "rec.example.com"}));

  // Commands of a domain nobody consumes stay in the stream.
  publish("siprecd.unknown.commands", kStore.dump());
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(handler_.count(), 2u);
  EXPECT_EQ(streamMessages(*client_, "SIPRECD_COMMANDS"), 1u);
}

TEST_F(NatsCommandConsumerTest, CarriesOnAfterTheServerRestarts) {
  startConsumer();
  publish("siprecd.default.commands", kStore.dump());
  ASSERT_TRUE(eventually([&] { return handler_.count() == 1; }));
  ASSERT_TRUE(commandsDrained());  // acknowledged before the restart (else: after ack_wait)
  ASSERT_TRUE(server_.restart());
  ASSERT_TRUE(eventually([&] { return client_->connected() && connection_->connected(); }));
  publish("siprecd.default.commands", kStore.dump());
  EXPECT_TRUE(eventually([&] { return handler_.count() == 2; }));
  EXPECT_TRUE(commandsDrained());
}

TEST_F(NatsCommandConsumerTest, CommandsPublishedBeforeTheConsumerStartsAreTaken) {
  ASSERT_TRUE(client_->ensureStream(settings_.stream));
  publish("siprecd.default.commands", kStore.dump());
  startConsumer();
  EXPECT_TRUE(eventually([&] { return handler_.count() == 1; }));
  EXPECT_TRUE(commandsDrained());
}

TEST_F(NatsCommandConsumerTest, SubscribesAgainWhenItsStreamIsDeleted) {
  startConsumer();
  publish("siprecd.default.commands", kStore.dump());
  ASSERT_TRUE(eventually([&] { return handler_.count() == 1; }));
  jsErrCode error = static_cast<jsErrCode>(0);
  ASSERT_EQ(js_DeleteStream(client_->jetStream(), "SIPRECD_COMMANDS", nullptr, &error), NATS_OK);
  ASSERT_TRUE(eventually([&] { return streamMessages(*client_, "SIPRECD_COMMANDS").has_value(); }));
  publish("siprecd.default.commands", kStore.dump());
  EXPECT_TRUE(eventually([&] { return handler_.count() == 2; }));
  EXPECT_TRUE(commandsDrained());
}

TEST_F(NatsCommandConsumerTest, UsesAConsumerTheOperatorCreatedWithOtherSettings) {
  ASSERT_TRUE(client_->ensureStream(settings_.stream));
  jsConsumerConfig config;
  jsConsumerConfig_Init(&config);
  config.Durable = "siprecd-default";
  config.FilterSubject = "siprecd.default.commands";
  config.AckPolicy = js_AckExplicit;
  config.AckWait = int64_t{7} * 1'000'000'000;
  config.MaxDeliver = 20;
  jsConsumerInfo* raw = nullptr;
  jsErrCode error = static_cast<jsErrCode>(0);
  ASSERT_EQ(
      js_AddConsumer(&raw, client_->jetStream(), "SIPRECD_COMMANDS", &config, nullptr, &error),
      NATS_OK);
  NatsPtr<jsConsumerInfo> info(raw);
  startConsumer();
  publish("siprecd.default.commands", kStore.dump());
  EXPECT_TRUE(eventually([&] { return handler_.count() == 1; }));
  EXPECT_TRUE(commandsDrained());
  raw = nullptr;
  ASSERT_EQ(js_GetConsumerInfo(&raw, client_->jetStream(), "SIPRECD_COMMANDS", "siprecd-default",
                               nullptr, &error),
            NATS_OK);
  info.reset(raw);
  EXPECT_EQ(info->Config->MaxDeliver, 20);  // left as the operator set it
}

TEST_F(NatsCommandConsumerTest, StopHandsFetchedCommandsBackAtOnce) {
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> first{true};
  handler_.onHandle([&] {
    if (first.exchange(false)) {
      entered.set_value();
      released.wait();
    }
  });
  ASSERT_TRUE(client_->ensureStream(settings_.stream));
  publish("siprecd.default.commands", kStore.dump());
  publish("siprecd.default.commands", kStore.dump());
  startConsumer();  // one fetch takes both; the first blocks in the handler
  ASSERT_EQ(entered.get_future().wait_for(10s), std::future_status::ready);
  consumer_->requestStop();
  release.set_value();
  consumer_->stop();
  EXPECT_EQ(handler_.count(), 1u);

  // The second command was handed back (nak): a new consumer gets it now, not after
  // ack_wait (60 s).
  consumer_ = std::make_unique<NatsCommandConsumer>(*connection_, handler_,
                                                    std::vector<std::string>{"default"}, settings_);
  consumer_->start();
  EXPECT_TRUE(eventually([&] { return handler_.count() == 2; }, 5s));
  EXPECT_TRUE(commandsDrained());
}

}  // namespace
}  // namespace siprecd::control
