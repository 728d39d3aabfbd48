#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/log.hpp"
#include "control/wake_signal.hpp"
#include "db/repository.hpp"

namespace siprecd::control {

/// The loop of an outbox publisher that keeps its own position (NatsEventPublisher,
/// SnsEventPublisher): durable, at least once, in order.
///
/// Loads the cursor (Repository::publisherCursor(cursor_name)) and from then on, round after
/// round, reads the events after it (Repository::eventsAfter, at most batch_limit) and hands
/// them one at a time to `publish`. An event published or passed over moves the cursor; a
/// Retry ends the round there and the loop pauses with back-off (initial_backoff doubling
/// up to max_backoff; reset by a round that ends without Retry) before reading again from
/// the cursor, so the events behind it wait. After a round that moved the cursor the
/// cursor is saved (Repository::savePublisherCursor). With nothing to read the loop waits
/// poll_interval or until a wake() of the signal (none is lost while a round runs). A
/// failure reading the cursor or the outbox is logged rate-limited and retried with
/// back-off. Ends once the signal is stopping (after the publish in progress).
class OutboxCursorLoop {
 public:
  struct Settings {
    std::chrono::milliseconds poll_interval{200};
    std::size_t batch_limit = 256;
    std::chrono::milliseconds initial_backoff{250};
    std::chrono::milliseconds max_backoff{10'000};
  };

  /// What became of one event.
  enum class Step {
    Done,   ///< published, or passed over for good: the cursor moves past it
    Retry,  ///< not published now: the round ends, the loop pauses with back-off
  };
  /// Whether the publisher can publish now (checked before each round).
  enum class Readiness {
    Ready,
    WaitShortly,  ///< not yet (e.g. reconnecting): pause initial_backoff, back-off unchanged
    BackOff,      ///< failed (logged by the check): pause with back-off
  };

  struct Hooks {
    /// Publishes one event (required). Runs on the loop's thread.
    std::function<Step(const db::OutboxEvent&)> publish;
    /// Optional; absent: always Ready.
    std::function<Readiness()> ready;
    /// Optional; called once the cursor is loaded, with its value (e.g. to log the start).
    std::function<void(int64_t)> on_cursor_loaded;
  };

  /// Borrows `repository` and `signal` (both must outlive the loop). `log_component` must
  /// be a string with static storage (a module's kComponent).
  OutboxCursorLoop(db::Repository& repository, std::string cursor_name, WakeSignal& signal,
                   Settings settings, std::string_view log_component);

  /// Runs rounds on the calling thread until the signal is stopping.
  void run(const Hooks& hooks);
  /// The last cursor loaded or saved (0 before). Thread-safe.
  int64_t savedCursor() const { return saved_cursor_.load(); }

 private:
  /// One round; false when it must be followed by a pause with back-off.
  bool round(const Hooks& hooks);
  std::chrono::milliseconds nextBackoff();

  db::Repository& repository_;
  const std::string cursor_name_;
  WakeSignal& signal_;
  const Settings settings_;
  const std::string_view log_component_;
  log::RateLimiter cursor_limiter_{1};
  log::RateLimiter outbox_limiter_{1};
  std::atomic<int64_t> saved_cursor_{0};

  // The loop's thread only.
  std::optional<int64_t> cursor_;
  std::chrono::milliseconds backoff_{0};
};

}  // namespace siprecd::control
