#include "control/retention_janitor.hpp"

#include <algorithm>
#include <system_error>

#include "base/log.hpp"
#include "control/recording_job_plan.hpp"

namespace siprecd::control {
namespace {

constexpr std::string_view kComponent = "retention";

bool keepsNoCopy(std::string_view state) {
  return state == "declined" || state == "cancelled" || state == "deleted";
}

}  // namespace

RetentionJanitor::RetentionJanitor(db::Repository& repository, RecordingJobs& jobs,
                                   const Clock& clock, DomainDirectory domains,
                                   RetentionSettings settings)
    : repository_(repository),
      jobs_(jobs),
      clock_(clock),
      domains_(std::move(domains)),
      settings_(std::move(settings)) {}

RetentionJanitor::~RetentionJanitor() {
  stop();
}

std::chrono::milliseconds RetentionJanitor::retentionOf(const std::string& domain) const {
  const auto it = domains_.find(domain);
  return it != domains_.end() && it->second ? it->second->retention : settings_.default_retention;
}

RetentionJanitor::Round RetentionJanitor::runOnce() {
  std::lock_guard round_lock(round_mutex_);
  Round round;
  std::chrono::milliseconds shortest = settings_.default_retention;
  for (const auto& [name, domain] : domains_) {
    if (domain) {
      shortest = std::min<std::chrono::milliseconds>(shortest, domain->retention);
    }
  }
  const int64_t now_ms = clock_.epochMs();
  auto candidates = repository_.recordingsCreatedBefore(now_ms - shortest.count(), settings_.batch);
  if (!candidates) {
    log::error(kComponent, "cannot list recordings past retention: {}", candidates.error().message);
  } else {
    for (const db::RecordingRecord& record : *candidates) {
      if (record.created_ms >= now_ms - retentionOf(record.domain).count()) {
        continue;  // a domain with a longer retention
      }
      auto removed = jobs_.remove(record.domain, record.id, "retention");
      if (removed) {
        ++round.removed;
      } else if (removed.error().code == 409 || removed.error().code == 503) {
        ++round.skipped;
        log::debug(kComponent, "recording {} kept for now: {}", record.id, removed.error().message);
      } else {
        log::warn(kComponent, "cannot delete recording {}: {}", record.id, removed.error().message);
      }
    }
  }
  round.swept = sweepAbandoned();
  if (round.removed + round.swept > 0) {
    log::info(kComponent, "retention round: {} deleted, {} directories swept, {} kept for now",
              round.removed, round.swept, round.skipped);
  }
  return round;
}

std::size_t RetentionJanitor::sweepAbandoned() {
  std::size_t swept = 0;
  std::error_code error;
  const auto sessions = settings_.data_dir / "sessions";
  for (std::filesystem::directory_iterator it(sessions, error), end; !error && it != end;
       it.increment(error)) {
    std::error_code kind_error;
    if (!it->is_directory(kind_error) || it->is_symlink(kind_error)) {
      continue;
    }
    const std::string id = it->path().filename().string();
    if (!sessionDirectory(settings_.data_dir, id)) {
      continue;
    }
    auto found = repository_.findRecording(id);
    if (!found) {
      log::error(kComponent, "cannot look up recording {}: {}", id, found.error().message);
      return swept;
    }
    if (!*found || !keepsNoCopy((*found)->state)) {
      continue;  // unknown ids are never deleted: the row may not be committed yet
    }
    std::error_code remove_error;
    std::filesystem::remove_all(it->path(), remove_error);
    if (remove_error) {
      log::warn(kComponent, "cannot remove the directory of {} recording {}: {}", (*found)->state,
                id, remove_error.message());
    } else {
      ++swept;
    }
  }
  return swept;
}

void RetentionJanitor::start() {
  thread_ = std::thread([this] { loop(); });
}

void RetentionJanitor::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

uint64_t RetentionJanitor::rounds() const {
  std::lock_guard lock(mutex_);
  return rounds_;
}

void RetentionJanitor::loop() {
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) {
        return;
      }
    }
    try {
      runOnce();
    } catch (const std::exception& e) {
      log::error(kComponent, "retention round failed: {}", e.what());
    }
    std::unique_lock lock(mutex_);
    ++rounds_;
    wake_.wait_for(lock, settings_.interval, [this] { return stopping_; });
  }
}

}  // namespace siprecd::control
