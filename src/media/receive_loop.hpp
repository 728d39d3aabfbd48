#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include <sys/socket.h>

#include "base/clock.hpp"
#include "base/result.hpp"
#include "media/media_settings.hpp"

namespace siprecd::media {

/// One received datagram: views into the receive loop's buffers, valid only during the
/// DatagramSink::onDatagram() call that hands it over.
struct Datagram {
  std::span<const std::byte> bytes;
  const sockaddr_storage* source = nullptr;  ///< the sender (AF_INET or AF_INET6)
  socklen_t source_length = 0;
  bool truncated = false;  ///< larger than the loop's buffer: `bytes` holds only a prefix
};

/// What a receive loop reports to its media thread. Every call happens on that thread,
/// inside ReceiveLoop::poll().
class DatagramSink {
 public:
  virtual ~DatagramSink() = default;
  /// A datagram arrived on the socket watched under `key` at `arrival_epoch_us` (taken
  /// once per batch). Must not block or allocate.
  virtual void onDatagram(uint64_t key, const Datagram& datagram, int64_t arrival_epoch_us) = 0;
  /// The wake-up descriptor fired (the loop already reset it): commands are waiting.
  virtual void onWakeup() = 0;
  /// The descriptor of the socket watched under `key`, or -1 when it is gone.
  virtual int socketFd(uint64_t key) = 0;
};

/// How one media thread waits for its sockets (MediaSettings::receive_backend). Created,
/// used and destroyed on that thread only. No allocation per datagram.
class ReceiveLoop {
 public:
  virtual ~ReceiveLoop() = default;

  virtual ReceiveBackend backend() const = 0;
  /// Starts receiving on the non-blocking UDP socket `fd` under `key` (any value but the
  /// two highest, which the loops keep for themselves). Returns false when the kernel
  /// refuses (out of memory or watches); the socket then receives nothing.
  virtual bool watch(int fd, uint64_t key) = 0;
  /// Stops receiving on `fd`; call before closing it. Datagrams already received may still
  /// be reported under `key` by the next poll(): the sink ignores keys it no longer knows.
  virtual void unwatch(int fd, uint64_t key) = 0;
  /// Waits up to `timeout` for datagrams or a wake-up and reports what arrived to `sink`.
  virtual void poll(std::chrono::milliseconds timeout, DatagramSink& sink) = 0;
};

/// Keys the loops use for themselves; socket keys stay below them.
inline constexpr uint64_t kReceiveLoopWakeupKey = ~uint64_t{0};
inline constexpr uint64_t kReceiveLoopInternalKey = ~uint64_t{0} - 1;

/// epoll + recvmmsg. `wakeup_fd` is an eventfd the loop watches (and resets); the caller
/// keeps it open. Fails when epoll cannot be created.
[[nodiscard]] Result<std::unique_ptr<ReceiveLoop>> createRecvmmsgReceiveLoop(int wakeup_fd,
                                                                             const Clock& clock);

/// io_uring multishot recvmsg with a ring of provided buffers; must be created on the thread
/// that uses it. Fails, saying why, when this build has no liburing, the kernel lacks a
/// feature (or forbids io_uring), or a self-test on a loopback socket does not receive.
[[nodiscard]] Result<std::unique_ptr<ReceiveLoop>> createUringReceiveLoop(int wakeup_fd,
                                                                          const Clock& clock);

/// Arrival stamp of the receive loops: `clock`'s system time in epoch microseconds.
inline int64_t arrivalEpochMicros(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::microseconds>(clock.systemNow().time_since_epoch())
      .count();
}

}  // namespace siprecd::media
