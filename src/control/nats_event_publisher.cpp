#include "control/nats_event_publisher.hpp"

#include <algorithm>
#include <atomic>
#include <utility>

#include "base/log.hpp"
#include "base/metrics.hpp"
#include "base/strings.hpp"
#include "control/domain_threads.hpp"
#include "control/event_sink.hpp"
#include "control/outbox_cursor_loop.hpp"
#include "control/wake_signal.hpp"

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

struct NatsEventPublisher::Impl {
  Impl(db::Repository& repository_in, NatsConnection& connection_in,
       NatsEventPublisherSettings settings_in)
      : repository(repository_in),
        connection(connection_in),
        settings(std::move(settings_in)),
        signal(std::make_shared<WakeSignal>()),
        loop(repository, std::string(kCursorName), *signal,
             {settings.poll_interval, settings.batch_limit, settings.initial_backoff,
              settings.max_backoff},
             kComponent) {}

  void run();
  PublishOutcome publish(const db::OutboxEvent& event);

  db::Repository& repository;
  NatsConnection& connection;
  NatsEventPublisherSettings settings;
  /// Shared with waker() functions that may outlive the publisher.
  std::shared_ptr<WakeSignal> signal;
  PublisherMetrics& counters = publisherMetrics();
  OutboxCursorLoop loop;
  DomainThreads threads;

  std::atomic<uint64_t> published{0};
  std::atomic<uint64_t> failures{0};
  std::atomic<uint64_t> unpublishable{0};

  // Publisher thread only.
  bool stream_ready = false;
};

NatsEventPublisher::NatsEventPublisher(db::Repository& repository, NatsConnection& connection,
                                       NatsEventPublisherSettings settings)
    : impl_(std::make_unique<Impl>(repository, connection, std::move(settings))) {}

NatsEventPublisher::~NatsEventPublisher() {
  stop();
}

void NatsEventPublisher::start() {
  impl_->threads.start({"nats-events"}, [impl = impl_.get()](std::size_t) {
    impl->run();
    nats_ReleaseThreadMemory();
  });
}

void NatsEventPublisher::stop() {
  impl_->signal->requestStop();
  impl_->threads.join();
}

void NatsEventPublisher::wake() {
  impl_->signal->wake();
}

std::function<void()> NatsEventPublisher::waker() const {
  return WakeSignal::weakWaker(impl_->signal);
}

NatsEventPublisher::Stats NatsEventPublisher::stats() const {
  return Stats{impl_->published.load(), impl_->failures.load(), impl_->unpublishable.load(),
               impl_->loop.savedCursor()};
}

std::string NatsEventPublisher::subjectFor(std::string_view prefix, const db::OutboxEvent& event) {
  const auto type = eventTypeOfMethod(event.name);
  const std::string name = type ? std::string(callbackName(*type)) : toLower(event.name);
  return std::string(prefix) + "." + natsSubjectToken(event.domain) + ".events." +
         natsSubjectToken(name);
}

void NatsEventPublisher::Impl::run() {
  OutboxCursorLoop::Hooks hooks;
  hooks.on_cursor_loaded = [&](int64_t cursor) {
    log::info(kComponent, "publishing outbox events after sequence {} to {}", cursor,
              settings.stream.subject);
  };
  hooks.ready = [&] {
    if (!connection.connected()) {
      // cnats reconnects on its own: look again soon, without growing the back-off.
      return OutboxCursorLoop::Readiness::WaitShortly;
    }
    if (!stream_ready) {
      if (auto ready = connection.ensureStream(settings.stream); !ready) {
        static log::RateLimiter limiter(1);
        log::limited(limiter, log::Level::Warn, kComponent, "events: {}", ready.error().message);
        return OutboxCursorLoop::Readiness::BackOff;
      }
      stream_ready = true;
    }
    return OutboxCursorLoop::Readiness::Ready;
  };
  hooks.publish = [&](const db::OutboxEvent& event) {
    const PublishOutcome outcome = publish(event);
    if (outcome == PublishOutcome::NoStream) {
      stream_ready = false;
    }
    return outcome == PublishOutcome::Retry || outcome == PublishOutcome::NoStream
               ? OutboxCursorLoop::Step::Retry
               : OutboxCursorLoop::Step::Done;
  };
  loop.run(hooks);
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
