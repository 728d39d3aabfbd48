#include "control/sqs_command_consumer.hpp"

#include <algorithm>
#include <atomic>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/log.hpp"
#include "base/metrics.hpp"
#include "control/domain_threads.hpp"
#include "control/queued_command.hpp"
#include "control/wake_signal.hpp"

namespace siprecd::control {
namespace {

constexpr std::string_view kComponent = "sqs";
/// The long poll's answer may take this much longer than its wait.
constexpr std::chrono::seconds kPollMargin{15};

struct ConsumerMetrics {
  Counter& received =
      metrics().counter("siprecd_sqs_commands_received_total", "Commands taken from SQS.");
  Counter& accepted = metrics().counter("siprecd_sqs_commands_accepted_total",
                                        "Commands from SQS accepted (2xx) and deleted.");
  Counter& malformed = metrics().counter(
      "siprecd_sqs_commands_malformed_total",
      "SQS messages that are no command (not JSON, another domain, 400), moved aside.");
  Counter& refused = metrics().counter("siprecd_sqs_commands_refused_total",
                                       "Commands from SQS refused (4xx), moved aside.");
  Counter& retried = metrics().counter(
      "siprecd_sqs_commands_retried_total",
      "Commands from SQS answered 429/5xx, left to come back after the visibility timeout.");
  Counter& given_up =
      metrics().counter("siprecd_sqs_commands_given_up_total",
                        "Commands from SQS still failing after max_receives, moved aside.");
  Counter& receive_failures = metrics().counter("siprecd_sqs_receive_failures_total",
                                                "Failed SQS ReceiveMessage requests (retried).");
};

ConsumerMetrics& consumerMetrics() {
  static ConsumerMetrics instance;
  return instance;
}

std::string_view reasonName(SqsReason reason) {
  switch (reason) {
    case SqsReason::Accepted:
      return "accepted";
    case SqsReason::Malformed:
      return "malformed";
    case SqsReason::Refused:
      return "refused";
    case SqsReason::Transient:
      return "transient";
    case SqsReason::GivenUp:
      return "given-up";
  }
  return "?";
}

}  // namespace

struct SqsCommandConsumer::Impl {
  Impl(CommandHandler& handler_in, std::vector<SqsQueue> queues_in,
       SqsCommandConsumerSettings settings_in)
      : handler(handler_in), queues(std::move(queues_in)), settings(settings_in) {}

  void run(const SqsQueue& queue);
  void process(const SqsQueue& queue, const AwsQueryClient& client, const SqsMessage& message);
  /// Sends the message to the dead-letter queue (if any) and deletes it.
  void moveAside(const SqsQueue& queue, const AwsQueryClient& client, const SqsMessage& message,
                 const SqsDecision& decision);
  bool deleteMessage(const SqsQueue& queue, const AwsQueryClient& client,
                     const SqsMessage& message);

  CommandHandler& handler;
  std::vector<SqsQueue> queues;
  SqsCommandConsumerSettings settings;
  ConsumerMetrics& counters = consumerMetrics();
  WakeSignal signal;
  DomainThreads threads;

  std::atomic<uint64_t> received{0};
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> malformed{0};
  std::atomic<uint64_t> refused{0};
  std::atomic<uint64_t> retried{0};
  std::atomic<uint64_t> given_up{0};
  std::atomic<uint64_t> dead_lettered{0};
  std::atomic<uint64_t> receive_failures{0};
};

SqsCommandConsumer::SqsCommandConsumer(CommandHandler& handler, std::vector<SqsQueue> queues,
                                       SqsCommandConsumerSettings settings)
    : impl_(std::make_unique<Impl>(handler, std::move(queues), settings)) {}

SqsCommandConsumer::~SqsCommandConsumer() {
  stop();
}

void SqsCommandConsumer::start() {
  std::vector<std::string> names;
  for (const SqsQueue& queue : impl_->queues) {
    names.push_back("sqs-" + queue.domain);
  }
  impl_->threads.start(names, [impl = impl_.get()](std::size_t i) { impl->run(impl->queues[i]); });
}

void SqsCommandConsumer::requestStop() {
  impl_->signal.requestStop();
}

void SqsCommandConsumer::stop() {
  requestStop();
  impl_->threads.join();
}

SqsCommandConsumer::Stats SqsCommandConsumer::stats() const {
  return Stats{impl_->received.load(),      impl_->accepted.load(),        impl_->malformed.load(),
               impl_->refused.load(),       impl_->retried.load(),         impl_->given_up.load(),
               impl_->dead_lettered.load(), impl_->receive_failures.load()};
}

SqsDecision SqsCommandConsumer::decide(CommandHandler& handler, const SqsQueue& queue,
                                       std::string_view body, const std::string& idempotency_key,
                                       int receive_count) {
  nlohmann::json envelope = nlohmann::json::parse(body, nullptr, false);
  if (envelope.is_discarded() || !envelope.is_object()) {
    return {SqsDisposition::MoveAside, SqsReason::Malformed, 400,
            "the message is not a JSON object"};
  }
  if (const auto domain = envelope.find("domain"); domain != envelope.end()) {
    if (!domain->is_string() || domain->get<std::string>() != queue.domain) {
      return {SqsDisposition::MoveAside, SqsReason::Malformed, 400,
              fmt::format("domain: the queue belongs to domain \"{}\"", queue.domain)};
    }
  }
  CommandRequest request;
  request.domain = queue.domain;
  if (const auto method = envelope.find("method");
      method != envelope.end() && method->is_string()) {
    request.method = method->get<std::string>();
  }
  request.idempotency_key = idempotency_key;
  request.body = std::move(envelope);
  const CommandReply reply = handleQueuedCommand(handler, request);
  SqsDecision decision;
  decision.status = reply.status;
  decision.message = replyErrorMessage(reply);
  if (reply.status >= 200 && reply.status < 300) {
    decision.disposition = SqsDisposition::Delete;
    decision.reason = SqsReason::Accepted;
  } else if (reply.status >= 400 && reply.status < 500 && reply.status != 429) {
    decision.disposition = SqsDisposition::MoveAside;
    decision.reason = reply.status == 400 ? SqsReason::Malformed : SqsReason::Refused;
  } else if (receive_count >= std::max(1, queue.max_receives)) {
    decision.disposition = SqsDisposition::MoveAside;
    decision.reason = SqsReason::GivenUp;
  } else {
    decision.disposition = SqsDisposition::Leave;
    decision.reason = SqsReason::Transient;
  }
  return decision;
}

void SqsCommandConsumer::Impl::run(const SqsQueue& queue) {
  const AwsQueryClient client(queue.service);
  std::chrono::milliseconds backoff{0};
  log::info(kComponent, "taking commands of domain {} from {}", queue.domain, queue.queue_url);
  while (!signal.stopping()) {
    AwsCall call;
    call.operation = "ReceiveMessage";
    call.content_type = std::string(kAmzJsonContentType);
    call.target = "AmazonSQS.ReceiveMessage";
    call.body = sqsReceiveMessageBody(queue.queue_url, settings.max_messages, settings.wait_seconds,
                                      queue.visibility_timeout_s);
    call.timeout = std::chrono::seconds(settings.wait_seconds) + kPollMargin;
    const AwsOutcome outcome = client.send(call, &signal.stopFlag());
    if (outcome.stopped) {
      break;
    }
    Result<std::vector<SqsMessage>> messages =
        outcome.ok ? parseSqsReceiveResponse(outcome.body)
                   : Result<std::vector<SqsMessage>>(fail(outcome.description));
    if (!messages) {
      ++receive_failures;
      counters.receive_failures.inc();
      backoff = backoff.count() == 0 ? settings.initial_backoff
                                     : std::min(settings.max_backoff, backoff * 2);
      static log::RateLimiter limiter(1);
      log::limited(limiter, log::Level::Warn, kComponent,
                   "commands of domain {}: {}; again in {} ms", queue.domain,
                   messages.error().message, backoff.count());
      signal.sleepFor(backoff);
      continue;
    }
    backoff = std::chrono::milliseconds(0);
    for (const SqsMessage& message : *messages) {
      if (signal.stopping()) {
        break;  // comes back after its visibility timeout
      }
      process(queue, client, message);
    }
  }
}

void SqsCommandConsumer::Impl::process(const SqsQueue& queue, const AwsQueryClient& client,
                                       const SqsMessage& message) {
  ++received;
  counters.received.inc();
  std::string key = message.message_id;
  if (const auto it = message.attributes.find("Idempotency-Key"); it != message.attributes.end()) {
    key = it->second;
  }
  const SqsDecision decision =
      SqsCommandConsumer::decide(handler, queue, message.body, key, message.receive_count);
  switch (decision.reason) {
    case SqsReason::Accepted:
      ++accepted;
      counters.accepted.inc();
      break;
    case SqsReason::Malformed:
      ++malformed;
      counters.malformed.inc();
      break;
    case SqsReason::Refused:
      ++refused;
      counters.refused.inc();
      break;
    case SqsReason::Transient:
      ++retried;
      counters.retried.inc();
      break;
    case SqsReason::GivenUp:
      ++given_up;
      counters.given_up.inc();
      break;
  }
  switch (decision.disposition) {
    case SqsDisposition::Delete:
      log::debug(kComponent, "domain {}: command {} accepted ({})", queue.domain,
                 message.message_id, decision.status);
      deleteMessage(queue, client, message);
      return;
    case SqsDisposition::Leave:
      log::info(kComponent, "domain {}: command {} answered {} ({}); again after {} s",
                queue.domain, message.message_id, decision.status, decision.message,
                queue.visibility_timeout_s);
      return;
    case SqsDisposition::MoveAside:
      moveAside(queue, client, message, decision);
      return;
  }
}

void SqsCommandConsumer::Impl::moveAside(const SqsQueue& queue, const AwsQueryClient& client,
                                         const SqsMessage& message, const SqsDecision& decision) {
  const std::string_view reason = reasonName(decision.reason);
  static log::RateLimiter limiter(5);
  log::limited(limiter, log::Level::Warn, kComponent,
               "domain {}: command {} ({} bytes) {} ({} {}); moved {}", queue.domain,
               message.message_id, message.body.size(), reason, decision.status, decision.message,
               queue.dead_letter_queue_url.empty() ? "away (deleted, no dead-letter queue)"
                                                   : "to " + queue.dead_letter_queue_url);
  if (!queue.dead_letter_queue_url.empty()) {
    AwsCall call;
    call.operation = "SendMessage";
    call.content_type = std::string(kAmzJsonContentType);
    call.target = "AmazonSQS.SendMessage";
    std::vector<StringAttribute> attributes{{"siprecd-reason", std::string(reason)},
                                            {"siprecd-status", std::to_string(decision.status)},
                                            {"siprecd-source-queue", queue.queue_url}};
    if (!decision.message.empty()) {
      attributes.push_back({"siprecd-error", decision.message});
    }
    call.body = sqsSendMessageBody(queue.dead_letter_queue_url, message.body, attributes);
    call.timeout = settings.request_timeout;
    const AwsOutcome sent = client.send(call, &signal.stopFlag());
    if (!sent.ok) {
      static log::RateLimiter send_limiter(1);
      log::limited(send_limiter, log::Level::Warn, kComponent,
                   "domain {}: command {} not moved to the dead-letter queue: {}; it comes "
                   "back after {} s",
                   queue.domain, message.message_id, sent.description, queue.visibility_timeout_s);
      return;
    }
    ++dead_lettered;
  }
  deleteMessage(queue, client, message);
}

bool SqsCommandConsumer::Impl::deleteMessage(const SqsQueue& queue, const AwsQueryClient& client,
                                             const SqsMessage& message) {
  AwsCall call;
  call.operation = "DeleteMessage";
  call.content_type = std::string(kAmzJsonContentType);
  call.target = "AmazonSQS.DeleteMessage";
  call.body = sqsDeleteMessageBody(queue.queue_url, message.receipt_handle);
  call.timeout = settings.request_timeout;
  const AwsOutcome outcome = client.send(call);
  if (!outcome.ok) {
    static log::RateLimiter limiter(1);
    log::limited(limiter, log::Level::Warn, kComponent,
                 "domain {}: command {} not deleted: {}; it comes back after {} s", queue.domain,
                 message.message_id, outcome.description, queue.visibility_timeout_s);
    return false;
  }
  return true;
}

}  // namespace siprecd::control
