#include "control/nats_event_publisher.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "base/log.hpp"
#include "base/metrics.hpp"
#include "base/strings.hpp"
#include "control/event_sink.hpp"

namespace siprecd::control {
namespace {

constexpr std::string_view kComponent = "nats";
struct PublisherMetrics {
  Counter& published = metrics().counter("siprecd_nats_events_published_total",
                                         "Events published to NATS JetStream (acknowledged).");
  Counter& failures = metrics().counter("siprecd_nats_publish_failures_total",
                                        "Failed attempts to publish an event to NATS (retried).");
  Counter& unpublishable =
      metrics().counter("siprecd_nats_events_unpublishable_total",
                        "Events NATS can never take (larger than its max_payload), passed over.");
};

PublisherMetrics& publisherMetrics() {
  static PublisherMetrics instance;
  return instance;
}

enum class PublishOutcome { Published, Retry, NoStream, Unpublishable };

}  // namespace

/// Shared with waker() functions that may outlive the publisher.
struct PublisherSignal {
  std::mutex mutex;
  std::condition_variable changed;
  bool woken = false;     // guarded by mutex
  bool stopping = false;  // guarded by mutex

  void wake() {
    {
      std::lock_guard lock(mutex);
      woken = true;
    }
    changed.notify_one();
  }
};

struct NatsEventPublisher::Impl {
  Impl(db::Repository& repository_in, NatsConnection& connection_in,
       NatsEventPublisherSettings settings_in)
      : repository(repository_in),
        connection(connection_in),
        settings(std::move(settings_in)),
        signal(std::make_shared<PublisherSignal>()) {}

  void run();
  /// One round: reads a batch after the cursor and publishes it. Returns false when a
  /// publish must be retried after a pause.
  bool publishBatch();
  PublishOutcome publish(const db::OutboxEvent& event);
  /// Waits until `timeout` passes, stop() or (with `wakeable`) wake(); false when stopping.
  bool pause(std::chrono::milliseconds timeout, bool wakeable);
  bool stopping();

  db::Repository& repository;
  NatsConnection& connection;
  NatsEventPublisherSettings settings;
  std::shared_ptr<PublisherSignal> signal;
  PublisherMetrics& counters = publisherMetrics();
  std::thread thread;
  bool started = false;

  std::atomic<uint64_t> published{0};
  std::atomic<uint64_t> failures{0};
  std::atomic<uint64_t> unpublishable{0};
  std::atomic<int64_t> saved_cursor{0};

  // Publisher thread only.
  std::optional<int64_t> cursor;
  bool stream_ready = false;
};

NatsEventPublisher::NatsEventPublisher(db::Repository& repository, NatsConnection& connection,
                                       NatsEventPublisherSettings settings)
    : impl_(std::make_unique<Impl>(repository, connection, std::move(settings))) {}

NatsEventPublisher::~NatsEventPublisher() {
  stop();
}

void NatsEventPublisher::start() {
  if (impl_->started) {
    return;
  }
  impl_->started = true;
  impl_->thread = std::thread([impl = impl_.get()] {
    impl->run();
    nats_ReleaseThreadMemory();
  });
}

void NatsEventPublisher::stop() {
  {
    std::lock_guard lock(impl_->signal->mutex);
    impl_->signal->stopping = true;
  }
  impl_->signal->changed.notify_one();
  if (impl_->thread.joinable()) {
    impl_->thread.join();
  }
}

void NatsEventPublisher::wake() {
  impl_->signal->wake();
}

std::function<void()> NatsEventPublisher::waker() const {
  return [weak = std::weak_ptr<PublisherSignal>(impl_->signal)] {
    if (auto signal = weak.lock()) {
      signal->wake();
    }
  };
}

NatsEventPublisher::Stats NatsEventPublisher::stats() const {
  return Stats{impl_->published.load(), impl_->failures.load(), impl_->unpublishable.load(),
               impl_->saved_cursor.load()};
}

std::string NatsEventPublisher::subjectFor(std::string_view prefix, const db::OutboxEvent& event) {
  const auto type = eventTypeOfMethod(event.name);
  const std::string name = type ? std::string(callbackName(*type)) : toLower(event.name);
  return std::string(prefix) + "." + natsSubjectToken(event.domain) + ".events." +
         natsSubjectToken(name);
}

bool NatsEventPublisher::Impl::stopping() {
  std::lock_guard lock(signal->mutex);
  return signal->stopping;
}

bool NatsEventPublisher::Impl::pause(std::chrono::milliseconds timeout, bool wakeable) {
  std::unique_lock lock(signal->mutex);
  signal->changed.wait_for(lock, timeout,
                           [&] { return signal->stopping || (wakeable && signal->woken); });
  if (wakeable) {
    signal->woken = false;
  }
  return !signal->stopping;
}

void NatsEventPublisher::Impl::run() {
  std::chrono::milliseconds backoff{0};
  const auto nextBackoff = [&] {
    backoff = backoff.count() == 0 ? settings.initial_backoff
                                   : std::min(settings.max_backoff, backoff * 2);
    return backoff;
  };
  while (!stopping()) {
    if (!cursor) {
      auto loaded = repository.publisherCursor(kCursorName);
      if (!loaded) {
        static log::RateLimiter limiter(1);
        log::limited(limiter, log::Level::Warn, kComponent, "cannot read the NATS cursor: {}",
                     loaded.error().message);
        pause(nextBackoff(), false);
        continue;
      }
      cursor = *loaded;
      saved_cursor = *loaded;
      log::info(kComponent, "publishing outbox events after sequence {} to {}", *cursor,
                settings.stream.subject);
    }
    if (!connection.connected()) {
      // cnats reconnects on its own: look again soon, without growing the back-off.
      pause(settings.initial_backoff, false);
      continue;
    }
    if (!stream_ready) {
      if (auto ready = connection.ensureStream(settings.stream); !ready) {
        static log::RateLimiter limiter(1);
        log::limited(limiter, log::Level::Warn, kComponent, "events: {}", ready.error().message);
        pause(nextBackoff(), false);
        continue;
      }
      stream_ready = true;
    }
    if (publishBatch()) {
      backoff = std::chrono::milliseconds(0);
    } else {
      pause(nextBackoff(), false);
    }
  }
}

bool NatsEventPublisher::Impl::publishBatch() {
  auto events = repository.eventsAfter(*cursor, settings.batch_limit);
  if (!events) {
    static log::RateLimiter limiter(1);
    log::limited(limiter, log::Level::Warn, kComponent, "cannot read the outbox: {}",
                 events.error().message);
    return false;
  }
  if (events->empty()) {
    pause(settings.poll_interval, true);
    return true;
  }
  const int64_t before = *cursor;
  bool done = true;
  for (const db::OutboxEvent& event : *events) {
    if (stopping()) {
      break;
    }
    const PublishOutcome outcome = publish(event);
    if (outcome == PublishOutcome::Retry || outcome == PublishOutcome::NoStream) {
      stream_ready = outcome != PublishOutcome::NoStream;
      done = false;
      break;
    }
    cursor = event.sequence;
  }
  if (*cursor != before) {
    repository.savePublisherCursor(std::string(kCursorName), *cursor);
    saved_cursor = *cursor;
  }
  return done;
}

PublishOutcome NatsEventPublisher::Impl::publish(const db::OutboxEvent& event) {
  const std::string subject = NatsEventPublisher::subjectFor(settings.subject_prefix, event);
  natsMsg* raw_message = nullptr;
  natsStatus status = natsMsg_Create(&raw_message, subject.c_str(), nullptr, event.body.data(),
                                     static_cast<int>(event.body.size()));
  NatsPtr<natsMsg> message(raw_message);
  if (status == NATS_OK) {
    status = natsMsgHeader_Set(message.get(), "Nats-Msg-Id", event.event_id.c_str());
  }
  if (status == NATS_OK) {
    status = natsMsgHeader_Set(message.get(), "Siprecd-Event", event.name.c_str());
  }
  jsErrCode js_error = static_cast<jsErrCode>(0);
  if (status == NATS_OK) {
    jsPubOptions options;
    jsPubOptions_Init(&options);
    options.MaxWait = connection.requestTimeout().count();
    jsPubAck* raw_ack = nullptr;
    status = js_PublishMsg(&raw_ack, connection.jetStream(), message.get(), &options, &js_error);
    NatsPtr<jsPubAck> ack(raw_ack);
    if (status == NATS_OK) {
      ++published;
      counters.published.inc();
      log::debug(kComponent, "event {} {} published on {} (stream sequence {}{})", event.name,
                 event.event_id, subject, ack ? ack->Sequence : 0,
                 ack && ack->Duplicate ? ", duplicate" : "");
      return PublishOutcome::Published;
    }
  }
  if (status == NATS_MAX_PAYLOAD) {
    ++unpublishable;
    counters.unpublishable.inc();
    log::error(kComponent,
               "event {} {} of recording {} ({} bytes) exceeds the NATS max_payload; "
               "not published",
               event.name, event.event_id, event.recording_id, event.body.size());
    return PublishOutcome::Unpublishable;
  }
  ++failures;
  counters.failures.inc();
  static log::RateLimiter limiter(1);
  log::limited(limiter, log::Level::Warn, kComponent,
               "publishing event {} {} on {} failed: {}; retrying", event.name, event.event_id,
               subject, natsErrorText(status, js_error));
  return status == NATS_NO_RESPONDERS || js_error == JSStreamNotFoundErr ? PublishOutcome::NoStream
                                                                         : PublishOutcome::Retry;
}

}  // namespace siprecd::control
