#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "base/result.hpp"
#include "media/spool_writer.hpp"

namespace siprecd::media {

/// A thread that finishes spool writers (flush, fdatasync, close) and runs their periodic
/// syncs (SpoolSync) so that no blocking sync runs on a media thread (STYLE.md "Threads").
/// Jobs run in submission order.
class SpoolCloser {
 public:
  /// Called on the closer's thread once the writer is finished, with its final counters
  /// and the outcome of SpoolWriter::finish().
  using Done = std::function<void(const SpoolWriterStats&, Result<void>)>;

  SpoolCloser() = default;
  /// Finishes the queued writers, then stops the thread.
  ~SpoolCloser();
  SpoolCloser(const SpoolCloser&) = delete;
  SpoolCloser& operator=(const SpoolCloser&) = delete;

  /// Starts the thread. Call once, before submit().
  void start();
  /// Queues `writer`; `done` runs on the closer's thread. Thread-safe. Without a running
  /// thread (never started, or stopped) the writer is finished on the caller's thread.
  void submit(SpoolWriter writer, Done done);
  /// Queues a periodic sync (from SpoolWriter::periodicFlush). Thread-safe; never blocks on
  /// I/O. Without a running thread the sync is dropped (the writer may hand out the next
  /// one; finish() syncs anyway).
  void submitSync(SpoolSync sync);
  /// Queues periodic syncs to run together (SpoolSync::runBatch: one syncfs per file system
  /// for all of them). Thread-safe; never blocks on I/O; dropped like submitSync's when the
  /// thread is not running.
  void submitSyncs(std::vector<SpoolSync> syncs);
  /// Finishes every queued writer, then joins the thread. Idempotent.
  void stop();

 private:
  struct Job {
    std::optional<SpoolWriter> writer;
    Done done;
    std::vector<SpoolSync> syncs;
  };

  void run();
  static void finishJob(Job& job);

  std::mutex mutex_;
  std::condition_variable wakeup_;
  std::deque<Job> jobs_;   // guarded by mutex_
  bool running_ = false;   // guarded by mutex_
  bool stopping_ = false;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace siprecd::media
