#include "control/event_dispatcher.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "base/log.hpp"
#include "base/metrics.hpp"
#include "base/random.hpp"
#include "control/callback_signature.hpp"

namespace siprecd::control {
namespace {

constexpr std::string_view kComponent = "events";
constexpr std::size_t kMaxErrorBytes = 300;
/// {base}/{name} without a doubled slash.
std::string callbackUrl(std::string_view base, std::string_view name) {
  std::string url(base);
  while (!url.empty() && url.back() == '/') {
    url.pop_back();
  }
  return url + "/" + std::string(name);
}

double realRandomFraction() {
  return static_cast<double>(randomU64() >> 11) * 0x1.0p-53;
}

struct DispatcherMetrics {
  Counter& delivered = metrics().counter("siprecd_events_delivered_total",
                                         "Events delivered to the application (2xx answer).");
  Counter& failed = metrics().counter("siprecd_events_failed_total",
                                      "Failed event delivery attempts (to be retried or dead).");
  Counter& dead =
      metrics().counter("siprecd_events_dead_total", "Events given up after the maximum age.");
  Gauge& pending = metrics().gauge("siprecd_events_pending", "Events waiting in the outbox.");
  Histogram& latency = metrics().histogram("siprecd_events_delivery_latency_seconds",
                                           "Time from an event's creation to its delivery.");
  Histogram& request = metrics().histogram("siprecd_events_request_duration_seconds",
                                           "Duration of one event delivery attempt.");
};

DispatcherMetrics& dispatcherMetrics() {
  static DispatcherMetrics instance;
  return instance;
}

}  // namespace

/// What the dispatcher thread shares with completions (client thread) and write callbacks
/// (repository thread). Outlives the dispatcher when those still hold it.
struct DispatcherShared {
  struct Outcome {
    db::OutboxEvent event;
    Result<WebhookResponse> result;
  };

  std::mutex mutex;
  std::condition_variable changed;
  bool woken = false;            // guarded by mutex
  bool stopping = false;         // guarded by mutex
  std::deque<Outcome> outcomes;  // guarded by mutex
  /// Events sent, or whose new delivery state is not committed yet: not to be sent again
  /// even though the repository may still list them as due.
  std::set<std::string> busy;  // guarded by mutex

  void wake() {
    {
      std::lock_guard lock(mutex);
      woken = true;
    }
    changed.notify_one();
  }
};

struct EventDispatcher::Impl {
  Impl(db::Repository& repository_in, WebhookClient& client_in, DomainLookup domains_in,
       const Clock& clock_in, EventDispatcherSettings settings_in)
      : repository(repository_in),
        client(client_in),
        domains(std::move(domains_in)),
        clock(clock_in),
        settings(std::move(settings_in)),
        shared(std::make_shared<DispatcherShared>()) {
    if (!settings.random_fraction) {
      settings.random_fraction = &realRandomFraction;
    }
  }

  void run();
  void poll();
  void dispatch(db::OutboxEvent event, const DomainSettings& domain);
  void settle(DispatcherShared::Outcome outcome);
  /// Queues the event's new delivery state; it stays busy until that is committed.
  void persist(const db::OutboxEvent& event);
  void refreshPendingGauge();

  db::Repository& repository;
  WebhookClient& client;
  DomainLookup domains;
  const Clock& clock;
  EventDispatcherSettings settings;
  std::shared_ptr<DispatcherShared> shared;
  DispatcherMetrics& counters = dispatcherMetrics();
  std::thread thread;
  bool started = false;

  // Dispatcher thread only.
  std::map<std::string, std::size_t> domain_in_flight;
  std::map<std::string, WebhookClient::RequestId> requests;  // by event id
  std::chrono::steady_clock::time_point next_gauge_refresh{};
};

EventDispatcher::EventDispatcher(db::Repository& repository, WebhookClient& client,
                                 DomainLookup domains, const Clock& clock,
                                 EventDispatcherSettings settings)
    : impl_(std::make_unique<Impl>(repository, client, std::move(domains), clock,
                                   std::move(settings))) {}

EventDispatcher::~EventDispatcher() {
  stop();
}

void EventDispatcher::start() {
  if (impl_->started) {
    return;
  }
  impl_->started = true;
  impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
}

void EventDispatcher::stop() {
  {
    std::lock_guard lock(impl_->shared->mutex);
    impl_->shared->stopping = true;
  }
  impl_->shared->changed.notify_one();
  if (impl_->thread.joinable()) {
    impl_->thread.join();
  }
  for (const auto& [event_id, request] : impl_->requests) {
    impl_->client.cancel(request);
  }
  impl_->requests.clear();
}

void EventDispatcher::wake() {
  impl_->shared->wake();
}

std::function<void()> EventDispatcher::waker() const {
  return [weak = std::weak_ptr<DispatcherShared>(impl_->shared)] {
    if (auto shared = weak.lock()) {
      shared->wake();
    }
  };
}

std::chrono::milliseconds EventDispatcher::backoff(const EventDispatcherSettings& settings,
                                                   int attempts, double random_fraction) {
  const double initial = static_cast<double>(settings.initial_backoff.count());
  const double ceiling = static_cast<double>(settings.max_backoff.count());
  const int exponent = std::clamp(attempts - 1, 0, 62);
  const double base = std::min(ceiling, initial * std::ldexp(1.0, exponent));
  const double jitter =
      std::clamp(settings.jitter, 0.0, 1.0) * std::clamp(random_fraction, 0.0, 1.0);
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(base * (1.0 - jitter))));
}

void EventDispatcher::Impl::run() {
  while (true) {
    std::deque<DispatcherShared::Outcome> outcomes;
    {
      std::unique_lock lock(shared->mutex);
      shared->changed.wait_for(lock, settings.poll_interval, [&] {
        return shared->stopping || shared->woken || !shared->outcomes.empty();
      });
      if (shared->stopping) {
        return;
      }
      shared->woken = false;
      outcomes.swap(shared->outcomes);
    }
    for (auto& outcome : outcomes) {
      settle(std::move(outcome));
    }
    poll();
    refreshPendingGauge();
  }
}

void EventDispatcher::Impl::poll() {
  const int64_t now_ms = clock.epochMs();
  // An event released between this snapshot and the read below may be read in its old
  // state (its new one committed meanwhile): only events busy neither before nor after the
  // read are sent. A release wakes the dispatcher, so it is seen on the next poll.
  std::set<std::string> busy_before;
  {
    std::lock_guard lock(shared->mutex);
    busy_before = shared->busy;
  }
  auto due = repository.dueEvents(now_ms, settings.batch_limit);
  if (!due) {
    static log::RateLimiter limiter(1);
    log::limited(limiter, log::Level::Warn, kComponent, "cannot read the outbox: {}",
                 due.error().message);
    return;
  }
  const bool saturated = due->size() >= settings.batch_limit;
  for (db::OutboxEvent& event : *due) {
    {
      std::lock_guard lock(shared->mutex);
      if (busy_before.contains(event.event_id) || shared->busy.contains(event.event_id)) {
        continue;
      }
    }
    const auto domain = domains ? domains(event.domain) : nullptr;
    if (!domain || domain->callback_base.empty()) {
      event.status = std::string(kEventSkipped);
      event.last_error = domain ? "no callback_base configured" : "unknown domain";
      persist(event);
      continue;
    }
    if (domain_in_flight[event.domain] >= settings.max_in_flight_per_domain) {
      if (saturated) {
        // A full batch may hide other domains' events behind this one's backlog: move the
        // backlog out of the way for about as long as the running deliveries may take.
        event.next_attempt_ms = now_ms + settings.request_timeout.count();
        persist(event);
      }
      continue;
    }
    dispatch(std::move(event), *domain);
  }
}

void EventDispatcher::Impl::dispatch(db::OutboxEvent event, const DomainSettings& domain) {
  const auto type = eventTypeOfMethod(event.name);
  WebhookRequest request;
  request.url = callbackUrl(domain.callback_base, type ? callbackName(*type) : event.name);
  request.body = event.body;
  request.timeout = settings.request_timeout;
  request.headers.emplace_back("X-Siprecd-Event", event.name);
  request.headers.emplace_back("X-Siprecd-Event-Id", event.event_id);
  if (!domain.callback_secret.empty()) {
    request.headers.emplace_back(
        std::string(kSignatureHeader),
        signCallback(domain.callback_secret, clock.epochMs() / 1000, event.body));
  }
  {
    std::lock_guard lock(shared->mutex);
    shared->busy.insert(event.event_id);
  }
  ++domain_in_flight[event.domain];
  const std::string event_id = event.event_id;
  const auto id = client.post(std::move(request),
                              [weak = std::weak_ptr<DispatcherShared>(shared),
                               event = std::move(event)](Result<WebhookResponse> result) mutable {
                                const auto target = weak.lock();
                                if (!target) {
                                  return;
                                }
                                {
                                  std::lock_guard lock(target->mutex);
                                  target->outcomes.push_back({std::move(event), std::move(result)});
                                }
                                target->changed.notify_one();
                              });
  requests[event_id] = id;
}

void EventDispatcher::Impl::settle(DispatcherShared::Outcome outcome) {
  db::OutboxEvent& event = outcome.event;
  requests.erase(event.event_id);
  if (auto it = domain_in_flight.find(event.domain); it != domain_in_flight.end()) {
    if (--it->second == 0) {
      domain_in_flight.erase(it);
    }
  }
  const int64_t now_ms = clock.epochMs();
  ++event.attempts;
  if (outcome.result) {
    counters.request.observe(static_cast<double>(outcome.result->elapsed.count()) / 1000.0);
  }
  if (outcome.result && outcome.result->isSuccess()) {
    event.status = "delivered";
    event.delivered_ms = now_ms;
    event.last_error.clear();
    counters.delivered.inc();
    counters.latency.observe(static_cast<double>(std::max<int64_t>(0, now_ms - event.created_ms)) /
                             1000.0);
    log::debug(kComponent, "event {} {} delivered (attempt {})", event.name, event.event_id,
               event.attempts);
    persist(event);
    return;
  }
  event.last_error = outcome.result ? "HTTP " + std::to_string(outcome.result->status)
                                    : outcome.result.error().message;
  if (event.last_error.size() > kMaxErrorBytes) {
    event.last_error.resize(kMaxErrorBytes);
  }
  counters.failed.inc();
  const int64_t deadline_ms =
      event.created_ms +
      std::chrono::duration_cast<std::chrono::milliseconds>(settings.max_age).count();
  if (now_ms >= deadline_ms) {
    event.status = "dead";
    counters.dead.inc();
    log::warn(kComponent, "event {} {} of recording {} is dead after {} attempts: {}", event.name,
              event.event_id, event.recording_id, event.attempts, event.last_error);
  } else {
    const auto delay =
        EventDispatcher::backoff(settings, event.attempts, settings.random_fraction());
    event.next_attempt_ms = std::min(now_ms + delay.count(), deadline_ms);
    static log::RateLimiter limiter(5);
    log::limited(limiter, log::Level::Warn, kComponent,
                 "event {} {} of recording {}: attempt {} failed ({}), next in {} ms", event.name,
                 event.event_id, event.recording_id, event.attempts, event.last_error,
                 event.next_attempt_ms - now_ms);
  }
  persist(event);
}

void EventDispatcher::Impl::persist(const db::OutboxEvent& event) {
  {
    std::lock_guard lock(shared->mutex);
    shared->busy.insert(event.event_id);
  }
  repository.updateEventDelivery(event);
  repository.afterWrites([weak = std::weak_ptr<DispatcherShared>(shared), id = event.event_id] {
    if (auto target = weak.lock()) {
      {
        std::lock_guard lock(target->mutex);
        target->busy.erase(id);
        target->woken = true;
      }
      target->changed.notify_one();
    }
  });
}

void EventDispatcher::Impl::refreshPendingGauge() {
  const auto now = std::chrono::steady_clock::now();
  if (now < next_gauge_refresh) {
    return;
  }
  next_gauge_refresh = now + std::chrono::seconds(1);
  if (auto pending = repository.pendingEventCount()) {
    counters.pending.set(static_cast<double>(*pending));
  }
}

}  // namespace siprecd::control
