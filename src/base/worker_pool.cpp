#include "base/worker_pool.hpp"

#include <cstdio>
#include <exception>

namespace siprecd {

WorkerPool::WorkerPool(std::size_t threads) {
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) {
    threads_.emplace_back([this] { run(); });
  }
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& thread : threads_) {
    thread.join();
  }
}

void WorkerPool::post(std::function<void()> job) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
}

std::size_t WorkerPool::pending() const {
  std::lock_guard lock(mutex_);
  return jobs_.size() + running_;
}

void WorkerPool::run() {
  while (true) {
    std::function<void()> job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) {
        return;  // stopping and drained
      }
      job = std::move(jobs_.front());
      jobs_.pop_front();
      ++running_;
    }
    try {
      job();
    } catch (const std::exception& error) {
      // Jobs turn their own failures into results; reaching here is a bug in a job.
      std::fprintf(stderr, "worker job threw: %s\n", error.what());
    }
    std::lock_guard lock(mutex_);
    --running_;
  }
}

}  // namespace siprecd
