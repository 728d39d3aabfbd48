#include "media/port_pool.hpp"

namespace siprecd::media {

PortPool::PortPool(PortRange range, std::chrono::steady_clock::duration cooldown)
    : cooldown_(cooldown) {
  uint32_t port = range.first + (range.first % 2U);
  for (; port + 1 <= range.last; port += 2) {
    free_.push_back(static_cast<uint16_t>(port));
  }
  capacity_ = free_.size();
}

std::optional<uint16_t> PortPool::acquire(TimePoint now) {
  while (!cooling_.empty() && cooling_.front().ready_at <= now) {
    free_.push_back(cooling_.front().port);
    cooling_.pop_front();
  }
  if (free_.empty()) {
    return std::nullopt;
  }
  const uint16_t port = free_.front();
  free_.pop_front();
  return port;
}

void PortPool::release(uint16_t port, TimePoint now) {
  const TimePoint ready_at = now + cooldown_;
  if (!cooling_.empty() && cooling_.back().ready_at > ready_at) {
    // The clock went backwards: keep the queue ordered by giving this port the latest time.
    cooling_.push_back(Cooling{port, cooling_.back().ready_at});
    return;
  }
  cooling_.push_back(Cooling{port, ready_at});
}

void PortPool::releaseUnused(uint16_t port) {
  free_.push_back(port);
}

}  // namespace siprecd::media
