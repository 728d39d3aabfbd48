#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace siprecd::control {

/// The threads of a background worker that runs one loop per domain (or per topic, per
/// queue, or a single one): started together once, joined together. The loop's own stop
/// condition (e.g. a WakeSignal) is the owner's; join() only waits.
///
/// start() and join() are called from the owner's thread (never from one of these
/// threads). The destructor joins.
class DomainThreads {
 public:
  DomainThreads() = default;
  /// join().
  ~DomainThreads();
  DomainThreads(const DomainThreads&) = delete;
  DomainThreads& operator=(const DomainThreads&) = delete;

  /// Starts one thread per entry of `names`: thread i runs body(i) and is named names[i]
  /// (cut to 15 bytes, the kernel's limit). Only the first call starts anything; later
  /// ones return false.
  bool start(const std::vector<std::string>& names, const std::function<void(std::size_t)>& body);
  /// Waits for every started thread to return. Idempotent.
  void join();
  /// Whether start() was called.
  bool started() const { return started_; }
  /// How many threads start() started.
  std::size_t size() const { return threads_.size(); }

 private:
  std::vector<std::thread> threads_;
  bool started_ = false;
};

}  // namespace siprecd::control
