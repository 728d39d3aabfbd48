#include "media/spool_closer.hpp"

#include <optional>

namespace siprecd::media {

SpoolCloser::~SpoolCloser() {
  stop();
}

void SpoolCloser::start() {
  std::lock_guard lock(mutex_);
  if (running_ || stopping_) {
    return;
  }
  running_ = true;
  thread_ = std::thread([this] { run(); });
}

void SpoolCloser::submit(SpoolWriter writer, Done done) {
  Job job{std::move(writer), std::move(done), {}};
  {
    std::lock_guard lock(mutex_);
    if (running_) {
      jobs_.push_back(std::move(job));
      wakeup_.notify_one();
      return;
    }
  }
  finishJob(job);
}

void SpoolCloser::submitSync(SpoolSync sync) {
  std::vector<SpoolSync> syncs;
  syncs.push_back(std::move(sync));
  submitSyncs(std::move(syncs));
}

void SpoolCloser::submitSyncs(std::vector<SpoolSync> syncs) {
  if (syncs.empty()) {
    return;
  }
  std::lock_guard lock(mutex_);
  if (running_) {
    jobs_.push_back(Job{std::nullopt, nullptr, std::move(syncs)});
    wakeup_.notify_one();
  }
}

void SpoolCloser::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    wakeup_.notify_one();
  }
  if (thread_.joinable()) {
    thread_.join();
  }
}

void SpoolCloser::run() {
  while (true) {
    std::optional<Job> job;
    {
      std::unique_lock lock(mutex_);
      wakeup_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) {
        running_ = false;
        return;
      }
      job.emplace(std::move(jobs_.front()));
      jobs_.pop_front();
    }
    finishJob(*job);
  }
}

void SpoolCloser::finishJob(Job& job) {
  if (!job.syncs.empty()) {
    SpoolSync::runBatch(job.syncs);
  }
  if (!job.writer) {
    return;
  }
  auto outcome = job.writer->finish();
  if (job.done) {
    job.done(job.writer->stats(), std::move(outcome));
  }
}

}  // namespace siprecd::media
