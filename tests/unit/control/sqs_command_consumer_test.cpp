#include "control/sqs_command_consumer.hpp"

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "control/aws_query_test_server.hpp"
#include "control/command_service.hpp"
#include "control/eventually.hpp"

namespace siprecd::control {
namespace {

using namespace std::chrono_literals;
using test_support::AwsQueryTestServer;
using test_support::eventually;

/// Answers by recordingId: "busy" → 503, "gone" → 404, "throw" throws; a method other than
/// the known ones → 400; else 200.
class FakeHandler : public CommandHandler {
 public:
  CommandReply handle(const CommandRequest& request) override {
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(request);
    }
    const std::string id = request.body.value("recordingId", "");
    if (id == "throw") {
      throw std::runtime_error("boom");
    }
    if (request.method != "STORERECORDING" && request.method != "DELETERECORDING") {
      return commandError(400, "method: unknown command");
    }
    if (id == "busy") {
      return commandError(503, "busy");
    }
    if (id == "gone") {
      return commandError(404, "unknown recording");
    }
    return CommandReply{200, {{"success", true}}};
  }
  std::vector<CommandRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<CommandRequest> requests_;
};

SqsQueue queueOf(const AwsQueryTestServer& server, const std::string& dlq = "") {
  SqsQueue queue;
  queue.domain = "acme";
  queue.queue_url = server.queueUrl("commands");
  queue.dead_letter_queue_url = dlq;
  queue.visibility_timeout_s = 1;
  queue.max_receives = 3;
  queue.service.service = "sqs";
  queue.service.region = "us-east-1";
  queue.service.endpoint = parseAwsEndpoint(server.endpoint()).value();
  queue.service.credentials = {AwsQueryTestServer::kKeyId, AwsQueryTestServer::kSecret, ""};
  return queue;
}

SqsCommandConsumerSettings fastSettings() {
  SqsCommandConsumerSettings settings;
  settings.wait_seconds = 1;
  settings.initial_backoff = 20ms;
  settings.max_backoff = 100ms;
  return settings;
}

TEST(SqsDecide, AcceptedCommandIsDeleted) {
  AwsQueryTestServer server;
  FakeHandler handler;
  const auto decision = SqsCommandConsumer::decide(
      handler, queueOf(server), R"({"method":"STORERECORDING","recordingId":"r1"})", "k", 1);
  EXPECT_EQ(decision.disposition, SqsDisposition::Delete);
  EXPECT_EQ(decision.reason, SqsReason::Accepted);
  ASSERT_EQ(handler.requests().size(), 1u);
  EXPECT_EQ(handler.requests()[0].domain, "acme");
  EXPECT_EQ(handler.requests()[0].method, "STORERECORDING");
  EXPECT_EQ(handler.requests()[0].idempotency_key, "k");
}

TEST(SqsDecide, MalformedMessagesAreMovedAsideWithoutReachingTheHandlerWhenNotJson) {
  AwsQueryTestServer server;
  FakeHandler handler;
  for (const char* body : {"not json", "[1,2]", "\"text\"", ""}) {
    const auto decision = SqsCommandConsumer::decide(handler, queueOf(server), body, "", 1);
    EXPECT_EQ(decision.disposition, SqsDisposition::MoveAside) << body;
    EXPECT_EQ(decision.reason, SqsReason::Malformed) << body;
  }
  EXPECT_TRUE(handler.requests().empty());
}

TEST(SqsDecide, AnotherDomainIsMalformed) {
  AwsQueryTestServer server;
  FakeHandler handler;
  const auto decision = SqsCommandConsumer::decide(
      handler, queueOf(server),
      R"({"method":"DELETERECORDING","recordingId":"r1","domain":"other"})", "", 1);
  EXPECT_EQ(decision.disposition, SqsDisposition::MoveAside);
  EXPECT_EQ(decision.reason, SqsReason::Malformed);
  EXPECT_NE(decision.message.find("acme"), std::string::npos);
  EXPECT_TRUE(handler.requests().empty());
  EXPECT_EQ(SqsCommandConsumer::decide(handler, queueOf(server),
                                       R"({"method":"DELETERECORDING","recordingId":"r1",
                                           "domain":"acme"})",
                                       "", 1)
                .disposition,
            SqsDisposition::Delete);
}

TEST(SqsDecide, UnknownCommandIsMalformedAndOther4xxRefused) {
  AwsQueryTestServer server;
  FakeHandler handler;
  auto decision = SqsCommandConsumer::decide(
      handler, queueOf(server), R"({"method":"FROBNICATE","recordingId":"r1"})", "", 1);
  EXPECT_EQ(decision.disposition, SqsDisposition::MoveAside);
  EXPECT_EQ(decision.reason, SqsReason::Malformed);
  EXPECT_EQ(decision.status, 400);
  decision = SqsCommandConsumer::decide(
      handler, queueOf(server), R"({"method":"STORERECORDING","recordingId":"gone"})", "", 1);
  EXPECT_EQ(decision.disposition, SqsDisposition::MoveAside);
  EXPECT_EQ(decision.reason, SqsReason::Refused);
  EXPECT_EQ(decision.message, "unknown recording");
}

TEST(SqsDecide, TransientFailuresAreLeftUntilMaxReceives) {
  AwsQueryTestServer server;
  FakeHandler handler;
  const std::string busy = R"({"method":"STORERECORDING","recordingId":"busy"})";
  EXPECT_EQ(SqsCommandConsumer::decide(handler, queueOf(server), busy, "", 1).disposition,
            SqsDisposition::Leave);
  EXPECT_EQ(SqsCommandConsumer::decide(handler, queueOf(server), busy, "", 2).disposition,
            SqsDisposition::Leave);
  const auto last = SqsCommandConsumer::decide(handler, queueOf(server), busy, "", 3);
  EXPECT_EQ(last.disposition, SqsDisposition::MoveAside);
  EXPECT_EQ(last.reason, SqsReason::GivenUp);
  const auto thrown = SqsCommandConsumer::decide(
      handler, queueOf(server), R"({"method":"STORERECORDING","recordingId":"throw"})", "", 1);
  EXPECT_EQ(thrown.disposition, SqsDisposition::Leave);
  EXPECT_EQ(thrown.status, 500);
}

TEST(SqsCommandConsumer, DeletesAcceptedCommandsAndPassesTheIdempotencyKey) {
  AwsQueryTestServer server;
  FakeHandler handler;
  const SqsQueue queue = queueOf(server);
  server.send(queue.queue_url, R"({"method":"STORERECORDING","recordingId":"r1"})",
              {{"Idempotency-Key", "key-1"}});
  server.send(queue.queue_url, R"({"method":"DELETERECORDING","recordingId":"r1"})");
  SqsCommandConsumer consumer(handler, {queue}, fastSettings());
  consumer.start();
  ASSERT_TRUE(eventually([&] { return consumer.stats().accepted == 2; }));
  ASSERT_TRUE(eventually([&] { return server.depth(queue.queue_url) == 0; }));
  const auto requests = handler.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].idempotency_key, "key-1");
  EXPECT_EQ(requests[1].idempotency_key, "m2");  // the SQS MessageId
  const auto sent = server.requests();
  const auto receive = std::find_if(sent.begin(), sent.end(),
                                    [](const auto& r) { return r.action == "ReceiveMessage"; });
  ASSERT_NE(receive, sent.end());
  EXPECT_EQ(receive->service, "sqs");
  EXPECT_EQ(receive->json["VisibilityTimeout"], 1);
  EXPECT_EQ(receive->json["MaxNumberOfMessages"], 10);
  EXPECT_EQ(receive->headers.at("content-type"), kAmzJsonContentType);
}

TEST(SqsCommandConsumer, MovesMalformedToTheDeadLetterQueueAndCarriesOn) {
  AwsQueryTestServer server;
  FakeHandler handler;
  const SqsQueue queue = queueOf(server, server.queueUrl("dead"));
  server.send(queue.queue_url, "{broken");
  server.send(queue.queue_url, R"({"method":"STORERECORDING","recordingId":"r1"})");
  SqsCommandConsumer consumer(handler, {queue}, fastSettings());
  consumer.start();
  ASSERT_TRUE(eventually([&] { return consumer.stats().accepted == 1; }));
  ASSERT_TRUE(eventually([&] { return server.depth(queue.queue_url) == 0; }));
  const auto dead = server.visible(queue.dead_letter_queue_url);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].body, "{broken");
  EXPECT_EQ(dead[0].attributes.at("siprecd-reason"), "malformed");
  EXPECT_EQ(dead[0].attributes.at("siprecd-status"), "400");
  EXPECT_EQ(dead[0].attributes.at("siprecd-source-queue"), queue.queue_url);
  EXPECT_EQ(consumer.stats().malformed, 1u);
  EXPECT_EQ(consumer.stats().moved_to_dead_letter_queue, 1u);
}

TEST(SqsCommandConsumer, WithoutADeadLetterQueueMalformedMessagesAreDeleted) {
  AwsQueryTestServer server;
  FakeHandler handler;
  const SqsQueue queue = queueOf(server);
  server.send(queue.queue_url, R"({"method":"NOPE","recordingId":"r1"})");
  SqsCommandConsumer consumer(handler, {queue}, fastSettings());
  consumer.start();
  ASSERT_TRUE(eventually([&] { return consumer.stats().malformed == 1; }));
  ASSERT_TRUE(eventually([&] { return server.depth(queue.queue_url) == 0; }));
  EXPECT_EQ(server.deletes(), 1u);
}

TEST(SqsCommandConsumer, TransientFailureComesBackAfterTheVisibilityTimeoutThenIsGivenUp) {
  AwsQueryTestServer server;
  FakeHandler handler;
  const SqsQueue queue = queueOf(server, server.queueUrl("dead"));
  server.send(queue.queue_url, R"({"method":"STORERECORDING","recordingId":"busy"})");
  SqsCommandConsumer consumer(handler, {queue}, fastSettings());
  consumer.start();
  ASSERT_TRUE(eventually([&] { return consumer.stats().retried == 1; }));
  EXPECT_EQ(server.deletes(), 0u);
  EXPECT_EQ(server.depth(queue.queue_url), 1u);  // in flight, not deleted
  ASSERT_TRUE(eventually([&] { return consumer.stats().given_up == 1; }, 15s));
  EXPECT_EQ(consumer.stats().retried, 2u);
  EXPECT_EQ(handler.requests().size(), 3u);
  // given_up is counted before the message is moved: wait for the move.
  ASSERT_TRUE(eventually([&] { return server.visible(queue.dead_letter_queue_url).size() == 1; }));
  EXPECT_EQ(server.visible(queue.dead_letter_queue_url)[0].attributes.at("siprecd-reason"),
            "given-up");
}

TEST(SqsCommandConsumer, ReceiveFailuresAreCountedAndRetried) {
  AwsQueryTestServer server;
  FakeHandler handler;
  SqsQueue queue = queueOf(server);
  queue.service.credentials.secret_access_key = "wrong";
  SqsCommandConsumer consumer(handler, {queue}, fastSettings());
  consumer.start();
  ASSERT_TRUE(eventually([&] { return consumer.stats().receive_failures >= 2; }));
  EXPECT_TRUE(handler.requests().empty());
}

TEST(SqsCommandConsumer, StopEndsALongPollPromptly) {
  AwsQueryTestServer server;
  server.intercept([](const AwsQueryTestServer::Request&) {
    std::this_thread::sleep_for(3s);
    return std::optional<AwsQueryTestServer::Reply>();
  });
  FakeHandler handler;
  SqsCommandConsumer consumer(handler, {queueOf(server)}, fastSettings());
  consumer.start();
  ASSERT_TRUE(eventually([&] { return !server.requests().empty(); }));
  const auto started = std::chrono::steady_clock::now();
  consumer.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2500ms);
}

}  // namespace
}  // namespace siprecd::control
