#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>

#include "base/clock.hpp"
#include "control/event_outbox.hpp"
#include "control/webhook_client.hpp"
#include "db/repository.hpp"

namespace siprecd::control {

struct EventDispatcherSettings {
  /// How often the outbox is polled for due retries; emit() and completed writes also wake
  /// the dispatcher, so new events do not wait for it.
  std::chrono::milliseconds poll_interval{200};
  /// Limit of one delivery attempt (connect to end of response).
  std::chrono::milliseconds request_timeout{10000};
  /// Back-off after the n-th failed attempt: min(max_backoff, initial_backoff * 2^(n-1)),
  /// shortened by a random part of up to `jitter` (0..1) of itself.
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_backoff{std::chrono::minutes(5)};
  double jitter = 0.2;
  /// An event still undelivered this long after it was created is marked dead after its
  /// next failed attempt (config: events_max_age_s).
  std::chrono::seconds max_age{std::chrono::hours(24)};
  /// Events read from the outbox per poll.
  std::size_t batch_limit = 1000;
  /// Concurrent deliveries per domain; further due events of the domain wait.
  std::size_t max_in_flight_per_domain = 16;
  /// Uniform random numbers in [0, 1) for the jitter; empty: a real random source. Tests
  /// inject a fixed value.
  std::function<double()> random_fraction;
};

/// Delivers the outbox (DESIGN.md §2 "Callbacks and events"): POST {callbackBase}/{name}
/// with the stored body, Content-Type application/json, X-Siprecd-Event (the method),
/// X-Siprecd-Event-Id and, when the domain has a callback_secret, X-Siprecd-Signature
/// (callback_signature.hpp). A 2xx answer marks the event delivered; anything else is
/// retried with exponential back-off; past max_age it is marked dead. Events of one
/// recording go out one at a time in order (the repository hands out only each
/// recording's oldest pending event); different recordings and domains are delivered
/// concurrently, so a slow endpoint delays only its own domain. Everything lives in the
/// repository, so a restarted dispatcher carries on where the previous one stopped (an
/// event in flight at a stop is delivered again: at least once).
///
/// Owns one thread. Metrics: siprecd_events_delivered_total, siprecd_events_failed_total
/// (failed attempts), siprecd_events_dead_total, siprecd_events_pending,
/// siprecd_events_delivery_latency_seconds (creation to delivery),
/// siprecd_events_request_duration_seconds.
class EventDispatcher {
 public:
  /// Borrows everything but the settings; all must outlive the dispatcher (or its stop()).
  /// `clock` gives the epoch time for due dates, ages and signatures.
  EventDispatcher(db::Repository& repository, WebhookClient& client, DomainLookup domains,
                  const Clock& clock, EventDispatcherSettings settings = {});
  /// stop().
  ~EventDispatcher();
  EventDispatcher(const EventDispatcher&) = delete;
  EventDispatcher& operator=(const EventDispatcher&) = delete;

  /// Starts the thread. Call once.
  void start();
  /// Stops the thread and abandons the requests in flight (their events stay pending).
  /// Idempotent. Writes already queued in the repository still complete (repository.flush()).
  void stop();

  /// Makes the dispatcher poll now. Thread-safe, never blocks.
  void wake();
  /// A function calling wake() that stays safe to call after the dispatcher is gone (it
  /// then does nothing): pass it as EventOutbox's `on_persisted`.
  std::function<void()> waker() const;

  /// The back-off before the attempt following failed attempt number `attempts` (>= 1),
  /// with `random_fraction` in [0, 1).
  static std::chrono::milliseconds backoff(const EventDispatcherSettings& settings, int attempts,
                                           double random_fraction);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace siprecd::control
