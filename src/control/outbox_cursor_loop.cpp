#include "control/outbox_cursor_loop.hpp"

#include <algorithm>
#include <utility>
#include <vector>

namespace siprecd::control {

OutboxCursorLoop::OutboxCursorLoop(db::Repository& repository, std::string cursor_name,
                                   WakeSignal& signal, Settings settings,
                                   std::string_view log_component)
    : repository_(repository),
      cursor_name_(std::move(cursor_name)),
      signal_(signal),
      settings_(settings),
      log_component_(log_component) {}

std::chrono::milliseconds OutboxCursorLoop::nextBackoff() {
  backoff_ = backoff_.count() == 0 ? settings_.initial_backoff
                                   : std::min(settings_.max_backoff, backoff_ * 2);
  return backoff_;
}

void OutboxCursorLoop::run(const Hooks& hooks) {
  while (!signal_.stopping()) {
    if (!cursor_) {
      auto loaded = repository_.publisherCursor(cursor_name_);
      if (!loaded) {
        log::limited(cursor_limiter_, log::Level::Warn, log_component_,
                     "cannot read the cursor {}: {}", cursor_name_, loaded.error().message);
        signal_.sleepFor(nextBackoff());
        continue;
      }
      cursor_ = *loaded;
      saved_cursor_ = *loaded;
      if (hooks.on_cursor_loaded) {
        hooks.on_cursor_loaded(*loaded);
      }
    }
    const Readiness readiness = hooks.ready ? hooks.ready() : Readiness::Ready;
    if (readiness == Readiness::WaitShortly) {
      signal_.sleepFor(settings_.initial_backoff);
      continue;
    }
    if (readiness == Readiness::BackOff) {
      signal_.sleepFor(nextBackoff());
      continue;
    }
    if (round(hooks)) {
      backoff_ = std::chrono::milliseconds(0);
    } else {
      signal_.sleepFor(nextBackoff());
    }
  }
}

bool OutboxCursorLoop::round(const Hooks& hooks) {
  uint64_t seen = signal_.generation();  // a wake() from here on ends the idle wait
  auto events = repository_.eventsAfter(*cursor_, settings_.batch_limit);
  if (!events) {
    log::limited(outbox_limiter_, log::Level::Warn, log_component_, "cannot read the outbox: {}",
                 events.error().message);
    return false;
  }
  if (events->empty()) {
    signal_.waitForWake(settings_.poll_interval, seen);
    return true;
  }
  const int64_t before = *cursor_;
  bool done = true;
  for (const db::OutboxEvent& event : *events) {
    if (signal_.stopping()) {
      break;
    }
    if (hooks.publish(event) == Step::Retry) {
      done = false;
      break;
    }
    cursor_ = event.sequence;
  }
  if (*cursor_ != before) {
    repository_.savePublisherCursor(cursor_name_, *cursor_);
    saved_cursor_ = *cursor_;
  }
  return done;
}

}  // namespace siprecd::control
