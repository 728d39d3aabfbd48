#include "control/webhook_client.hpp"

#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include <gtest/gtest.h>

#include "control/webhook_test_support.hpp"

namespace siprecd::control {
namespace {

using namespace std::chrono_literals;
using test_support::Gate;
using test_support::WebhookReceiver;

/// Posts and waits (real time) for the completion.
Result<WebhookResponse> postAndWait(WebhookClient& client, WebhookRequest request) {
  std::promise<Result<WebhookResponse>> promise;
  auto future = promise.get_future();
  client.post(std::move(request),
              [&promise](Result<WebhookResponse> result) { promise.set_value(std::move(result)); });
  EXPECT_EQ(future.wait_for(10s), std::future_status::ready);
  return future.get();
}

/// A port on 127.0.0.1 where nothing listens (a receiver that has been stopped).
std::string deadUrl() {
  WebhookReceiver receiver;
  return receiver.url();
}

TEST(WebhookClient, PostsJsonBodyAndHeadersAndReturnsStatusAndBody) {
  WebhookReceiver receiver;
  receiver.respondWith([](const app::HttpRequest&) {
    app::HttpResponse response;
    response.status = 202;
    response.body = R"({"ok":true})";
    return response;
  });
  WebhookClient client;
  WebhookRequest request;
  request.url = receiver.url("/hooks/recordingReady");
  request.body = R"({"method":"RECORDINGREADY"})";
  request.headers.emplace_back("X-Siprecd-Event", "RECORDINGREADY");
  const auto result = postAndWait(client, request);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->status, 202);
  EXPECT_TRUE(result->isSuccess());
  EXPECT_EQ(result->body, R"({"ok":true})");

  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].path, "/hooks/recordingReady");
  EXPECT_EQ(requests[0].header("content-type"), "application/json");
  EXPECT_EQ(requests[0].header("x-siprecd-event"), "RECORDINGREADY");
  EXPECT_EQ(requests[0].body, R"({"method":"RECORDINGREADY"})");
  EXPECT_EQ(client.inFlight(), 0U);
}

TEST(WebhookClient, ReportsServerErrorsAsResponsesNotTransportErrors) {
  WebhookReceiver receiver;
  receiver.respondWith(
      [](const app::HttpRequest&) { return app::HttpResponse::jsonError(500, "boom"); });
  WebhookClient client;
  const auto result = postAndWait(client, {receiver.url("/x"), "{}", {}, 2s});
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 500);
  EXPECT_FALSE(result->isSuccess());
}

TEST(WebhookClient, RefusedConnectionIsATransportErrorWithoutCredentialsOrQuery) {
  const std::string base = deadUrl();  // http://127.0.0.1:PORT
  const std::string url = "http://user:hunter2@" + base.substr(7) + "/newCall?token=abc";
  WebhookClient client;
  const auto result = postAndWait(client, {url, "{}", {}, 2s});
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("/newCall"), std::string::npos) << result.error().message;
  EXPECT_EQ(result.error().message.find("hunter2"), std::string::npos) << result.error().message;
  EXPECT_EQ(result.error().message.find("token=abc"), std::string::npos);
}

TEST(WebhookClient, RefusesSchemesOtherThanHttp) {
  WebhookClient client;
  EXPECT_FALSE(postAndWait(client, {"file:///etc/passwd", "{}", {}, 1s}));
}

TEST(WebhookClient, HangingEndpointTimesOutWithoutDelayingOthers) {
  Gate gate;
  WebhookReceiver slow;
  slow.respondWith([&gate](const app::HttpRequest&) {
    gate.wait();
    return app::HttpResponse{};
  });
  WebhookReceiver fast;
  WebhookClient client;

  std::promise<Result<WebhookResponse>> hung;
  auto hung_future = hung.get_future();
  client.post({slow.url("/hang"), "{}", {}, 5s},
              [&hung](Result<WebhookResponse> result) { hung.set_value(std::move(result)); });
  const auto quick = postAndWait(client, {fast.url("/quick"), "{}", {}, 5s});
  ASSERT_TRUE(quick);
  EXPECT_EQ(quick->status, 200);
  // The quick answer came while the hanging request was still waiting.
  EXPECT_EQ(hung_future.wait_for(0s), std::future_status::timeout);

  const auto started = std::chrono::steady_clock::now();
  const auto timed_out = postAndWait(client, {slow.url("/hang"), "{}", {}, 300ms});
  ASSERT_FALSE(timed_out);
  EXPECT_NE(timed_out.error().message.find("timed out"), std::string::npos)
      << timed_out.error().message;
  EXPECT_GE(std::chrono::steady_clock::now() - started, 250ms);
  gate.open();
  ASSERT_EQ(hung_future.wait_for(5s), std::future_status::ready);
}

TEST(WebhookClient, CancelledRequestNeverCompletes) {
  Gate gate;
  WebhookReceiver slow;
  slow.respondWith([&gate](const app::HttpRequest&) {
    gate.wait();
    return app::HttpResponse{};
  });
  WebhookClient client;
  auto completed = std::make_shared<std::atomic<bool>>(false);
  const auto id = client.post({slow.url("/hang"), "{}", {}, 5s},
                              [completed](Result<WebhookResponse>) { *completed = true; });
  client.cancel(id);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (client.inFlight() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(client.inFlight(), 0U);
  gate.open();
  // A request behind the cancelled one completes, so the client has moved past it.
  WebhookReceiver fast;
  ASSERT_TRUE(postAndWait(client, {fast.url("/after"), "{}", {}, 5s}));
  EXPECT_FALSE(*completed);
}

TEST(WebhookClient, KeepsOnlyTheFirst64KiBOfAResponse) {
  WebhookReceiver receiver;
  receiver.respondWith([](const app::HttpRequest&) {
    app::HttpResponse response;
    response.body.assign(200 * 1024, 'x');
    return response;
  });
  WebhookClient client;
  const auto result = postAndWait(client, {receiver.url("/big"), "{}", {}, 5s});
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->body.size(), WebhookClient::kMaxResponseBytes);
}

}  // namespace
}  // namespace siprecd::control
