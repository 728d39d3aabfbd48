#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "control/command_handler.hpp"
#include "control/nats_connection.hpp"

namespace siprecd::control {

struct NatsCommandConsumerSettings {
  /// Commands arrive on {subject_prefix}.{domain}.commands; replies go to
  /// {subject_prefix}.{domain}.replies.
  std::string subject_prefix = "siprecd";
  /// Created when missing (config: nats.commands_stream); a work queue: an acknowledged
  /// command leaves the stream.
  NatsStreamSpec stream{"SIPRECD_COMMANDS", "siprecd.*.commands", true, std::chrono::hours(24),
                        std::chrono::seconds(120)};
  /// The durable pull consumer of a domain is "{durable_prefix}-{domain token}"; every node
  /// of a cluster shares it, so each command goes to one node.
  std::string durable_prefix = "siprecd";
  /// Messages asked for per fetch, and how long a fetch waits for the first one (also the
  /// longest stop() waits for an idle consumer).
  int batch = 4;
  std::chrono::milliseconds fetch_timeout{500};
  /// Unacknowledged this long, a command is delivered again (set on the consumer we create).
  std::chrono::seconds ack_wait{60};
  /// A command answered 5xx this many times is given up (acknowledged, counted as failed).
  int max_deliveries = 10;
  /// Delay before a 5xx-answered command comes back: doubles per delivery from
  /// initial_retry_delay up to max_retry_delay.
  std::chrono::milliseconds initial_retry_delay{1000};
  std::chrono::milliseconds max_retry_delay{30000};
  /// Pause before subscribing again after a failure (no connection, no stream, ...).
  std::chrono::milliseconds resubscribe_pause{1000};
  /// While idle, how often the consumer checks that its JetStream consumer still exists
  /// (a deleted stream or consumer only shows as fetches that never return a message).
  std::chrono::milliseconds consumer_check_interval{5000};
  /// Publish each final reply (not the retried 5xx ones) on {prefix}.{domain}.replies.
  bool publish_replies = true;
};

/// Takes commands from NATS JetStream (DESIGN.md §2 "Commands": the same JSON envelope as
/// REST, from a command queue) and hands them to the CommandHandler behind REST.
///
/// Per domain one durable pull consumer (created when missing with explicit acks, ack_wait
/// and unlimited deliveries; an existing one, e.g. the operator's, is used as it is) on
/// {prefix}.{natsSubjectToken(domain)}.commands in the commands stream (created when
/// missing). A message is the command envelope {"method", "recordingId", "replyId", ...};
/// the domain comes from the subject, the method from the body, the optional header
/// Idempotency-Key (else Nats-Msg-Id) becomes CommandRequest::idempotency_key, so a
/// redelivered command is answered from the idempotency store. Outcome by reply status:
/// - 2xx: accepted; acknowledged. Completion is announced by the events.
/// - 4xx: refused for good; acknowledged, counted as rejected, logged.
/// - not a JSON object: malformed; acknowledged (never redelivered), counted, logged
///   rate-limited; the reply is a 400.
/// - anything else (503 while a live session is busy, 5xx): negatively acknowledged with a
///   delay (retryDelay()); after max_deliveries deliveries acknowledged and counted as failed.
/// With publish_replies, every reply but the retried ones is published (core NATS) on
/// {prefix}.{domain}.replies: body the REST reply's JSON, headers Siprecd-Status (the HTTP
/// status), Siprecd-Command-Sequence (the command's stream sequence) and the command's
/// Idempotency-Key / Nats-Msg-Id when it had them.
///
/// Owns one thread per domain (a slow domain delays only itself). Reconnection is cnats';
/// when its stream or consumer disappears (deleted, server replaced with an empty store),
/// found by a fetch error or the idle check, it creates them again and subscribes again.
/// Metrics: siprecd_nats_commands_received_total, _accepted_total, _rejected_total,
/// _malformed_total, _retried_total, _failed_total.
class NatsCommandConsumer {
 public:
  /// Borrows `connection` and `handler` (both must outlive the consumer or its stop()).
  /// `domains`: the configured domain names.
  NatsCommandConsumer(NatsConnection& connection, CommandHandler& handler,
                      std::vector<std::string> domains, NatsCommandConsumerSettings settings = {});
  /// stop().
  ~NatsCommandConsumer();
  NatsCommandConsumer(const NatsCommandConsumer&) = delete;
  NatsCommandConsumer& operator=(const NatsCommandConsumer&) = delete;

  /// Starts the threads. Call once.
  void start();
  /// Stops taking commands: waits for the command being handled and the fetches in
  /// progress (at most fetch_timeout); fetched commands not handled yet are negatively
  /// acknowledged, so JetStream delivers them again at once (to another node). Idempotent.
  void stop();
  /// Asks the threads to stop without waiting for them (stop() still joins). Thread-safe.
  void requestStop();

  struct Stats {
    uint64_t received = 0;
    uint64_t accepted = 0;
    uint64_t rejected = 0;
    uint64_t malformed = 0;
    uint64_t retried = 0;
    uint64_t failed = 0;
  };
  /// Totals over all domains. Thread-safe.
  Stats stats() const;

  /// The redelivery delay after the `deliveries`-th delivery (>= 1) was answered 5xx.
  static std::chrono::milliseconds retryDelay(const NatsCommandConsumerSettings& settings,
                                              uint64_t deliveries);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace siprecd::control
