#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "control/nats_connection.hpp"
#include "db/repository.hpp"

namespace siprecd::control {

struct NatsEventPublisherSettings {
  /// Subjects are {subject_prefix}.{domain}.events.{eventName}.
  std::string subject_prefix = "siprecd";
  /// Created when missing (config: nats.events_stream); its subject must cover the events'.
  NatsStreamSpec stream{"SIPRECD_EVENTS", "siprecd.*.events.>", false, std::chrono::hours(24 * 7),
                        std::chrono::seconds(120)};
  /// How often the outbox is read when nothing woke the publisher.
  std::chrono::milliseconds poll_interval{200};
  /// Events read from the outbox per round.
  std::size_t batch_limit = 256;
  /// Pause after a failed publish: doubles from initial_backoff up to max_backoff.
  std::chrono::milliseconds initial_backoff{250};
  std::chrono::milliseconds max_backoff{10000};
};

/// Publishes every outbox event to JetStream (DESIGN.md §2 "Callbacks and events": events
/// are also published to the domain's NATS subject), whatever its webhook status (a domain
/// without callback_base is published too): subject
/// {prefix}.{natsSubjectToken(domain)}.events.{callbackName} (e.g.
/// siprecd.default.events.recordingReady), payload the stored body byte for byte (the
/// webhook's JSON), headers Nats-Msg-Id = eventId (JetStream drops a repeat within the
/// stream's duplicate window) and Siprecd-Event = the method.
///
/// Durable, at least once, in order: the publisher reads the outbox by sequence from its
/// cursor (Repository::publisherCursor("nats")), publishes one event at a time and waits
/// for JetStream's acknowledgement before the next, so events keep their outbox order; the
/// cursor is saved after each round. A failed publish (no connection, timeout, no stream)
/// is retried with back-off and blocks the events behind it; an event NATS can never take
/// (larger than the server's max_payload) is logged, counted and passed over. After a
/// restart or crash the events after the saved cursor go out again (duplicates within the
/// duplicate window are dropped by JetStream; consumers de-duplicate by eventId anyway).
/// An event purged from the outbox (Repository::purgeHistory) before NATS took it is lost
/// to NATS. With no saved cursor the publisher starts at the outbox's oldest event.
///
/// Owns one thread. Metrics: siprecd_nats_events_published_total,
/// siprecd_nats_publish_failures_total (failed attempts, retried),
/// siprecd_nats_events_unpublishable_total (passed over).
class NatsEventPublisher {
 public:
  /// The cursor's name in the repository.
  static constexpr std::string_view kCursorName = "nats";

  /// Borrows `repository` and `connection`; both must outlive the publisher (or its stop()).
  NatsEventPublisher(db::Repository& repository, NatsConnection& connection,
                     NatsEventPublisherSettings settings = {});
  /// stop().
  ~NatsEventPublisher();
  NatsEventPublisher(const NatsEventPublisher&) = delete;
  NatsEventPublisher& operator=(const NatsEventPublisher&) = delete;

  /// Starts the thread. Call once.
  void start();
  /// Stops the thread after the publish in progress (at most the connection's request
  /// timeout). Idempotent.
  void stop();
  /// Makes the publisher read the outbox now. Thread-safe, never blocks.
  void wake();
  /// A function calling wake() that stays safe after the publisher is gone (then a no-op):
  /// chain it into EventOutbox's `on_persisted`.
  std::function<void()> waker() const;

  struct Stats {
    uint64_t published = 0;      ///< events JetStream acknowledged
    uint64_t failures = 0;       ///< failed attempts (retried)
    uint64_t unpublishable = 0;  ///< events passed over
    int64_t cursor = 0;          ///< outbox sequence of the last event done with
  };
  /// Thread-safe.
  Stats stats() const;

  /// {prefix}.{domain token}.events.{callback name of event.name, e.g. recordingReady}.
  static std::string subjectFor(std::string_view prefix, const db::OutboxEvent& event);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace siprecd::control
