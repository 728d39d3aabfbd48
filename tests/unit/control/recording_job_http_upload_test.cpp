// HttpDestination against a real HTTP receiver (app::HttpServer), and the store job to an
// `http` destination. Here rather than in storage_tests because the receiver lives in
// siprecd_app, which only this binary links.
#include <atomic>
#include <string>

#include <gtest/gtest.h>

#include "recording_job_test_support.hpp"
#include "storage/http_destination.hpp"
#include "storage/sha256.hpp"
#include "webhook_test_support.hpp"

namespace siprecd::storage {
namespace {

using test_support::TempDir;
using test_support::WebhookReceiver;

HttpDestinationSettings quickRetries() {
  HttpDestinationSettings settings;
  settings.attempts = 3;
  settings.backoff = std::chrono::milliseconds(1);
  settings.max_backoff = std::chrono::milliseconds(2);
  settings.attempt_timeout = std::chrono::milliseconds(10'000);
  return settings;
}

/// Answers the given statuses in turn, then 200.
WebhookReceiver::Responder statuses(std::vector<int> list, std::string body = "") {
  auto next = std::make_shared<std::atomic<std::size_t>>(0);
  return [list = std::move(list), body = std::move(body), next](const app::HttpRequest&) {
    const std::size_t i = (*next)++;
    app::HttpResponse response;
    response.status = i < list.size() ? list[i] : 200;
    response.content_type = "text/plain";
    response.body = body;
    return response;
  };
}

TEST(HttpDestination, PutsTheFileToThePresignedUrl) {
  TempDir temp;
  WebhookReceiver receiver;
  const std::string content(200'000, 'x');
  const auto file = temp.write("a.wav", content);
  HttpDestination destination(quickRetries());
  auto stored =
      destination.put(file, receiver.url("/bucket/a.wav?X-Amz-Signature=SECRET&b=1"), "audio/wav");
  ASSERT_TRUE(stored) << stored.error().message;
  EXPECT_EQ(stored->location, receiver.url("/bucket/a.wav"));
  EXPECT_EQ(stored->size, content.size());
  EXPECT_EQ(stored->sha256, sha256OfFile(file)->sha256);

  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(requests[0].path, "/bucket/a.wav");
  EXPECT_EQ(requests[0].query, "X-Amz-Signature=SECRET&b=1");
  EXPECT_EQ(requests[0].header("content-type"), "audio/wav");
  EXPECT_EQ(requests[0].header("content-length"), std::to_string(content.size()));
  EXPECT_EQ(requests[0].body, content);
}

TEST(HttpDestination, Retries5xxThenSucceeds) {
  TempDir temp;
  WebhookReceiver receiver;
  receiver.respondWith(statuses({503, 500}));
  HttpDestination destination(quickRetries());
  auto stored = destination.put(temp.write("a.wav", "abc"), receiver.url("/a.wav"), "audio/wav");
  ASSERT_TRUE(stored) << stored.error().message;
  EXPECT_EQ(receiver.requestCount(), 3u);
  for (const auto& request : receiver.requests()) {
    EXPECT_EQ(request.body, "abc");  // the whole body again on every attempt
  }
}

TEST(HttpDestination, GivesUpAfterTheLastAttempt) {
  TempDir temp;
  WebhookReceiver receiver;
  receiver.respondWith(statuses({502, 502, 502, 502}, "bad gateway"));
  HttpDestination destination(quickRetries());
  auto stored = destination.put(temp.write("a.wav", "abc"), receiver.url("/a.wav"), "audio/wav");
  ASSERT_FALSE(stored);
  EXPECT_EQ(stored.error().code, 502);
  EXPECT_EQ(receiver.requestCount(), 3u);
}

TEST(HttpDestination, Fails4xxAtOnceWithStatusAndBodyButNoQuery) {
  TempDir temp;
  WebhookReceiver receiver;
  receiver.respondWith(statuses(
      {403}, "<Error><Code>SignatureDoesNotMatch</Code><Q>X-Amz-Signature=SECRET</Q></Error>"));
  HttpDestination destination(quickRetries());
  auto stored = destination.put(temp.write("a.wav", "abc"),
                                receiver.url("/a.wav?X-Amz-Signature=SECRET"), "audio/wav");
  ASSERT_FALSE(stored);
  EXPECT_EQ(receiver.requestCount(), 1u);
  EXPECT_EQ(stored.error().code, 403);
  const std::string& message = stored.error().message;
  EXPECT_NE(message.find("403"), std::string::npos) << message;
  EXPECT_NE(message.find("SignatureDoesNotMatch"), std::string::npos) << message;
  EXPECT_NE(message.find(receiver.url("/a.wav")), std::string::npos) << message;
  EXPECT_EQ(message.find("SECRET"), std::string::npos) << message;
}

}  // namespace
}  // namespace siprecd::storage

namespace siprecd::control {
namespace {

using test_support::RecordingJobFixture;

TEST_F(RecordingJobFixture, StoreToAnHttpUrlUploadsOnlyTheAudioAndHidesTheQuery) {
  test_support::WebhookReceiver receiver;
  addRecording("r1");
  auto request = storeRequest("r1", "http");
  request.url = receiver.url("/up/r1.wav?X-Amz-Signature=SECRET");
  ASSERT_TRUE(runner_->store(request));
  settle();

  ASSERT_EQ(receiver.requestCount(), 1u);  // no .json/.xml: the URL names one object
  const auto upload = receiver.requests()[0];
  EXPECT_EQ(upload.header("content-type"), "audio/wav");
  EXPECT_EQ(upload.body.substr(0, 4), "RIFF");

  const auto events = events_.events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, EventType::RecordingStored);
  EXPECT_EQ(events[0].data["location"], receiver.url("/up/r1.wav"));
  EXPECT_EQ(events[0].data["key"], receiver.url("/up/r1.wav"));
  EXPECT_EQ(events[0].data["size"], upload.body.size());
  EXPECT_FALSE(events[0].data.contains("documents"));
  EXPECT_EQ(events[0].data.dump().find("SECRET"), std::string::npos);
  const auto record = find("r1");
  EXPECT_EQ(record.state, "stored");
  EXPECT_EQ(record.stored_json.find("SECRET"), std::string::npos);
}

}  // namespace
}  // namespace siprecd::control
