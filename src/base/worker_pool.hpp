#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace siprecd {

/// A fixed pool of threads for blocking work (rendering, encoding, uploads, fsync), so that
/// the SIP and media loops never block. Jobs run in submission order per free thread; a job
/// that throws is caught at the boundary and reported through `on_exception`.
/// Destruction finishes the queued jobs, then joins.
class WorkerPool {
 public:
  explicit WorkerPool(std::size_t threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  /// Queues a job. Thread-safe.
  void post(std::function<void()> job);
  /// Jobs queued or running, for metrics and drain.
  std::size_t pending() const;

 private:
  void run();

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  std::size_t running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace siprecd
