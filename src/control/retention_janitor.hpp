#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <thread>

#include "base/clock.hpp"
#include "control/domain_settings.hpp"
#include "control/recording_jobs.hpp"
#include "db/repository.hpp"

namespace siprecd::control {

struct RetentionSettings {
  std::filesystem::path data_dir;  ///< sessions live in {data_dir}/sessions/{id}
  std::chrono::milliseconds interval{60'000};
  /// For recordings of a domain that is no longer configured.
  std::chrono::hours default_retention{48};
  /// Recordings examined per round (oldest first); the rest wait for the next round.
  std::size_t batch = 1000;
};

/// Deletes recordings nobody claimed (DESIGN.md §1: "no DELETERECORDING within the retention
/// period -> automatic delete -> RECORDINGDELETED") and leftover session directories.
/// A round lists recordings created before now - (shortest retention of any domain), and
/// for each one past its own domain's retention calls RecordingJobs::remove(domain, id,
/// "retention"); one that is live, storing or has a job running answers 409 and is tried
/// again next round. Then it sweeps {data_dir}/sessions: the directory of a recording that
/// is declined, cancelled or deleted is removed at once (no event: nothing announced is
/// lost); directories of unknown ids are left alone. Rounds run on the janitor's own thread
/// (database reads and directory walks block), the first one at start(), then every
/// `interval`; the deletes themselves run on the worker pool. `clock` gives "now".
class RetentionJanitor {
 public:
  /// Borrows everything; all must outlive the janitor (or at least its stop()).
  RetentionJanitor(db::Repository& repository, RecordingJobs& jobs, const Clock& clock,
                   DomainDirectory domains, RetentionSettings settings);
  /// Stops (joins) when still running.
  ~RetentionJanitor();
  RetentionJanitor(const RetentionJanitor&) = delete;
  RetentionJanitor& operator=(const RetentionJanitor&) = delete;

  struct Round {
    std::size_t removed = 0;  ///< deletes started
    std::size_t skipped = 0;  ///< busy or live: retried next round
    std::size_t swept = 0;    ///< directories of declined/cancelled/deleted recordings removed
  };
  /// One round now, on the calling thread (blocking). Thread-safe against the periodic
  /// rounds (they never overlap).
  Round runOnce();
  /// Only the directory sweep of a round.
  std::size_t sweepAbandoned();

  /// Starts the janitor's thread: a round at once (the start-up sweep), then one every
  /// interval. Call once.
  void start();
  /// Ends the thread (a round in progress finishes first). Idempotent.
  void stop();
  /// Rounds completed by the thread (tests, metrics).
  uint64_t rounds() const;

 private:
  void loop();
  std::chrono::milliseconds retentionOf(const std::string& domain) const;

  db::Repository& repository_;
  RecordingJobs& jobs_;
  const Clock& clock_;
  const DomainDirectory domains_;
  const RetentionSettings settings_;

  std::mutex round_mutex_;  ///< serialises rounds
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  uint64_t rounds_ = 0;    // guarded by mutex_
  std::thread thread_;
};

}  // namespace siprecd::control
