#include "control/sns_event_publisher.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "base/log.hpp"
#include "base/metrics.hpp"

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

/// Shared with waker() functions that may outlive the publisher.
struct SnsPublisherSignal {
  std::mutex mutex;
  std::condition_variable changed;
  uint64_t generation = 0;  // guarded by mutex; wake() increments it
  bool stopping = false;    // guarded by mutex

  void wake() {
    {
      std::lock_guard lock(mutex);
      ++generation;
    }
    changed.notify_all();
  }
};

struct SnsEventPublisher::Impl {
  Impl(db::Repository& repository_in, std::vector<SnsTopic> topics_in,
       SnsEventPublisherSettings settings_in)
      : repository(repository_in),
        topics(std::move(topics_in)),
        settings(settings_in),
        signal(std::make_shared<SnsPublisherSignal>()) {}

  void run(const SnsTopic& topic);
  /// One round; false when a publish must be retried after a pause.
  bool publishBatch(const SnsTopic& topic, const AwsQueryClient& client, int64_t& cursor,
                    uint64_t& seen);
  PublishOutcome publish(const SnsTopic& topic, const AwsQueryClient& client,
                         const db::OutboxEvent& event);
  /// Waits `timeout`, until stop() or (with `seen`) a wake() after generation *seen.
  bool pause(std::chrono::milliseconds timeout, uint64_t* seen);

  db::Repository& repository;
  std::vector<SnsTopic> topics;
  SnsEventPublisherSettings settings;
  std::shared_ptr<SnsPublisherSignal> signal;
  PublisherMetrics& counters = publisherMetrics();
  std::vector<std::thread> threads;
  bool started = false;
  std::atomic<bool> stop_flag{false};

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
  if (impl_->started) {
    return;
  }
  impl_->started = true;
  for (const SnsTopic& topic : impl_->topics) {
    impl_->threads.emplace_back([impl = impl_.get(), &topic] { impl->run(topic); });
  }
}

void SnsEventPublisher::stop() {
  impl_->stop_flag = true;
  {
    std::lock_guard lock(impl_->signal->mutex);
    impl_->signal->stopping = true;
  }
  impl_->signal->changed.notify_all();
  for (std::thread& thread : impl_->threads) {
    if (thread.joinable()) {
      thread.join();
    }
  }
}

void SnsEventPublisher::wake() {
  impl_->signal->wake();
}

std::function<void()> SnsEventPublisher::waker() const {
  return [weak = std::weak_ptr<SnsPublisherSignal>(impl_->signal)] {
    if (auto signal = weak.lock()) {
      signal->wake();
    }
  };
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

bool SnsEventPublisher::Impl::pause(std::chrono::milliseconds timeout, uint64_t* seen) {
  std::unique_lock lock(signal->mutex);
  signal->changed.wait_for(lock, timeout, [&] {
    return signal->stopping || (seen != nullptr && signal->generation != *seen);
  });
  if (seen != nullptr) {
    *seen = signal->generation;
  }
  return !signal->stopping;
}

void SnsEventPublisher::Impl::run(const SnsTopic& topic) {
  const AwsQueryClient client(topic.service);
  const std::string cursor_name = SnsEventPublisher::cursorName(topic.domain);
  std::optional<int64_t> cursor;
  uint64_t seen = 0;
  std::chrono::milliseconds backoff{0};
  const auto nextBackoff = [&] {
    backoff = backoff.count() == 0 ? settings.initial_backoff
                                   : std::min(settings.max_backoff, backoff * 2);
    return backoff;
  };
  while (!stop_flag) {
    if (!cursor) {
      auto loaded = repository.publisherCursor(cursor_name);
      if (!loaded) {
        static log::RateLimiter limiter(1);
        log::limited(limiter, log::Level::Warn, kComponent, "cannot read the SNS cursor: {}",
                     loaded.error().message);
        pause(nextBackoff(), nullptr);
        continue;
      }
      cursor = *loaded;
      log::info(kComponent, "publishing events of domain {} after sequence {} to {}", topic.domain,
                *cursor, topic.topic_arn);
    }
    if (publishBatch(topic, client, *cursor, seen)) {
      backoff = std::chrono::milliseconds(0);
    } else {
      pause(nextBackoff(), nullptr);
    }
  }
}

bool SnsEventPublisher::Impl::publishBatch(const SnsTopic& topic, const AwsQueryClient& client,
                                           int64_t& cursor, uint64_t& seen) {
  {
    std::lock_guard lock(signal->mutex);
    seen = signal->generation;
  }
  auto events = repository.eventsAfter(cursor, settings.batch_limit);
  if (!events) {
    static log::RateLimiter limiter(1);
    log::limited(limiter, log::Level::Warn, kComponent, "cannot read the outbox: {}",
                 events.error().message);
    return false;
  }
  if (events->empty()) {
    pause(settings.poll_interval, &seen);
    return true;
  }
  const int64_t before = cursor;
  bool done = true;
  for (const db::OutboxEvent& event : *events) {
    if (stop_flag) {
      break;
    }
    if (event.domain == topic.domain && publish(topic, client, event) == PublishOutcome::Retry) {
      done = false;
      break;
    }
    cursor = event.sequence;
  }
  if (cursor != before) {
    repository.savePublisherCursor(SnsEventPublisher::cursorName(topic.domain), cursor);
  }
  return done;
}

PublishOutcome SnsEventPublisher::Impl::publish(const SnsTopic& topic, const AwsQueryClient& client,
                                                const db::OutboxEvent& event) {
  AwsCall call;
  call.operation = "Publish";
  call.content_type = std::string(kFormContentType);
  call.body = formEncode(
      snsPublishParams(topic.topic_arn, event.body, SnsEventPublisher::attributesOf(event)));
  call.timeout = settings.request_timeout;
  const AwsOutcome outcome = client.send(call, &stop_flag);
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
