#include "control/event_dispatcher.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "base/metrics.hpp"
#include "control/callback_signature.hpp"
#include "control/event_outbox.hpp"
#include "control/eventually.hpp"
#include "control/webhook_test_support.hpp"
#include "db/repository.hpp"
#include "support/temp_dir.hpp"

namespace siprecd::control {
namespace {

using namespace std::chrono_literals;
using test_support::eventually;
using test_support::Gate;
using test_support::SharedManualClock;
using test_support::WebhookReceiver;

constexpr std::string_view kSecret = "whsec_acme";

app::HttpResponse status(int code) {
  app::HttpResponse response;
  response.status = code;
  response.body = "{}";
  return response;
}

class EventDispatcherTest : public ::testing::Test {
 protected:
  EventDispatcherTest() {
    openRepository();
    addDomain("acme", receiver_.url("/hooks/"), std::string(kSecret));
    settings_.poll_interval = 50ms;
    settings_.request_timeout = 2s;
    settings_.random_fraction = [] { return 0.0; };
  }
  ~EventDispatcherTest() override {
    gate_.open();  // release hanging handlers before the receivers stop
    if (dispatcher_) {
      dispatcher_->stop();
    }
  }

  void openRepository() {
    auto opened = db::openSqliteRepository(dir_.path() / "siprecd.db");
    ASSERT_TRUE(opened) << opened.error().message;
    repository_ = std::move(*opened);
  }
  void addDomain(const std::string& name, const std::string& callback_base,
                 const std::string& secret) {
    auto domain = std::make_shared<DomainSettings>();
    domain->name = name;
    domain->callback_base = callback_base;
    domain->callback_secret = secret;
    (*domains_)[name] = domain;
  }
  void startDispatcher() {
    dispatcher_ = std::make_unique<EventDispatcher>(*repository_, client_, lookupIn(domains_),
                                                    clock_, settings_);
    outbox_ = std::make_unique<EventOutbox>(*repository_, tokens_, lookupIn(domains_), clock_,
                                            dispatcher_->waker());
    dispatcher_->start();
  }
  db::OutboxEvent onlyEvent(const std::string& recording_id) {
    repository_->flush();
    auto events = repository_->eventsForRecording(recording_id).value();
    EXPECT_EQ(events.size(), 1U);
    return events.empty() ? db::OutboxEvent{} : events.front();
  }
  /// Waits until the recording's only event satisfies `condition` in the repository.
  bool eventuallyEvent(const std::string& recording_id,
                       const std::function<bool(const db::OutboxEvent&)>& condition) {
    return eventually([&] {
      auto events = repository_->eventsForRecording(recording_id).value();
      return events.size() == 1 && condition(events[0]);
    });
  }

  test_support::TempDir dir_;
  std::unique_ptr<db::Repository> repository_;
  SharedManualClock clock_;
  WebhookReceiver receiver_;
  WebhookClient client_;
  ReplyTokens tokens_{"0123456789abcdef0123456789abcdef"};
  std::shared_ptr<DomainDirectory> domains_ = std::make_shared<DomainDirectory>();
  EventDispatcherSettings settings_;
  Gate gate_;
  std::unique_ptr<EventDispatcher> dispatcher_;
  std::unique_ptr<EventOutbox> outbox_;
};

TEST(EventDispatcherBackoff, DoublesFromOneSecondUpToFiveMinutes) {
  const EventDispatcherSettings settings;
  const std::vector<int64_t> expected_s = {1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300};
  for (std::size_t i = 0; i < expected_s.size(); ++i) {
    EXPECT_EQ(EventDispatcher::backoff(settings, static_cast<int>(i) + 1, 0.0),
              std::chrono::seconds(expected_s[i]))
        << "attempt " << i + 1;
  }
  EXPECT_EQ(EventDispatcher::backoff(settings, 1000, 0.0), std::chrono::minutes(5));
}

TEST(EventDispatcherBackoff, JitterShortensByUpToItsFraction) {
  EventDispatcherSettings settings;
  settings.jitter = 0.2;
  EXPECT_EQ(EventDispatcher::backoff(settings, 3, 0.5), 3600ms);    // 4 s - 10 %
  EXPECT_EQ(EventDispatcher::backoff(settings, 3, 0.999), 3201ms);  // never below 80 %
}

TEST_F(EventDispatcherTest, DeliversSignedEventToItsCallbackPath) {
  auto& delivered = metrics().counter("siprecd_events_delivered_total",
                                      "Events delivered to the application (2xx answer).");
  const uint64_t delivered_before = delivered.value();
  startDispatcher();
  outbox_->emit(EventType::RecordingStarted, "acme", "rec-1", {{"startTime", 5}});
  ASSERT_TRUE(receiver_.waitForRequests(1));
  const app::HttpRequest request = receiver_.requests()[0];
  EXPECT_EQ(request.path, "/hooks/recordingStarted");  // no doubled slash
  EXPECT_EQ(request.header("content-type"), "application/json");
  EXPECT_EQ(request.header("x-siprecd-event"), "RECORDINGSTARTED");
  const auto body = nlohmann::json::parse(request.body);
  EXPECT_EQ(request.header("x-siprecd-event-id"), body["eventId"]);
  EXPECT_EQ(body["startTime"], 5);
  const auto verified =
      verifyCallbackSignature(kSecret, request.header("x-siprecd-signature"), request.body,
                              clock_.epochMs() / 1000, std::chrono::seconds(0));
  EXPECT_TRUE(verified) << verified.error().message;

  ASSERT_TRUE(
      eventuallyEvent("rec-1", [](const db::OutboxEvent& e) { return e.status == "delivered"; }));
  const auto event = onlyEvent("rec-1");
  EXPECT_EQ(event.attempts, 1);
  EXPECT_EQ(event.delivered_ms, clock_.epochMs());
  EXPECT_TRUE(event.last_error.empty());
  EXPECT_EQ(delivered.value(), delivered_before + 1);
  EXPECT_EQ(receiver_.requestCount(), 1U);
}

TEST_F(EventDispatcherTest, UnsignedWhenTheDomainHasNoSecret) {
  addDomain("plain", receiver_.url("/plain"), "");
  startDispatcher();
  outbox_->emit(EventType::RecordingReady, "plain", "rec-p", nlohmann::json::object());
  ASSERT_TRUE(receiver_.waitForRequests(1));
  EXPECT_EQ(receiver_.requests()[0].path, "/plain/recordingReady");
  EXPECT_EQ(receiver_.requests()[0].header("x-siprecd-signature"), "");
}

TEST_F(EventDispatcherTest, DeliversEachRecordingsEventsInOrder) {
  // Slow answers make later events of a recording wait behind earlier ones.
  receiver_.respondWith([](const app::HttpRequest& request) {
    if (request.body.find("\"rec-a\"") != std::string::npos) {
      std::this_thread::sleep_for(10ms);
    }
    return status(200);
  });
  startDispatcher();
  constexpr int kPerRecording = 6;
  for (int i = 0; i < kPerRecording; ++i) {
    outbox_->emit(EventType::MetadataUpdated, "acme", "rec-a", {{"n", i}});
    outbox_->emit(EventType::MetadataUpdated, "acme", "rec-b", {{"n", i}});
  }
  ASSERT_TRUE(receiver_.waitForRequests(2 * kPerRecording));
  std::map<std::string, std::vector<int>> seen;
  for (const auto& request : receiver_.requests()) {
    const auto body = nlohmann::json::parse(request.body);
    seen[body["recordingId"].get<std::string>()].push_back(body["n"].get<int>());
  }
  const std::vector<int> in_order = {0, 1, 2, 3, 4, 5};
  EXPECT_EQ(seen["rec-a"], in_order);
  EXPECT_EQ(seen["rec-b"], in_order);
}

TEST_F(EventDispatcherTest, RetriesAfterServerErrorOnceTheBackOffHasPassed) {
  std::atomic<int> calls{0};
  receiver_.respondWith(
      [&calls](const app::HttpRequest&) { return status(calls++ == 0 ? 500 : 200); });
  startDispatcher();
  const int64_t created_ms = clock_.epochMs();
  outbox_->emit(EventType::RecordingReady, "acme", "rec-r", nlohmann::json::object());
  ASSERT_TRUE(eventuallyEvent("rec-r", [](const db::OutboxEvent& e) { return e.attempts == 1; }));
  auto event = onlyEvent("rec-r");
  EXPECT_EQ(event.status, "pending");
  EXPECT_EQ(event.last_error, "HTTP 500");
  EXPECT_EQ(event.next_attempt_ms, created_ms + 1000);
  // Not due yet: several polls go by without a second attempt.
  std::this_thread::sleep_for(4 * settings_.poll_interval);
  EXPECT_EQ(receiver_.requestCount(), 1U);

  clock_.advance(1000ms);
  ASSERT_TRUE(
      eventuallyEvent("rec-r", [](const db::OutboxEvent& e) { return e.status == "delivered"; }));
  event = onlyEvent("rec-r");
  EXPECT_EQ(event.attempts, 2);
  EXPECT_EQ(receiver_.requestCount(), 2U);
  // The same event (same id and body) was delivered again.
  const auto requests = receiver_.requests();
  EXPECT_EQ(requests[0].body, requests[1].body);
}

TEST_F(EventDispatcherTest, BackOffScheduleDoublesBetweenAttempts) {
  receiver_.respondWith([](const app::HttpRequest&) { return status(503); });
  startDispatcher();
  outbox_->emit(EventType::RecordingReady, "acme", "rec-b", nlohmann::json::object());
  std::vector<int64_t> delays_ms;
  for (int attempt = 1; attempt <= 4; ++attempt) {
    ASSERT_TRUE(eventuallyEvent(
        "rec-b", [attempt](const db::OutboxEvent& e) { return e.attempts == attempt; }));
    const auto event = onlyEvent("rec-b");
    const int64_t delay = event.next_attempt_ms - clock_.epochMs();
    delays_ms.push_back(delay);
    clock_.advance(std::chrono::milliseconds(delay));
  }
  EXPECT_EQ(delays_ms, (std::vector<int64_t>{1000, 2000, 4000, 8000}));
}

TEST_F(EventDispatcherTest, EventPastMaxAgeIsMarkedDeadAfterItsLastAttempt) {
  auto& dead =
      metrics().counter("siprecd_events_dead_total", "Events given up after the maximum age.");
  const uint64_t dead_before = dead.value();
  receiver_.respondWith([](const app::HttpRequest&) { return status(503); });
  startDispatcher();
  outbox_->emit(EventType::RecordingDeleted, "acme", "rec-d", nlohmann::json::object());
  ASSERT_TRUE(eventuallyEvent("rec-d", [](const db::OutboxEvent& e) { return e.attempts == 1; }));

  clock_.advance(24h);
  dispatcher_->wake();
  ASSERT_TRUE(
      eventuallyEvent("rec-d", [](const db::OutboxEvent& e) { return e.status == "dead"; }));
  const auto event = onlyEvent("rec-d");
  EXPECT_EQ(event.attempts, 2);
  EXPECT_EQ(event.last_error, "HTTP 503");
  EXPECT_EQ(dead.value(), dead_before + 1);
  const auto listed = repository_->deadEvents("acme", 10).value();
  ASSERT_EQ(listed.size(), 1U);
  EXPECT_EQ(listed[0].event_id, event.event_id);

  clock_.advance(1h);
  dispatcher_->wake();
  std::this_thread::sleep_for(4 * settings_.poll_interval);
  EXPECT_EQ(receiver_.requestCount(), 2U);
}

TEST_F(EventDispatcherTest, RetriesNeverGoPastTheMaxAge) {
  settings_.max_age = 10s;
  settings_.initial_backoff = 8s;
  receiver_.respondWith([](const app::HttpRequest&) { return status(500); });
  startDispatcher();
  const int64_t created_ms = clock_.epochMs();
  outbox_->emit(EventType::RecordingReady, "acme", "rec-m", nlohmann::json::object());
  ASSERT_TRUE(eventuallyEvent("rec-m", [](const db::OutboxEvent& e) { return e.attempts == 1; }));
  clock_.advance(8s);
  ASSERT_TRUE(eventuallyEvent("rec-m", [](const db::OutboxEvent& e) { return e.attempts == 2; }));
  // The back-off (16 s) would pass the deadline: the last attempt is at the deadline.
  EXPECT_EQ(onlyEvent("rec-m").next_attempt_ms, created_ms + 10'000);
}

TEST_F(EventDispatcherTest, HangingEndpointDoesNotDelayAnotherDomain) {
  WebhookReceiver slow;
  slow.respondWith([this](const app::HttpRequest&) {
    gate_.wait();
    return status(200);
  });
  addDomain("slow", slow.url(), "");
  startDispatcher();
  for (int i = 0; i < 3; ++i) {
    outbox_->emit(EventType::RecordingStarted, "slow", "rec-slow-" + std::to_string(i),
                  nlohmann::json::object());
  }
  ASSERT_TRUE(eventually([&] { return client_.inFlight() == 3; }));
  const auto started = std::chrono::steady_clock::now();
  outbox_->emit(EventType::RecordingStarted, "acme", "rec-fast", nlohmann::json::object());
  ASSERT_TRUE(receiver_.waitForRequests(1, 2s));
  // Well within the slow endpoint's request timeout (2 s): not queued behind it.
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
  EXPECT_EQ(slow.requestCount(), 0U);  // all three still hanging
  gate_.open();
}

TEST_F(EventDispatcherTest, ConcurrentDeliveriesPerDomainAreCapped) {
  settings_.max_in_flight_per_domain = 2;
  WebhookReceiver slow;
  slow.respondWith([this](const app::HttpRequest&) {
    gate_.wait();
    return status(200);
  });
  addDomain("slow", slow.url(), "");
  startDispatcher();
  for (int i = 0; i < 4; ++i) {
    outbox_->emit(EventType::RecordingStarted, "slow", "rec-cap-" + std::to_string(i),
                  nlohmann::json::object());
  }
  ASSERT_TRUE(eventually([&] { return client_.inFlight() == 2; }));
  std::this_thread::sleep_for(4 * settings_.poll_interval);
  EXPECT_EQ(client_.inFlight(), 2U);
  gate_.open();
  ASSERT_TRUE(slow.waitForRequests(4));
}

TEST_F(EventDispatcherTest, BacklogOfAHangingDomainDoesNotStarveOthers) {
  // The outbox read is limited to 3 events and the slow domain to 1 delivery at a time:
  // its waiting backlog is moved out of the way so that acme's later event is read.
  settings_.batch_limit = 3;
  settings_.max_in_flight_per_domain = 1;
  WebhookReceiver slow;
  slow.respondWith([this](const app::HttpRequest&) {
    gate_.wait();
    return status(200);
  });
  addDomain("slow", slow.url(), "");
  startDispatcher();
  for (int i = 0; i < 5; ++i) {
    outbox_->emit(EventType::RecordingStarted, "slow", "rec-backlog-" + std::to_string(i),
                  nlohmann::json::object());
  }
  outbox_->emit(EventType::RecordingStarted, "acme", "rec-after", nlohmann::json::object());
  ASSERT_TRUE(receiver_.waitForRequests(1, 3s));
  // Once acme's delivery has completed, only the slow domain's single delivery is left.
  EXPECT_TRUE(eventually([&] { return client_.inFlight() == 1; }));
  const auto deferred = repository_->eventsForRecording("rec-backlog-4").value();
  ASSERT_EQ(deferred.size(), 1U);
  EXPECT_EQ(deferred[0].attempts, 0);  // moved, not counted as a failed attempt
  EXPECT_EQ(deferred[0].next_attempt_ms, clock_.epochMs() + settings_.request_timeout.count());
  gate_.open();
}

TEST_F(EventDispatcherTest, RestartedDispatcherDeliversEventsLeftPending) {
  {
    // A first process wrote events but never delivered them (its endpoint was down).
    EventOutbox outbox(*repository_, tokens_, lookupIn(domains_), clock_);
    outbox.emit(EventType::RecordingStarted, "acme", "rec-x", nlohmann::json::object());
    outbox.emit(EventType::RecordingReady, "acme", "rec-x", nlohmann::json::object());
    repository_->flush();
    repository_.reset();
  }
  openRepository();
  EXPECT_EQ(repository_->pendingEventCount().value(), 2);
  startDispatcher();
  ASSERT_TRUE(receiver_.waitForRequests(2));
  const auto requests = receiver_.requests();
  EXPECT_EQ(requests[0].path, "/hooks/recordingStarted");
  EXPECT_EQ(requests[1].path, "/hooks/recordingReady");
  ASSERT_TRUE(eventually([&] { return repository_->pendingEventCount().value() == 0; }));
}

TEST_F(EventDispatcherTest, PendingEventOfADomainThatLostItsCallbackIsSkipped) {
  {
    EventOutbox outbox(*repository_, tokens_, lookupIn(domains_), clock_);
    outbox.emit(EventType::RecordingStarted, "acme", "rec-s", nlohmann::json::object());
  }
  (*domains_)["acme"] = std::make_shared<DomainSettings>();  // reconfigured without callbacks
  startDispatcher();
  ASSERT_TRUE(
      eventuallyEvent("rec-s", [](const db::OutboxEvent& e) { return e.status == "skipped"; }));
  EXPECT_EQ(receiver_.requestCount(), 0U);
}

}  // namespace
}  // namespace siprecd::control
