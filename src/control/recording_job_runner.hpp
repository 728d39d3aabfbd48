#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/clock.hpp"
#include "base/worker_pool.hpp"
#include "control/domain_settings.hpp"
#include "control/event_sink.hpp"
#include "control/recording_jobs.hpp"
#include "db/repository.hpp"
#include "storage/destination.hpp"

namespace siprecd::control {

/// RecordingJobs on the worker pool (DESIGN.md §2 STORERECORDING / DELETERECORDING).
///
/// store(): checks synchronously (404 unknown recording or another domain's; 409 not
/// ready/stored or a job already running for it; 400 unknown destination, missing or
/// non-http(s) url for an http destination, bad key template), persists `storing`, then on
/// the pool renders the session's spools ({data_dir}/sessions/{id}, see recording_job_plan)
/// into a temporary file in the session directory, puts it to the destination under the
/// expanded key, stores `<key without .ext>.json` (recording.json plus a "store" object) and
/// `.xml` (the RFC 7865 metadata as received, when any) beside it (not for http: a pre-signed
/// URL names one object only), persists `stored` (stored_json) and emits RECORDINGSTORED; on
/// failure it persists the previous state (ready/stored) with `error` and emits
/// RECORDINGFAILED {reason, stage: "render"|"upload", kept: "temp recording", destination}.
/// Temporary files are removed either way.
///
/// remove(): 404 as above; 409 while the call is live (offered/recording/paused), while
/// storing, when already deleted/declined/cancelled (nothing is kept), or when a job runs;
/// then on the pool deletes the session directory, persists `deleted` (audio_path cleared)
/// and emits RECORDINGDELETED {reason}. A directory that cannot be deleted keeps the state
/// and emits RECORDINGFAILED {stage: "delete"} (command) or only logs (retention).
///
/// Every event is emitted after the state write it announces was queued (EventSink orders
/// it after them). A recording is "busy" from the check until its final write is committed,
/// so a follow-up command sees the new state. Thread-safe; store()/remove() do one database
/// read and return at once.
class RecordingJobRunner final : public RecordingJobs {
 public:
  struct Settings {
    std::filesystem::path data_dir;  ///< sessions live in {data_dir}/sessions/{id}
    /// Used for StoreRequest::destination == "http" when the domain has no destination of
    /// that name; null: an HttpDestination with default settings.
    std::shared_ptr<storage::Destination> http;
  };

  /// Borrows `repository`, `events`, `workers` and `clock`: they must outlive the runner
  /// (see stop() for the shutdown order).
  RecordingJobRunner(db::Repository& repository, EventSink& events, WorkerPool& workers,
                     const Clock& clock, DomainDirectory domains, Settings settings);
  ~RecordingJobRunner() override;
  RecordingJobRunner(const RecordingJobRunner&) = delete;
  RecordingJobRunner& operator=(const RecordingJobRunner&) = delete;

  Result<void> store(StoreRequest request) override;
  Result<void> remove(std::string domain, std::string recording_id, std::string reason) override;

  /// Auto-store (DESIGN.md §2): call when a recording became `ready` (after its write was
  /// queued), from any thread; never blocks. When the domain has an auto-store policy, a
  /// store() with it starts once that write is committed; a store that cannot start (e.g.
  /// the policy names an unknown destination) emits RECORDINGFAILED {stage: "auto-store"}.
  void onRecordingReady(std::string domain, std::string recording_id);

  /// Start-up, before commands are accepted: a recording left `storing` by a crash goes
  /// back to `stored` (when it has stored_json) or `ready`, with RECORDINGFAILED {reason,
  /// stage: "interrupted"}, and the session's temporary store files are removed. Blocking
  /// (database); call on the worker pool or before the loops start.
  void recoverInterruptedJobs();

  /// Whether a store or delete runs for the recording (the retention janitor skips it).
  bool busy(std::string_view recording_id) const;
  /// Blocks until no job runs and no auto-store is pending (tests, drain). Not from a job.
  void waitIdle();
  /// Refuses new work from now on (store/remove answer 503; pending auto-stores are dropped).
  /// Shutdown order: retention janitor stop(), this stop(), destroy the WorkerPool (finishes
  /// running jobs), repository flush(), then destroy this runner.
  void stop();

 private:
  struct Shared;
  struct StoreJob;

  Result<std::shared_ptr<const DomainSettings>> domain(const std::string& name) const;
  /// A recording marked busy for one job, with its record; see claim().
  class Claim;
  /// Marks the recording busy (409 when a job already runs for it, 503 while stopping) and
  /// reads its record (404 when unknown or of another domain). The claim is released when
  /// dropped unless handed to the job (Claim::handOver()), which releases it when done.
  Result<Claim> claim(const std::string& domain, const std::string& recording_id);
  void releaseAfterWrites(const std::string& recording_id);
  /// Runs `job` on the worker pool, counted for waitIdle().
  void postJob(std::function<void()> job);
  void runStore(StoreJob job);
  void finishStoreFailure(StoreJob& job, std::string stage, std::string reason);
  void runRemove(db::RecordingRecord record, std::string reason);

  db::Repository& repository_;
  EventSink& events_;
  WorkerPool& workers_;
  const Clock& clock_;
  const DomainDirectory domains_;
  const Settings settings_;
  /// Outlives the runner in afterWrites callbacks that release a recording.
  std::shared_ptr<Shared> shared_;
};

}  // namespace siprecd::control
