#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "control/aws_query_client.hpp"
#include "control/command_handler.hpp"

namespace siprecd::control {

/// One domain's command queue.
struct SqsQueue {
  std::string domain;
  std::string queue_url;
  /// Where malformed and refused commands go; "" : they are deleted (and counted).
  std::string dead_letter_queue_url;
  /// A received command stays invisible this long; a command left in the queue (a
  /// transient failure) comes back after it.
  int visibility_timeout_s = 60;
  /// A command received this many times (ApproximateReceiveCount) that still fails
  /// transiently is moved aside.
  int max_receives = 10;
  AwsServiceSettings service;  ///< service "sqs", region, endpoint, credentials
};

struct SqsCommandConsumerSettings {
  int wait_seconds = 20;  ///< long polling (0..20)
  int max_messages = 10;  ///< per ReceiveMessage (1..10)
  /// Pause after a failed ReceiveMessage: doubles from initial_backoff up to max_backoff.
  std::chrono::milliseconds initial_backoff{1'000};
  std::chrono::milliseconds max_backoff{30'000};
  /// Timeout of DeleteMessage and SendMessage requests.
  std::chrono::milliseconds request_timeout{10'000};
};

/// What is done with a received command.
enum class SqsDisposition {
  Delete,     ///< accepted (2xx): DeleteMessage; its outcome is announced by the events
  MoveAside,  ///< malformed, refused (4xx) or failing too often: to the dead-letter queue
  Leave,      ///< transient failure (429, 5xx): comes back after the visibility timeout
};

/// Why, for counting and logging.
enum class SqsReason { Accepted, Malformed, Refused, Transient, GivenUp };

struct SqsDecision {
  SqsDisposition disposition = SqsDisposition::Leave;
  SqsReason reason = SqsReason::Transient;
  int status = 0;       ///< the handler's reply status; 400 for a malformed message
  std::string message;  ///< why (the reply's error message)
};

/// Takes commands from each configured domain's SQS queue (DESIGN.md §2 "Commands": the
/// same JSON envelope as REST, from a command queue) and hands them to the CommandHandler
/// behind REST; the replies are the events (RECORDINGSTORED, ...).
///
/// Per queue one thread long-polls ReceiveMessage (AWS JSON 1.0 protocol, SigV4 "sqs";
/// WaitTimeSeconds, MaxNumberOfMessages, VisibilityTimeout) and decides per message
/// (decide()): a message body must be the command envelope {"method", "recordingId",
/// "replyId", ...}; an optional "domain" field must name the queue's domain; the message
/// attribute Idempotency-Key (else the SQS MessageId) is the command's idempotency key, so
/// a command delivered twice is answered from the idempotency store.
/// - 2xx: DeleteMessage.
/// - not a JSON object, another domain, 400 (unknown method, bad field): malformed;
///   other 4xx (unknown recording, wrong state, bad replyId): refused. Both are moved
///   aside: with a dead-letter queue SendMessage of the original body there (attributes
///   siprecd-reason, siprecd-status, siprecd-source-queue), then DeleteMessage; without
///   one DeleteMessage. Counted and logged (rate-limited) with the message id.
/// - 429, 5xx (busy, state store unavailable): left alone; SQS delivers it again after the
///   visibility timeout; after max_receives receipts it is moved aside as given up.
/// A failed DeleteMessage leaves the message to come again (the idempotency key answers
/// it); a failed SendMessage to the dead-letter queue leaves it too (moved next time).
///
/// Metrics: siprecd_sqs_commands_received_total, _accepted_total, _malformed_total,
/// _refused_total, _retried_total, _given_up_total, siprecd_sqs_receive_failures_total.
class SqsCommandConsumer {
 public:
  /// Borrows `handler` (must outlive the consumer or its stop()).
  SqsCommandConsumer(CommandHandler& handler, std::vector<SqsQueue> queues,
                     SqsCommandConsumerSettings settings = {});
  /// stop().
  ~SqsCommandConsumer();
  SqsCommandConsumer(const SqsCommandConsumer&) = delete;
  SqsCommandConsumer& operator=(const SqsCommandConsumer&) = delete;

  /// Starts one thread per queue. Call once.
  void start();
  /// Asks the threads to stop without waiting (a long poll is abandoned within about a
  /// second). Thread-safe.
  void requestStop();
  /// requestStop() and waits for the threads: the command being handled finishes;
  /// received commands not handled yet come back after their visibility timeout.
  /// Idempotent.
  void stop();

  struct Stats {
    uint64_t received = 0;
    uint64_t accepted = 0;
    uint64_t malformed = 0;
    uint64_t refused = 0;
    uint64_t retried = 0;
    uint64_t given_up = 0;
    uint64_t moved_to_dead_letter_queue = 0;
    uint64_t receive_failures = 0;
  };
  /// Totals over all queues. Thread-safe.
  Stats stats() const;

  /// Handles one message body for `queue` through `handler` and decides what becomes of
  /// it. Never throws (a handler exception counts as a 500).
  static SqsDecision decide(CommandHandler& handler, const SqsQueue& queue, std::string_view body,
                            const std::string& idempotency_key, int receive_count);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace siprecd::control
