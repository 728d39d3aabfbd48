#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/unique_fd.hpp"
#include "media/receive_loop.hpp"

namespace siprecd::media {

namespace {

/// Readiness events taken per epoll_wait.
constexpr int kMaxEvents = 512;
/// Datagrams per recvmmsg call, and calls per readable socket per wake-up (fairness).
constexpr std::size_t kBatchDatagrams = 32;
constexpr int kMaxBatchesPerSocket = 8;
/// Larger datagrams are reported truncated (MSG_TRUNC): audio RTP fits with room.
constexpr std::size_t kDatagramBytes = 4096;

/// Edge-triggered epoll over the thread's sockets (one readiness check per wake-up instead
/// of two); each readable socket is drained with recvmmsg into arrays allocated once until
/// it is empty, or, past the fairness cap, put on a backlog drained at the next turn.
class RecvmmsgReceiveLoop final : public ReceiveLoop {
 public:
  RecvmmsgReceiveLoop(UniqueFd epoll, int wakeup_fd, const Clock& clock)
      : epoll_(std::move(epoll)), wakeup_fd_(wakeup_fd), clock_(clock) {
    backlog_.reserve(kMaxEvents);
    draining_.reserve(kMaxEvents);
    for (std::size_t i = 0; i < kBatchDatagrams; ++i) {
      iov_[i] = iovec{data_.data() + i * kDatagramBytes, kDatagramBytes};
      messages_[i].msg_hdr.msg_name = &sources_[i];
      messages_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
      messages_[i].msg_hdr.msg_iov = &iov_[i];
      messages_[i].msg_hdr.msg_iovlen = 1;
    }
  }

  ReceiveBackend backend() const override { return ReceiveBackend::Recvmmsg; }

  bool watch(int fd, uint64_t key) override {
    epoll_event event{};
    event.events = EPOLLIN | EPOLLET;
    event.data.u64 = key;
    return ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event) == 0;
  }

  void unwatch(int fd, uint64_t /*key*/) override {
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  }

  void poll(std::chrono::milliseconds timeout, DatagramSink& sink) override {
    // Sockets left readable by the previous turn come first; they will not signal again.
    draining_.swap(backlog_);
    backlog_.clear();
    for (uint64_t key : draining_) {
      const int fd = sink.socketFd(key);
      if (fd >= 0) {
        drain(fd, key, sink);
      }
    }
    const bool busy = !draining_.empty();
    draining_.clear();
    const int ready = ::epoll_wait(epoll_.get(), events_.data(), kMaxEvents,
                                   busy ? 0 : static_cast<int>(timeout.count()));
    for (int i = 0; i < ready; ++i) {
      const uint64_t key = events_[static_cast<std::size_t>(i)].data.u64;
      if (key == kReceiveLoopWakeupKey) {
        uint64_t count = 0;
        [[maybe_unused]] const ssize_t drained = ::read(wakeup_fd_, &count, sizeof(count));
        sink.onWakeup();
        continue;
      }
      const int fd = sink.socketFd(key);
      if (fd >= 0) {
        drain(fd, key, sink);
      }
    }
  }

  /// Registers the wake-up eventfd.
  bool watchWakeup() {
    epoll_event event{};
    event.events = EPOLLIN;  // level-triggered: poll() reads it empty each time
    event.data.u64 = kReceiveLoopWakeupKey;
    return ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wakeup_fd_, &event) == 0;
  }

 private:
  void drain(int fd, uint64_t key, DatagramSink& sink) {
    for (int batch = 0; batch < kMaxBatchesPerSocket; ++batch) {
      const int received = ::recvmmsg(fd, messages_.data(), kBatchDatagrams, MSG_DONTWAIT, nullptr);
      if (received <= 0) {
        return;
      }
      const int64_t arrival_epoch_us = arrivalEpochMicros(clock_);
      const auto count = static_cast<std::size_t>(received);
      for (std::size_t i = 0; i < count; ++i) {
        msghdr& header = messages_[i].msg_hdr;
        Datagram datagram;
        datagram.bytes =
            std::span<const std::byte>(data_.data() + i * kDatagramBytes,
                                       std::min<std::size_t>(messages_[i].msg_len, kDatagramBytes));
        datagram.source = &sources_[i];
        datagram.source_length = header.msg_namelen;
        datagram.truncated = (header.msg_flags & MSG_TRUNC) != 0;
        sink.onDatagram(key, datagram, arrival_epoch_us);
        // recvmmsg overwrote these: restore them for the next call.
        header.msg_namelen = sizeof(sockaddr_storage);
        header.msg_flags = 0;
      }
      if (count < kBatchDatagrams) {
        return;  // empty: the next datagram raises a new edge
      }
    }
    backlog_.push_back(key);
  }

  UniqueFd epoll_;
  int wakeup_fd_;
  const Clock& clock_;
  std::array<epoll_event, kMaxEvents> events_{};
  /// Sockets that may still hold datagrams (the fairness cap stopped their drain).
  std::vector<uint64_t> backlog_;
  std::vector<uint64_t> draining_;
  std::vector<std::byte> data_ = std::vector<std::byte>(kBatchDatagrams * kDatagramBytes);
  std::array<mmsghdr, kBatchDatagrams> messages_{};
  std::array<iovec, kBatchDatagrams> iov_{};
  std::array<sockaddr_storage, kBatchDatagrams> sources_{};
};

}  // namespace

Result<std::unique_ptr<ReceiveLoop>> createRecvmmsgReceiveLoop(int wakeup_fd, const Clock& clock) {
  UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll.valid()) {
    return fail(std::string("media epoll_create1: ") + std::strerror(errno));
  }
  auto loop = std::make_unique<RecvmmsgReceiveLoop>(std::move(epoll), wakeup_fd, clock);
  if (!loop->watchWakeup()) {
    return fail(std::string("media epoll_ctl(eventfd): ") + std::strerror(errno));
  }
  return std::unique_ptr<ReceiveLoop>(std::move(loop));
}

}  // namespace siprecd::media
