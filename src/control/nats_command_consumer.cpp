#include "control/nats_command_consumer.hpp"

#include <algorithm>
#include <atomic>
#include <optional>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/log.hpp"
#include "base/metrics.hpp"
#include "control/command_service.hpp"
#include "control/domain_threads.hpp"
#include "control/queued_command.hpp"
#include "control/wake_signal.hpp"

namespace siprecd::control {
namespace {

constexpr std::string_view kComponent = "nats";
constexpr int64_t kNanosPerMilli = 1'000'000;

struct ConsumerMetrics {
  Counter& received =
      metrics().counter("siprecd_nats_commands_received_total", "Commands taken from NATS.");
  Counter& accepted = metrics().counter("siprecd_nats_commands_accepted_total",
                                        "Commands from NATS accepted (2xx reply).");
  Counter& rejected = metrics().counter("siprecd_nats_commands_rejected_total",
                                        "Commands from NATS refused (4xx reply), acknowledged.");
  Counter& malformed = metrics().counter("siprecd_nats_commands_malformed_total",
                                         "NATS command messages that are not a JSON object.");
  Counter& retried = metrics().counter("siprecd_nats_commands_retried_total",
                                       "Commands from NATS answered 5xx and redelivered later.");
  Counter& failed =
      metrics().counter("siprecd_nats_commands_failed_total",
                        "Commands from NATS given up after the maximum number of 5xx answers.");
};

ConsumerMetrics& consumerMetrics() {
  static ConsumerMetrics instance;
  return instance;
}

/// The value of header `key`, "" when absent.
std::string header(natsMsg* message, const char* key) {
  const char* value = nullptr;
  if (natsMsgHeader_Get(message, key, &value) != NATS_OK || value == nullptr) {
    return {};
  }
  return value;
}

}  // namespace

struct NatsCommandConsumer::Impl {
  Impl(NatsConnection& connection_in, CommandHandler& handler_in,
       std::vector<std::string> domains_in, NatsCommandConsumerSettings settings_in)
      : connection(connection_in),
        handler(handler_in),
        domains(std::move(domains_in)),
        settings(std::move(settings_in)) {}

  void run(const std::string& domain);
  /// False when the domain's JetStream consumer (or its stream) is gone.
  bool consumerExists(const std::string& domain);
  std::string durableName(const std::string& domain) const {
    return settings.durable_prefix + "-" + natsSubjectToken(domain);
  }
  /// Ensures the stream and the domain's durable consumer, then binds a pull subscription.
  Result<NatsPtr<natsSubscription>> subscribe(const std::string& domain);
  /// Creates the durable consumer unless it exists (an existing one is used as it is).
  Result<void> ensureConsumer(const std::string& subject, const std::string& durable);
  void process(const std::string& domain, natsMsg* message);
  void acknowledge(natsMsg* message, uint64_t sequence);
  void publishReply(const std::string& domain, natsMsg* command, uint64_t sequence,
                    const CommandReply& reply);

  NatsConnection& connection;
  CommandHandler& handler;
  std::vector<std::string> domains;
  NatsCommandConsumerSettings settings;
  ConsumerMetrics& counters = consumerMetrics();
  WakeSignal signal;
  DomainThreads threads;

  std::atomic<uint64_t> received{0};
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> rejected{0};
  std::atomic<uint64_t> malformed{0};
  std::atomic<uint64_t> retried{0};
  std::atomic<uint64_t> failed{0};
};

NatsCommandConsumer::NatsCommandConsumer(NatsConnection& connection, CommandHandler& handler,
                                         std::vector<std::string> domains,
                                         NatsCommandConsumerSettings settings)
    : impl_(std::make_unique<Impl>(connection, handler, std::move(domains), std::move(settings))) {}

NatsCommandConsumer::~NatsCommandConsumer() {
  stop();
}

void NatsCommandConsumer::start() {
  std::vector<std::string> names;
  for (const std::string& domain : impl_->domains) {
    names.push_back("nats-cmd-" + domain);
  }
  impl_->threads.start(names, [impl = impl_.get()](std::size_t i) {
    impl->run(impl->domains[i]);
    nats_ReleaseThreadMemory();
  });
}

void NatsCommandConsumer::requestStop() {
  impl_->signal.requestStop();
}

void NatsCommandConsumer::stop() {
  requestStop();
  impl_->threads.join();
}

NatsCommandConsumer::Stats NatsCommandConsumer::stats() const {
  return Stats{impl_->received.load(),  impl_->accepted.load(), impl_->rejected.load(),
               impl_->malformed.load(), impl_->retried.load(),  impl_->failed.load()};
}

std::chrono::milliseconds NatsCommandConsumer::retryDelay(
    const NatsCommandConsumerSettings& settings, uint64_t deliveries) {
  const int exponent =
      static_cast<int>(std::min<uint64_t>(deliveries > 0 ? deliveries - 1 : 0, 30));
  const int64_t delay = settings.initial_retry_delay.count() * (int64_t{1} << exponent);
  return std::min(settings.max_retry_delay, std::chrono::milliseconds(delay));
}

void NatsCommandConsumer::Impl::run(const std::string& domain) {
  NatsPtr<natsSubscription> subscription;
  auto last_check = std::chrono::steady_clock::now();
  while (!signal.stopping()) {
    if (!connection.connected()) {
      signal.sleepFor(settings.resubscribe_pause);
      continue;
    }
    if (!subscription) {
      auto subscribed = subscribe(domain);
      if (!subscribed) {
        static log::RateLimiter limiter(1);
        log::limited(limiter, log::Level::Warn, kComponent, "commands of domain {}: {}", domain,
                     subscribed.error().message);
        signal.sleepFor(settings.resubscribe_pause);
        continue;
      }
      subscription = std::move(*subscribed);
      last_check = std::chrono::steady_clock::now();
    }
    NatsMessageBatch batch;
    jsErrCode js_error = static_cast<jsErrCode>(0);
    const natsStatus status = natsSubscription_Fetch(
        batch.out(), subscription.get(), settings.batch, settings.fetch_timeout.count(), &js_error);
    if (status == NATS_TIMEOUT) {
      if (std::chrono::steady_clock::now() - last_check >= settings.consumer_check_interval) {
        last_check = std::chrono::steady_clock::now();
        if (!consumerExists(domain)) {
          log::warn(kComponent, "the consumer of domain {}'s commands is gone; creating it again",
                    domain);
          subscription.reset();
        }
      }
      continue;
    }
    if (status != NATS_OK) {
      static log::RateLimiter limiter(1);
      log::limited(limiter, log::Level::Warn, kComponent,
                   "fetching commands of domain {} failed: {}; subscribing again", domain,
                   natsErrorText(status, js_error));
      subscription.reset();
      signal.sleepFor(settings.resubscribe_pause);
      continue;
    }
    for (int i = 0; i < batch.size(); ++i) {
      if (signal.stopping()) {
        natsMsg_Nak(batch[i], nullptr);  // back to the stream now, for another node
        continue;
      }
      process(domain, batch[i]);
    }
  }
}

bool NatsCommandConsumer::Impl::consumerExists(const std::string& domain) {
  const std::string durable = durableName(domain);
  jsConsumerInfo* raw_info = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  const natsStatus status =
      js_GetConsumerInfo(&raw_info, connection.jetStream(), settings.stream.name.c_str(),
                         durable.c_str(), nullptr, &js_error);
  NatsPtr<jsConsumerInfo> info(raw_info);
  return !(status == NATS_NOT_FOUND || js_error == JSConsumerNotFoundErr ||
           js_error == JSStreamNotFoundErr);
}

Result<NatsPtr<natsSubscription>> NatsCommandConsumer::Impl::subscribe(const std::string& domain) {
  if (auto ready = connection.ensureStream(settings.stream); !ready) {
    return tl::unexpected(ready.error());
  }
  const std::string subject =
      settings.subject_prefix + "." + natsSubjectToken(domain) + ".commands";
  const std::string durable = durableName(domain);
  if (auto ready = ensureConsumer(subject, durable); !ready) {
    return tl::unexpected(ready.error());
  }
  jsSubOptions options;
  jsSubOptions_Init(&options);
  options.Stream = settings.stream.name.c_str();
  options.Consumer = durable.c_str();
  natsSubscription* raw_subscription = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  const natsStatus status =
      js_PullSubscribe(&raw_subscription, connection.jetStream(), subject.c_str(), durable.c_str(),
                       nullptr, &options, &js_error);
  NatsPtr<natsSubscription> subscription(raw_subscription);
  if (status != NATS_OK) {
    return fail(fmt::format("cannot subscribe to {} (consumer {}): {}", subject, durable,
                            natsErrorText(status, js_error)));
  }
  log::info(kComponent, "taking commands of domain {} from {} (consumer {})", domain, subject,
            durable);
  return subscription;
}

Result<void> NatsCommandConsumer::Impl::ensureConsumer(const std::string& subject,
                                                       const std::string& durable) {
  jsConsumerInfo* raw_info = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  natsStatus status =
      js_GetConsumerInfo(&raw_info, connection.jetStream(), settings.stream.name.c_str(),
                         durable.c_str(), nullptr, &js_error);
  NatsPtr<jsConsumerInfo> info(raw_info);
  if (status == NATS_OK) {
    return {};  // an existing consumer (ours or the operator's) is used as it is
  }
  if (status != NATS_NOT_FOUND && js_error != JSConsumerNotFoundErr) {
    return fail(fmt::format("consumer {}: {}", durable, natsErrorText(status, js_error)));
  }
  jsConsumerConfig config;
  jsConsumerConfig_Init(&config);
  config.Durable = durable.c_str();
  config.FilterSubject = subject.c_str();
  config.DeliverPolicy = js_DeliverAll;
  config.AckPolicy = js_AckExplicit;
  config.AckWait =
      std::chrono::duration_cast<std::chrono::milliseconds>(settings.ack_wait).count() *
      kNanosPerMilli;
  config.MaxDeliver = -1;  // 5xx retries are bounded by max_deliveries here
  raw_info = nullptr;
  js_error = static_cast<jsErrCode>(0);
  status = js_AddConsumer(&raw_info, connection.jetStream(), settings.stream.name.c_str(), &config,
                          nullptr, &js_error);
  info.reset(raw_info);
  if (status == NATS_OK) {
    log::info(kComponent, "created JetStream consumer {} on {}", durable, subject);
    return {};
  }
  if (js_error == JSConsumerNameExistErr || js_error == JSConsumerExistingActiveErr) {
    return {};  // another node was quicker
  }
  return fail(fmt::format("cannot create consumer {} on {}: {}", durable, subject,
                          natsErrorText(status, js_error)));
}

void NatsCommandConsumer::Impl::process(const std::string& domain, natsMsg* message) {
  ++received;
  counters.received.inc();
  uint64_t sequence = 0;
  uint64_t deliveries = 1;
  jsMsgMetaData* raw_meta = nullptr;
  if (natsMsg_GetMetaData(&raw_meta, message) == NATS_OK) {
    NatsPtr<jsMsgMetaData> meta(raw_meta);
    sequence = meta->Sequence.Stream;
    deliveries = std::max<uint64_t>(1, meta->NumDelivered);
  }
  const char* data = natsMsg_GetData(message);
  const std::string_view text(data != nullptr ? data : "",
                              static_cast<std::size_t>(natsMsg_GetDataLength(message)));
  nlohmann::json body = nlohmann::json::parse(text, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    ++malformed;
    counters.malformed.inc();
    static log::RateLimiter limiter(5);
    log::limited(limiter, log::Level::Warn, kComponent,
                 "domain {}: command {} ({} bytes) is not a JSON object; dropped", domain, sequence,
                 text.size());
    acknowledge(message, sequence);
    publishReply(domain, message, sequence,
                 commandError(400, "command: the message is not a JSON object"));
    return;
  }
  CommandRequest request;
  request.domain = domain;
  if (const auto method = body.find("method"); method != body.end() && method->is_string()) {
    request.method = method->get<std::string>();
  }
  request.idempotency_key = header(message, "Idempotency-Key");
  if (request.idempotency_key.empty()) {
    request.idempotency_key = header(message, "Nats-Msg-Id");
  }
  request.body = std::move(body);
  const CommandReply reply = handleQueuedCommand(handler, request);
  if (reply.status >= 200 && reply.status < 300) {
    ++accepted;
    counters.accepted.inc();
    acknowledge(message, sequence);
    publishReply(domain, message, sequence, reply);
    return;
  }
  const std::string reason = replyErrorMessage(reply);
  if (reply.status >= 400 && reply.status < 500) {
    ++rejected;
    counters.rejected.inc();
    log::info(kComponent, "domain {}: command {} {} refused ({}): {}", domain, sequence,
              request.method, reply.status, reason);
    acknowledge(message, sequence);
    publishReply(domain, message, sequence, reply);
    return;
  }
  if (deliveries >= static_cast<uint64_t>(std::max(1, settings.max_deliveries))) {
    ++failed;
    counters.failed.inc();
    log::warn(kComponent, "domain {}: command {} {} given up after {} deliveries ({}): {}", domain,
              sequence, request.method, deliveries, reply.status, reason);
    acknowledge(message, sequence);
    publishReply(domain, message, sequence, reply);
    return;
  }
  ++retried;
  counters.retried.inc();
  const auto delay = NatsCommandConsumer::retryDelay(settings, deliveries);
  log::info(kComponent, "domain {}: command {} {} answered {} ({}); again in {} ms", domain,
            sequence, request.method, reply.status, reason, delay.count());
  if (const natsStatus status = natsMsg_NakWithDelay(message, delay.count(), nullptr);
      status != NATS_OK) {
    static log::RateLimiter limiter(1);
    log::limited(limiter, log::Level::Warn, kComponent,
                 "negative acknowledgement of command {} failed: {}", sequence,
                 natsErrorText(status));
  }
}

void NatsCommandConsumer::Impl::acknowledge(natsMsg* message, uint64_t sequence) {
  jsErrCode js_error = static_cast<jsErrCode>(0);
  if (const natsStatus status = natsMsg_AckSync(message, nullptr, &js_error); status != NATS_OK) {
    // The command comes again after ack_wait; its idempotency key (if any) answers it.
    static log::RateLimiter limiter(1);
    log::limited(limiter, log::Level::Warn, kComponent, "acknowledgement of command {} failed: {}",
                 sequence, natsErrorText(status, js_error));
  }
}

void NatsCommandConsumer::Impl::publishReply(const std::string& domain, natsMsg* command,
                                             uint64_t sequence, const CommandReply& reply) {
  if (!settings.publish_replies) {
    return;
  }
  const std::string subject = settings.subject_prefix + "." + natsSubjectToken(domain) + ".replies";
  const std::string body =
      reply.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  natsMsg* raw_message = nullptr;
  natsStatus status = natsMsg_Create(&raw_message, subject.c_str(), nullptr, body.data(),
                                     static_cast<int>(body.size()));
  NatsPtr<natsMsg> message(raw_message);
  const std::string status_text = std::to_string(reply.status);
  const std::string sequence_text = std::to_string(sequence);
  if (status == NATS_OK) {
    status = natsMsgHeader_Set(message.get(), "Siprecd-Status", status_text.c_str());
  }
  if (status == NATS_OK) {
    status = natsMsgHeader_Set(message.get(), "Siprecd-Command-Sequence", sequence_text.c_str());
  }
  for (const char* key : {"Idempotency-Key", "Nats-Msg-Id"}) {
    const std::string value = header(command, key);
    if (status == NATS_OK && !value.empty()) {
      status = natsMsgHeader_Set(message.get(), key, value.c_str());
    }
  }
  if (status == NATS_OK) {
    status = natsConnection_PublishMsg(connection.connection(), message.get());
  }
  if (status != NATS_OK) {
    static log::RateLimiter limiter(1);
    log::limited(limiter, log::Level::Warn, kComponent, "reply to command {} not published: {}",
                 sequence, natsErrorText(status));
  }
}

}  // namespace siprecd::control
