#include "control/aws_query_client.hpp"

#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "control/aws_query_test_server.hpp"

namespace siprecd::control {
namespace {

using test_support::AwsQueryTestServer;

AwsServiceSettings settingsFor(const AwsQueryTestServer& server, std::string service,
                               std::string secret = AwsQueryTestServer::kSecret) {
  AwsServiceSettings settings;
  settings.service = std::move(service);
  settings.region = "eu-west-1";
  settings.endpoint = parseAwsEndpoint(server.endpoint()).value();
  settings.credentials = {AwsQueryTestServer::kKeyId, std::move(secret), ""};
  return settings;
}

AwsCall publishCall() {
  AwsCall call;
  call.operation = "Publish";
  call.content_type = std::string(kFormContentType);
  call.body = formEncode(snsPublishParams("arn:aws:sns:eu-west-1:1:t", "{\"a\":1}", {}));
  return call;
}

TEST(AwsQueryClient, SignsForTheServiceAndRegionAndTheServerAcceptsIt) {
  AwsQueryTestServer server;
  const AwsQueryClient client(settingsFor(server, "sns"));
  const AwsOutcome outcome = client.send(publishCall());
  ASSERT_TRUE(outcome.ok) << outcome.description;
  EXPECT_EQ(outcome.status, 200);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].service, "sns");
  EXPECT_EQ(requests[0].region, "eu-west-1");
  EXPECT_EQ(requests[0].action, "Publish");
  EXPECT_EQ(requests[0].form.at("Version"), "2010-03-31");
  EXPECT_EQ(requests[0].headers.at("content-type"), kFormContentType);
  EXPECT_NE(requests[0]
                .headers.at("authorization")
                .find("SignedHeaders=content-type;host;"
                      "x-amz-content-sha256;x-amz-date,"),
            std::string::npos);
  EXPECT_EQ(server.published().at(0).message, "{\"a\":1}");
}

TEST(AwsQueryClient, SendsJsonProtocolWithTarget) {
  AwsQueryTestServer server;
  server.send(server.queueUrl("c"), "hello");
  const AwsQueryClient client(settingsFor(server, "sqs"));
  AwsCall call;
  call.operation = "ReceiveMessage";
  call.content_type = std::string(kAmzJsonContentType);
  call.target = "AmazonSQS.ReceiveMessage";
  call.body = sqsReceiveMessageBody(server.queueUrl("c"), 10, 0, 30);
  const AwsOutcome outcome = client.send(call);
  ASSERT_TRUE(outcome.ok) << outcome.description;
  const auto messages = parseSqsReceiveResponse(outcome.body).value();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].body, "hello");
  EXPECT_NE(server.requests().at(0).headers.at("authorization").find("x-amz-target"),
            std::string::npos);
}

TEST(AwsQueryClient, TemporaryCredentialsSendASignedSecurityToken) {
  AwsQueryTestServer server;
  auto settings = settingsFor(server, "sns");
  settings.credentials.session_token = "session/token";
  const AwsOutcome outcome = AwsQueryClient(settings).send(publishCall());
  ASSERT_TRUE(outcome.ok) << outcome.description;
  const auto headers = server.requests().at(0).headers;
  EXPECT_EQ(headers.at("x-amz-security-token"), "session/token");
  EXPECT_NE(headers.at("authorization").find("x-amz-security-token"), std::string::npos);
}

TEST(AwsQueryClient, AWrongSecretIsReportedWithTheAwsCodeAndNoSecret) {
  AwsQueryTestServer server;
  const AwsQueryClient client(settingsFor(server, "sns", "wrong-secret-value"));
  const AwsOutcome outcome = client.send(publishCall());
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.status, 403);
  EXPECT_EQ(outcome.error.code, "SignatureDoesNotMatch");
  EXPECT_FALSE(outcome.error.retryable);
  EXPECT_NE(outcome.description.find("Publish http://127.0.0.1:"), std::string::npos);
  EXPECT_NE(outcome.description.find("SignatureDoesNotMatch (HTTP 403)"), std::string::npos);
  EXPECT_EQ(outcome.description.find("wrong-secret-value"), std::string::npos);
}

TEST(AwsQueryClient, NoServerIsARetryableTransportError) {
  AwsServiceSettings settings;
  settings.service = "sns";
  settings.region = "eu-west-1";
  settings.endpoint = parseAwsEndpoint("http://127.0.0.1:9/").value();
  settings.credentials = {"AK", "SECRET", ""};
  const AwsOutcome outcome = AwsQueryClient(settings).send(publishCall());
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.status, 0);
  EXPECT_TRUE(outcome.error.retryable);
  EXPECT_FALSE(outcome.description.empty());
}

TEST(AwsQueryClient, StopAbandonsAHangingRequestWithinAboutASecond) {
  AwsQueryTestServer server;
  server.intercept([](const AwsQueryTestServer::Request&) {
    std::this_thread::sleep_for(std::chrono::seconds(3));
    return std::optional<AwsQueryTestServer::Reply>();
  });
  const AwsQueryClient client(settingsFor(server, "sns"));
  std::atomic<bool> stop{false};
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    stop = true;
  });
  const auto started = std::chrono::steady_clock::now();
  const AwsOutcome outcome = client.send(publishCall(), &stop);
  const auto took = std::chrono::steady_clock::now() - started;
  stopper.join();
  EXPECT_TRUE(outcome.stopped);
  EXPECT_LT(took, std::chrono::milliseconds(2500));
}

}  // namespace
}  // namespace siprecd::control
