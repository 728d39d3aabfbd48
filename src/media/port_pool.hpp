#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>

#include "media/media_settings.hpp"

namespace siprecd::media {

/// The even RTP ports of a range (RTCP = port + 1, RFC 3550 §11), handed out in FIFO order
/// so that a released port is reused as late as possible, and never before its cool-down
/// ended. Not thread-safe: the owner serialises calls.
class PortPool {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  PortPool(PortRange range, std::chrono::steady_clock::duration cooldown);

  /// The next free port whose cool-down ended by `now`; nullopt when none is.
  std::optional<uint16_t> acquire(TimePoint now);
  /// Returns a port that carried traffic: it is handed out again from `now + cooldown`.
  void release(uint16_t port, TimePoint now);
  /// Returns a port that never received (its stream failed to open): reusable at once.
  void releaseUnused(uint16_t port);

  /// Number of RTP ports the range holds.
  std::size_t capacity() const { return capacity_; }

 private:
  struct Cooling {
    uint16_t port;
    TimePoint ready_at;
  };

  std::chrono::steady_clock::duration cooldown_;
  std::size_t capacity_ = 0;
  std::deque<uint16_t> free_;
  std::deque<Cooling> cooling_;  ///< ordered by ready_at (constant cool-down)
};

}  // namespace siprecd::media
