#include "app/callback_record_decider.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "base/manual_event_loop.hpp"
#include "control/callback_signature.hpp"
#include "control/webhook_test_support.hpp"

namespace siprecd::app {
namespace {

using namespace std::chrono_literals;
using siprec::RecordDecision;
using test_support::Gate;
using test_support::WebhookReceiver;

HttpResponse answer(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

class CallbackRecordDeciderTest : public ::testing::Test {
 protected:
  CallbackRecordDeciderTest() {
    settings_->name = "acme";
    settings_->callback_base = receiver_.url("/app");
    settings_->callback_secret = "whsec_acme";
    settings_->callback_timeout = 2000ms;
    settings_->default_record = true;
    policy_.name = "acme";
    offer_.recording_id = "rec-1";
    offer_.domain = &policy_;
    offer_.call_id = "a84b4c76e66710@pc33";
    offer_.from = "sip:alice@example.com";
    offer_.to = "sip:bob@example.com";
    offer_.request_uri = "sip:srs@recorder.example.com";
    offer_.source = "udp:10.0.0.1:5060";
    offer_.metadata_json =
        R"({"participants":[{"participantId":"p1","aors":["sip:alice@example.com"]}],)"
        R"("streams":[{"streamId":"s1","label":"1"}],"sessions":[],"groups":[]})";
    offer_.streams_json = R"([{"label":"1","codec":"PCMU"},{"label":"2","codec":"PCMU"}])";
  }
  ~CallbackRecordDeciderTest() override {
    gate_.open();  // release hanging handlers before the receivers stop
  }

  std::unique_ptr<Timer> decide() {
    return decider_.decide(offer_,
                           [this](RecordDecision decision) { decisions_.push_back(decision); });
  }
  /// Waits (real time) for the HTTP answer to be posted to the SIP loop, then runs it.
  void runAnswer() {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (loop_.pendingTasks() == 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(2ms);
    }
    loop_.runReady();
  }
  /// Waits until the client has nothing in flight (its answer or error has been handled).
  void waitClientIdle() {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (client_.inFlight() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(2ms);
    }
    ASSERT_EQ(client_.inFlight(), 0U);
  }

  ManualEventLoop loop_;
  WebhookReceiver receiver_;
  control::WebhookClient client_;
  std::shared_ptr<control::DomainSettings> settings_ = std::make_shared<control::DomainSettings>();
  CallbackRecordDecider decider_{
      loop_, client_,
      [this](std::string_view name) -> std::shared_ptr<const control::DomainSettings> {
        return name == "acme" ? settings_ : nullptr;
      }};
  siprec::DomainPolicy policy_;
  siprec::CallOffer offer_;
  std::vector<RecordDecision> decisions_;
  Gate gate_;
};

TEST_F(CallbackRecordDeciderTest, RecordsWhenTheApplicationSaysTrue) {
  receiver_.respondWith([](const HttpRequest&) { return answer(200, R"({"recordCall":true})"); });
  auto handle = decide();
  EXPECT_TRUE(decisions_.empty());  // nothing decided on the SIP thread synchronously
  runAnswer();
  EXPECT_EQ(decisions_, std::vector<RecordDecision>{RecordDecision::Record});

  ASSERT_EQ(receiver_.requestCount(), 1U);
  const HttpRequest request = receiver_.requests()[0];
  EXPECT_EQ(request.path, "/app/newCall");
  EXPECT_EQ(request.header("x-siprecd-event"), "NEWCALL");
  const auto verified = control::verifyCallbackSignature(
      "whsec_acme", request.header("x-siprecd-signature"), request.body,
      loop_.clock().epochMs() / 1000, std::chrono::seconds(0));
  EXPECT_TRUE(verified) << verified.error().message;
  const auto body = nlohmann::json::parse(request.body);
  EXPECT_EQ(body["method"], "NEWCALL");
  EXPECT_EQ(body["eventId"], request.header("x-siprecd-event-id"));
  EXPECT_EQ(body["timestamp"], loop_.clock().epochMs());
  EXPECT_EQ(body["domain"], "acme");
  EXPECT_EQ(body["recordingId"], "rec-1");
  EXPECT_EQ(body["callId"], "a84b4c76e66710@pc33");
  EXPECT_EQ(body["from"], "sip:alice@example.com");
  EXPECT_EQ(body["to"], "sip:bob@example.com");
  EXPECT_EQ(body["requestUri"], "sip:srs@recorder.example.com");
  EXPECT_EQ(body["source"], "udp:10.0.0.1:5060");
  EXPECT_EQ(body["participants"][0]["participantId"], "p1");
  EXPECT_EQ(body["streams"].size(), 2U);
  EXPECT_EQ(body["streams"][1]["label"], "2");
  EXPECT_FALSE(body.contains("replyId"));

  // The deadline timer was cancelled: advancing past it changes nothing.
  loop_.advance(5s);
  EXPECT_EQ(decisions_.size(), 1U);
}

TEST_F(CallbackRecordDeciderTest, DeclinesWhenTheApplicationSaysFalse) {
  receiver_.respondWith([](const HttpRequest&) { return answer(200, R"({"recordCall":false})"); });
  auto handle = decide();
  runAnswer();
  EXPECT_EQ(decisions_, std::vector<RecordDecision>{RecordDecision::Decline});
}

TEST_F(CallbackRecordDeciderTest, MetadataStreamsStandInWhenNoStreamsWereOffered) {
  offer_.streams_json = "";
  const auto body =
      nlohmann::json::parse(CallbackRecordDecider::newCallBody(offer_, "acme", "e1", 7));
  ASSERT_EQ(body["streams"].size(), 1U);
  EXPECT_EQ(body["streams"][0]["streamId"], "s1");
  EXPECT_EQ(body["eventId"], "e1");
  EXPECT_EQ(body["timestamp"], 7);
}

TEST_F(CallbackRecordDeciderTest, NoAnswerWithinTheTimeoutAppliesTheDomainDefault) {
  receiver_.respondWith([this](const HttpRequest&) {
    gate_.wait();
    return answer(200, R"({"recordCall":false})");
  });
  settings_->default_record = true;
  auto handle = decide();
  loop_.advance(1999ms);
  EXPECT_TRUE(decisions_.empty());
  loop_.advance(1ms);
  EXPECT_EQ(decisions_, std::vector<RecordDecision>{RecordDecision::Record});
  // A late answer is ignored.
  gate_.open();
  waitClientIdle();
  loop_.runReady();
  EXPECT_EQ(decisions_.size(), 1U);
}

TEST_F(CallbackRecordDeciderTest, TimeoutWithDefaultDeclineDeclines) {
  receiver_.respondWith([this](const HttpRequest&) {
    gate_.wait();
    return answer(200, R"({"recordCall":true})");
  });
  settings_->default_record = false;
  auto handle = decide();
  loop_.advance(2000ms);
  EXPECT_EQ(decisions_, std::vector<RecordDecision>{RecordDecision::Decline});
}

TEST_F(CallbackRecordDeciderTest, InvalidAnswersApplyTheDomainDefault) {
  settings_->default_record = false;  // so that the default is told apart from "record"
  for (const auto& [status, body] :
       std::vector<std::pair<int, std::string>>{{200, "not json"},
                                                {200, R"({"recordCall":"yes"})"},
                                                {200, R"([true])"},
                                                {200, R"({})"},
                                                {500, R"({"recordCall":true})"},
                                                {302, R"({"recordCall":true})"}}) {
    decisions_.clear();
    receiver_.respondWith([status, body](const HttpRequest&) { return answer(status, body); });
    auto handle = decide();
    runAnswer();
    EXPECT_EQ(decisions_, std::vector<RecordDecision>{RecordDecision::Decline})
        << status << " " << body;
  }
}

TEST_F(CallbackRecordDeciderTest, TransportErrorAppliesTheDomainDefault) {
  {
    WebhookReceiver gone;
    settings_->callback_base = gone.url();
  }
  settings_->default_record = false;
  auto handle = decide();
  runAnswer();
  EXPECT_EQ(decisions_, std::vector<RecordDecision>{RecordDecision::Decline});
}

TEST_F(CallbackRecordDeciderTest, CancelBeforeTheAnswerNeverCallsBack) {
  receiver_.respondWith([this](const HttpRequest&) {
    gate_.wait();
    return answer(200, R"({"recordCall":true})");
  });
  auto handle = decide();
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (client_.inFlight() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(2ms);
  }
  handle.reset();  // SIP CANCEL
  gate_.open();
  waitClientIdle();
  loop_.runReady();
  loop_.advance(5s);
  EXPECT_TRUE(decisions_.empty());
}

TEST_F(CallbackRecordDeciderTest, CancelAfterTheAnswerWasPostedNeverCallsBack) {
  receiver_.respondWith([](const HttpRequest&) { return answer(200, R"({"recordCall":true})"); });
  auto handle = decide();
  waitClientIdle();
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (loop_.pendingTasks() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(2ms);
  }
  handle.reset();  // the answer is queued on the SIP loop but has not run
  loop_.runReady();
  EXPECT_TRUE(decisions_.empty());
}

TEST_F(CallbackRecordDeciderTest, DomainWithoutCallbackRecordsAfterTheDecisionDelay) {
  settings_->callback_base.clear();
  policy_.decision_delay = 500ms;
  auto handle = decide();
  loop_.runReady();
  EXPECT_TRUE(decisions_.empty());
  loop_.advance(500ms);
  EXPECT_EQ(decisions_, std::vector<RecordDecision>{RecordDecision::Record});
  EXPECT_EQ(receiver_.requestCount(), 0U);
}

TEST_F(CallbackRecordDeciderTest, UnknownDomainRecordsAtOnce) {
  policy_.name = "other";
  auto handle = decide();
  loop_.runReady();
  EXPECT_EQ(decisions_, std::vector<RecordDecision>{RecordDecision::Record});
}

}  // namespace
}  // namespace siprecd::app
