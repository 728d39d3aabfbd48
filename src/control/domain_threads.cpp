#include "control/domain_threads.hpp"

#include <pthread.h>

namespace siprecd::control {
namespace {

/// Linux allows 15 bytes plus the terminator.
constexpr std::size_t kMaxThreadNameBytes = 15;

}  // namespace

DomainThreads::~DomainThreads() {
  join();
}

bool DomainThreads::start(const std::vector<std::string>& names,
                          const std::function<void(std::size_t)>& body) {
  if (started_) {
    return false;
  }
  started_ = true;
  threads_.reserve(names.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    threads_.emplace_back([body, i, name = names[i].substr(0, kMaxThreadNameBytes)] {
      ::pthread_setname_np(::pthread_self(), name.c_str());
      body(i);
    });
  }
  return true;
}

void DomainThreads::join() {
  for (std::thread& thread : threads_) {
    if (thread.joinable()) {
      thread.join();
    }
  }
}

}  // namespace siprecd::control
