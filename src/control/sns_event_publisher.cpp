#include "control/sns_event_publisher.hpp"

#include <atomic>
#include <utility>

#include "base/log.hpp"
#include "base/metrics.hpp"
#include "control/domain_threads.hpp"
#include "control/outbox_cursor_loop.hpp"
#include "control/wake_signal.hpp"

namespace siprecd::control {
namespace {

constexpr std::string_view kComponent = "sns";

struct PublisherMetrics {
  Counter& published =
      metrics().counter("siprecd_sns_events_published_total", "Events published to SNS topics.");
  Counter& failures = metrics().counter("siprecd_sns_publish_failures_total",
                                        "Failed attempts to publish an event to SNS (retried).");
  Counter& unpublishable = metrics().counter(
      "siprecd_sns_events_unpublishable_total",
      "Events SNS refused for good (InvalidParameter, e.g. too large), passed over.");
};

PublisherMetrics& publisherMetrics() {
  static PublisherMetrics instance;
  return instance;
}

enum class PublishOutcome { Published, Retry, Unpublishable };

}  // namespace

struct SnsEventPublisher::Impl {
  Impl(db::Repository& repository_in, std::vector<SnsTopic> topics_in,
       SnsEventPublisherSettings settings_in)
      : repository(repository_in),
        topics(std::move(topics_in)),
        settings(settings_in),
        signal(std::make_shared<WakeSignal>()) {}

  void run(const SnsTopic& topic);
  PublishOutcome publish(const SnsTopic& topic, const AwsQueryClient& client,
                         const db::OutboxEvent& event);

  db::Repository& repository;
  std::vector<SnsTopic> topics;
  SnsEventPublisherSettings settings;
  /// Shared with waker() functions that may outlive the publisher.
  std::shared_ptr<WakeSignal> signal;
  PublisherMetrics& counters = publisherMetrics();
  DomainThreads threads;

  std::atomic<uint64_t> published{0};
  std::atomic<uint64_t> failures{0};
  std::atomic<uint64_t> unpublishable{0};
};

std::string SnsEventPublisher::cursorName(std::string_view domain) {
  return "sns:" + std::string(domain);
}

SnsEventPublisher::SnsEventPublisher(db::Repository& repository, std::vector<SnsTopic> topics,
                                     SnsEventPublisherSettings settings)
    : impl_(std::make_unique<Impl>(repository, std::move(topics), settings)) {}

SnsEventPublisher::~SnsEventPublisher() {
  stop();
}

void SnsEventPublisher::start() {
  std::vector<std::string> names;
  for (const SnsTopic& topic : impl_->topics) {
    names.push_back("sns-" + topic.domain);
  }
  impl_->threads.start(names, [impl = impl_.get()](std::size_t i) { impl->run(impl->topics[i]); });
}

void SnsEventPublisher::stop() {
  impl_->signal->requestStop();
  impl_->threads.join();
}

void SnsEventPublisher::wake() {
  impl_->signal->wake();
}

std::function<void()> SnsEventPublisher::waker() const {
  return WakeSignal::weakWaker(impl_->signal);
}

SnsEventPublisher::Stats SnsEventPublisher::stats() const {
  return Stats{impl_->published.load(), impl_->failures.load(), impl_->unpublishable.load()};
}

std::vector<StringAttribute> SnsEventPublisher::attributesOf(const db::OutboxEvent& event) {
  std::vector<StringAttribute> attributes{{"event", event.name}, {"eventId", event.event_id}};
  // SNS refuses attributes with an empty value.
  if (!event.recording_id.empty()) {
    attributes.push_back({"recordingId", event.recording_id});
  }
  if (!event.domain.empty()) {
    attributes.push_back({"domain", event.domain});
  }
  return attributes;
}

void SnsEventPublisher::Impl::run(const SnsTopic& topic) {
  const AwsQueryClient client(topic.service);
  OutboxCursorLoop loop(repository, SnsEventPublisher::cursorName(topic.domain), *signal,
                        {settings.poll_interval, settings.batch_limit, settings.initial_backoff,
                         settings.max_backoff},
                        kComponent);
  OutboxCursorLoop::Hooks hooks;
  hooks.on_cursor_loaded = [&](int64_t cursor) {
    log::info(kComponent, "publishing events of domain {} after sequence {} to {}", topic.domain,
              cursor, topic.topic_arn);
  };
  hooks.publish = [&](const db::OutboxEvent& event) {
    // Events of other domains are passed over.
    return event.domain == topic.domain && publish(topic, client, event) == PublishOutcome::Retry
               ? OutboxCursorLoop::Step::Retry
               : OutboxCursorLoop::Step::Done;
  };
  loop.run(hooks);
}

PublishOutcome SnsEventPublisher::Impl::publish(const SnsTopic& topic, const AwsQueryClient& client,
                                                const db::OutboxEvent& event) {
  AwsCall call;
  call.operation = "Publish";
  call.content_type = std::string(kFormContentType);
  call.body = formEncode(
      snsPublishParams(topic.topic_arn, event.body, SnsEventPublisher::attributesOf(event)));
  call.timeout = settings.request_timeout;
  const AwsOutcome outcome = client.send(call, &signal->stopFlag());
  if (outcome.ok) {
    ++published;
    counters.published.inc();
    log::debug(kComponent, "event {} {} published to {} (message {})", event.name, event.event_id,
               topic.topic_arn, parseSnsPublishResponse(outcome.body).value_or("?"));
    return PublishOutcome::Published;
  }
  if (outcome.stopped) {
    return PublishOutcome::Retry;
  }
  if (outcome.error.permanent) {
    ++unpublishable;
    counters.unpublishable.inc();
    log::error(
        kComponent, "event {} {} of recording {} ({} bytes) refused by SNS: {}; not published",
        event.name, event.event_id, event.recording_id, event.body.size(), outcome.description);
    return PublishOutcome::Unpublishable;
  }
  ++failures;
  counters.failures.inc();
  static log::RateLimiter limiter(1);
  log::limited(limiter, log::Level::Warn, kComponent,
               "publishing event {} {} to {} failed: {}; retrying", event.name, event.event_id,
               topic.topic_arn, outcome.description);
  return PublishOutcome::Retry;
}

}  // namespace siprecd::control
