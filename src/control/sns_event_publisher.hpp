#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "control/aws_query_client.hpp"
#include "db/repository.hpp"

namespace siprecd::control {

/// One domain's SNS topic.
struct SnsTopic {
  std::string domain;
  std::string topic_arn;
  AwsServiceSettings service;  ///< service "sns", the topic's region, endpoint, credentials
};

struct SnsEventPublisherSettings {
  /// How often the outbox is read when nothing woke the publisher.
  std::chrono::milliseconds poll_interval{200};
  /// Events read from the outbox per round.
  std::size_t batch_limit = 256;
  /// Pause after a failed publish: doubles from initial_backoff up to max_backoff.
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{30'000};
  /// One Publish request may take this long.
  std::chrono::milliseconds request_timeout{10'000};
};

/// Publishes every outbox event of a domain to the domain's SNS topic (DESIGN.md §2
/// "Callbacks and events": events are also published, with the same JSON, to the domain's
/// SNS topic): Publish (Query protocol, SigV4 "sns") with Message = the stored body byte
/// for byte (the webhook's JSON) and the String message attributes `event` (the method,
/// e.g. RECORDINGSTORED), `eventId`, `recordingId` and `domain`.
///
/// Durable, at least once, in order: per domain one thread reads the outbox by sequence
/// after its own cursor (Repository::publisherCursor("sns:<domain>")), publishes one event
/// at a time and saves the cursor after each round; events of other domains are passed
/// over. A failed publish (no answer, 5xx, throttling, denied access, unknown topic) is
/// retried with back-off and holds back the domain's later events (so each recording's
/// events stay in order); webhooks, NATS and other domains go on. An event SNS refuses for
/// good (InvalidParameter, e.g. larger than 256 KiB) is logged, counted and passed over.
/// After a restart the events after the saved cursor go out again: subscribers
/// de-duplicate by eventId. With no saved cursor a domain starts at the outbox's oldest
/// event.
///
/// Metrics: siprecd_sns_events_published_total, siprecd_sns_publish_failures_total (failed
/// attempts, retried), siprecd_sns_events_unpublishable_total (passed over).
class SnsEventPublisher {
 public:
  /// The cursor's name in the repository for `domain`.
  static std::string cursorName(std::string_view domain);

  /// Borrows `repository` (must outlive the publisher or its stop()).
  SnsEventPublisher(db::Repository& repository, std::vector<SnsTopic> topics,
                    SnsEventPublisherSettings settings = {});
  /// stop().
  ~SnsEventPublisher();
  SnsEventPublisher(const SnsEventPublisher&) = delete;
  SnsEventPublisher& operator=(const SnsEventPublisher&) = delete;

  /// Starts one thread per topic. Call once.
  void start();
  /// Stops the threads, abandoning a publish in progress (within about a second).
  /// Idempotent.
  void stop();
  /// Makes the publishers read the outbox now. Thread-safe, never blocks.
  void wake();
  /// A function calling wake() that stays safe after the publisher is gone (then a no-op):
  /// chain it into EventOutbox's `on_persisted`.
  std::function<void()> waker() const;

  struct Stats {
    uint64_t published = 0;
    uint64_t failures = 0;
    uint64_t unpublishable = 0;
  };
  /// Totals over all domains. Thread-safe.
  Stats stats() const;

  /// The message attributes of `event` (event, eventId, recordingId, domain).
  static std::vector<StringAttribute> attributesOf(const db::OutboxEvent& event);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace siprecd::control
