#include "media/receive_loop.hpp"

#ifdef SIPRECD_HAVE_LIBURING

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <liburing.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/log.hpp"
#include "base/unique_fd.hpp"

namespace siprecd::media {

namespace {

/// Provided receive buffers of a thread (one buffer group, recycled as soon as a datagram
/// is handled). Each holds io_uring_recvmsg_out, the source address and the datagram.
constexpr unsigned kBufferCount = 4096;  // power of two (buffer ring size)
constexpr std::size_t kBufferBytes = 2048;
constexpr uint16_t kBufferGroup = 0;
/// Room for an IPv4 or IPv6 source address in each buffer.
constexpr socklen_t kNameBytes = sizeof(sockaddr_in6);
constexpr unsigned kSubmissionEntries = 4096;
/// Completions are bounded by the buffers in use plus one terminal completion per socket.
constexpr unsigned kCompletionEntries = 32768;
/// Buffers handed back to the kernel at least this often during a pass.
constexpr unsigned kBufferReturnBatch = 64;

std::string errnoText(const char* what, int error) {
  return std::string(what) + ": " + std::strerror(error);
}

/// An anonymous private mapping, unmapped on destruction.
class Mapping {
 public:
  Mapping() = default;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() {
    if (address_ != nullptr) {
      ::munmap(address_, bytes_);
    }
  }
  bool map(std::size_t bytes) {
    void* address =
        ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (address == MAP_FAILED) {
      return false;
    }
    address_ = address;
    bytes_ = bytes;
    return true;
  }
  void* get() const { return address_; }

 private:
  void* address_ = nullptr;
  std::size_t bytes_ = 0;
};

/// Multishot recvmsg (Linux 6.0) per socket into a ring of provided buffers (5.19): after
/// arming, datagrams arrive as completions without a system call per socket or datagram.
class UringReceiveLoop final : public ReceiveLoop {
 public:
  UringReceiveLoop(int wakeup_fd, const Clock& clock) : wakeup_fd_(wakeup_fd), clock_(clock) {
    template_.msg_namelen = kNameBytes;
    pending_rearm_.reserve(1024);
  }
  UringReceiveLoop(const UringReceiveLoop&) = delete;
  UringReceiveLoop& operator=(const UringReceiveLoop&) = delete;
  ~UringReceiveLoop() override {
    if (!ring_ready_) {
      return;
    }
    // The ring's exit would cancel the requests in the background, keeping their sockets
    // (and ports) alive a while longer: cancel them now and wait for their last completions.
    io_uring_sqe* sqe = submissionEntry();
    if (sqe != nullptr) {
      ::io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
      ::io_uring_sqe_set_data64(sqe, kReceiveLoopInternalKey);
    }
    IgnoringSink ignore;
    for (int round = 0; round < 100 && armed_ > 0; ++round) {
      poll(std::chrono::milliseconds(10), ignore);
    }
    ::io_uring_queue_exit(&ring_);
  }

  /// Sets up the ring, its buffers and the wake-up poll, then self-tests on loopback.
  Result<void> init() {
    if (auto ring = setUpRing(); !ring) {
      return ring;
    }
    if (auto buffers = setUpBuffers(); !buffers) {
      return buffers;
    }
    if (!armWakeup()) {
      return fail("io_uring: no submission entry for the wake-up poll");
    }
    return selfTest();
  }

  ReceiveBackend backend() const override { return ReceiveBackend::IoUring; }

  bool watch(int fd, uint64_t key) override { return arm(fd, key); }

  void unwatch(int /*fd*/, uint64_t key) override {
    io_uring_sqe* sqe = submissionEntry();
    if (sqe == nullptr) {
      return;
    }
    ::io_uring_prep_cancel64(sqe, key, 0);
    ::io_uring_sqe_set_data64(sqe, kReceiveLoopInternalKey);
    // Submitted now rather than with the next wait: the request, which holds a reference to
    // the socket (and so its port), ends as soon as the next poll reaps its completion.
    ::io_uring_submit(&ring_);
  }

  void poll(std::chrono::milliseconds timeout, DatagramSink& sink) override {
    __kernel_timespec wait{};
    wait.tv_sec = timeout.count() / 1000;
    wait.tv_nsec = (timeout.count() % 1000) * 1'000'000;
    io_uring_cqe* first = nullptr;
    const int waited = ::io_uring_submit_and_wait_timeout(&ring_, &first, 1, &wait, nullptr);
    if (waited < 0 && waited != -ETIME && waited != -EINTR && waited != -EAGAIN &&
        waited != -EBUSY) {
      log::limited(error_log_, log::Level::Warn, "media", "io_uring wait failed: {}",
                   std::strerror(-waited));
    }
    reap(sink);
  }

 private:
  Result<void> setUpRing() {
    // Newest flags first: completions are produced while this thread waits (fewer
    // interrupts, natural batching); older kernels get the plainer set-ups.
    constexpr std::array<unsigned, 3> kFlagSets = {
        IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN |
            IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
        IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN,
        IORING_SETUP_CQSIZE};
    int result = -EINVAL;
    for (unsigned flags : kFlagSets) {
      io_uring_params params{};
      params.flags = flags;
      params.cq_entries = kCompletionEntries;
      result = ::io_uring_queue_init_params(kSubmissionEntries, &ring_, &params);
      if (result == 0) {
        ring_ready_ = true;
        return {};
      }
      if (result != -EINVAL) {
        break;
      }
    }
    return fail(errnoText("io_uring_queue_init_params", -result));
  }

  Result<void> setUpBuffers() {
    if (!ring_memory_.map(kBufferCount * sizeof(io_uring_buf)) ||
        !buffer_memory_.map(kBufferCount * kBufferBytes)) {
      return fail(errnoText("io_uring buffers mmap", errno));
    }
    buffer_ring_ = static_cast<io_uring_buf_ring*>(ring_memory_.get());
    buffers_ = static_cast<std::byte*>(buffer_memory_.get());
    ::io_uring_buf_ring_init(buffer_ring_);
    io_uring_buf_reg registration{};
    registration.ring_addr = reinterpret_cast<uintptr_t>(buffer_ring_);
    registration.ring_entries = kBufferCount;
    registration.bgid = kBufferGroup;
    const int registered = ::io_uring_register_buf_ring(&ring_, &registration, 0);
    if (registered != 0) {
      return fail(errnoText("io_uring_register_buf_ring", -registered));
    }
    for (unsigned id = 0; id < kBufferCount; ++id) {
      returnBuffer(static_cast<uint16_t>(id));
    }
    publishReturnedBuffers();
    return {};
  }

  /// Arms one socket; false when no submission entry is free even after submitting.
  bool arm(int fd, uint64_t key) {
    io_uring_sqe* sqe = submissionEntry();
    if (sqe == nullptr) {
      return false;
    }
    ++armed_;
    ::io_uring_prep_recvmsg_multishot(sqe, fd, &template_, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = kBufferGroup;
    ::io_uring_sqe_set_data64(sqe, key);
    return true;
  }

  bool armWakeup() {
    io_uring_sqe* sqe = submissionEntry();
    if (sqe == nullptr) {
      return false;
    }
    ::io_uring_prep_poll_multishot(sqe, wakeup_fd_, POLLIN);
    ::io_uring_sqe_set_data64(sqe, kReceiveLoopWakeupKey);
    return true;
  }

  io_uring_sqe* submissionEntry() {
    io_uring_sqe* sqe = ::io_uring_get_sqe(&ring_);
    if (sqe == nullptr) {
      ::io_uring_submit(&ring_);
      sqe = ::io_uring_get_sqe(&ring_);
    }
    return sqe;
  }

  void returnBuffer(uint16_t id) {
    ::io_uring_buf_ring_add(buffer_ring_, buffers_ + std::size_t{id} * kBufferBytes,
                            static_cast<unsigned>(kBufferBytes), id,
                            ::io_uring_buf_ring_mask(kBufferCount),
                            static_cast<int>(returned_buffers_));
    ++returned_buffers_;
  }

  void publishReturnedBuffers() {
    if (returned_buffers_ > 0) {
      ::io_uring_buf_ring_advance(buffer_ring_, static_cast<int>(returned_buffers_));
      returned_buffers_ = 0;
    }
  }

  /// Handles every completion in the ring, then re-arms what ended.
  void reap(DatagramSink& sink) {
    const int64_t arrival_epoch_us = arrivalEpochMicros(clock_);
    unsigned head = 0;
    unsigned seen = 0;
    io_uring_cqe* cqe = nullptr;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      ++seen;
      handle(*cqe, arrival_epoch_us, sink);
      if (returned_buffers_ >= kBufferReturnBatch) {
        publishReturnedBuffers();
      }
    }
    ::io_uring_cq_advance(&ring_, seen);
    publishReturnedBuffers();
    for (uint64_t key : pending_rearm_) {
      const int fd = sink.socketFd(key);
      if (fd >= 0) {
        arm(fd, key);
      }
    }
    pending_rearm_.clear();
  }

  void handle(const io_uring_cqe& cqe, int64_t arrival_epoch_us, DatagramSink& sink) {
    const uint64_t key = ::io_uring_cqe_get_data64(&cqe);
    const bool more = (cqe.flags & IORING_CQE_F_MORE) != 0;
    if (key == kReceiveLoopInternalKey) {
      return;
    }
    if (key == kReceiveLoopWakeupKey) {
      uint64_t count = 0;
      [[maybe_unused]] const ssize_t drained = ::read(wakeup_fd_, &count, sizeof(count));
      sink.onWakeup();
      if (!more && cqe.res != -ECANCELED) {
        armWakeup();
      }
      return;
    }
    if ((cqe.flags & IORING_CQE_F_BUFFER) != 0) {
      const auto id = static_cast<uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
      if (cqe.res > 0) {
        deliver(key, buffers_ + std::size_t{id} * kBufferBytes, cqe.res, arrival_epoch_us, sink);
      }
      returnBuffer(id);
    }
    if (more) {
      return;
    }
    --armed_;
    // The multishot request ended: the buffers ran out (the datagrams wait in the socket),
    // the kernel stopped it (e.g. its completion queue overflowed), it was cancelled, or
    // the socket failed. Transient ends are re-armed; a failure is not (re-arming would
    // spin on it) and is logged, the stream then receives nothing more.
    const bool transient = cqe.res >= 0 || cqe.res == -ENOBUFS || cqe.res == -ENOMEM ||
                           cqe.res == -EINTR || cqe.res == -EAGAIN;
    if (transient) {
      pending_rearm_.push_back(key);
    } else if (cqe.res != -ECANCELED) {
      last_error_ = -cqe.res;
      log::limited(error_log_, log::Level::Warn, "media",
                   "io_uring receive failed, the socket stops receiving: {}",
                   std::strerror(-cqe.res));
    }
  }

  void deliver(uint64_t key, std::byte* buffer, int length, int64_t arrival_epoch_us,
               DatagramSink& sink) {
    io_uring_recvmsg_out* out = ::io_uring_recvmsg_validate(buffer, length, &template_);
    if (out == nullptr) {
      return;
    }
    const auto* payload =
        static_cast<const std::byte*>(::io_uring_recvmsg_payload(out, &template_));
    const unsigned payload_bytes = ::io_uring_recvmsg_payload_length(out, length, &template_);
    const socklen_t name_bytes = std::min<socklen_t>(out->namelen, kNameBytes);
    std::memcpy(&source_, ::io_uring_recvmsg_name(out), name_bytes);
    Datagram datagram;
    datagram.bytes = std::span<const std::byte>(payload, payload_bytes);
    datagram.source = &source_;
    datagram.source_length = name_bytes;
    datagram.truncated = (out->flags & MSG_TRUNC) != 0;
    sink.onDatagram(key, datagram, arrival_epoch_us);
  }

  /// Sends one datagram to a fresh loopback socket armed like a stream's and checks that it
  /// comes back as a multishot completion (catches kernels or sandboxes that accept the set-up
  /// but fail the receive).
  Result<void> selfTest() {
    UniqueFd probe(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!probe.valid()) {
      return fail(errnoText("io_uring self-test socket", errno));
    }
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t local_length = sizeof(local);
    if (::bind(probe.get(), reinterpret_cast<const sockaddr*>(&local), sizeof(local)) != 0 ||
        ::getsockname(probe.get(), reinterpret_cast<sockaddr*>(&local), &local_length) != 0) {
      return fail(errnoText("io_uring self-test bind", errno));
    }
    constexpr uint64_t kProbeKey = kReceiveLoopInternalKey - 1;
    if (!arm(probe.get(), kProbeKey)) {
      return fail("io_uring self-test: no submission entry");
    }
    ::io_uring_submit(&ring_);
    const std::array<char, 4> ping = {'p', 'i', 'n', 'g'};
    if (::sendto(probe.get(), ping.data(), ping.size(), 0, reinterpret_cast<sockaddr*>(&local),
                 local_length) != static_cast<ssize_t>(ping.size())) {
      return fail(errnoText("io_uring self-test sendto", errno));
    }
    ProbeSink sink(probe.get());
    last_error_ = 0;
    for (int attempt = 0; attempt < 20 && !sink.received && last_error_ == 0; ++attempt) {
      poll(std::chrono::milliseconds(50), sink);
    }
    unwatch(probe.get(), kProbeKey);
    if (!sink.received) {
      return fail(last_error_ != 0 ? errnoText("io_uring self-test receive", last_error_)
                                   : std::string("io_uring self-test received nothing"));
    }
    return {};
  }

  /// Drops whatever arrives (used while shutting down).
  struct IgnoringSink final : DatagramSink {
    void onDatagram(uint64_t, const Datagram&, int64_t) override {}
    void onWakeup() override {}
    int socketFd(uint64_t) override { return -1; }
  };

  /// Records what the self-test's socket received.
  struct ProbeSink final : DatagramSink {
    explicit ProbeSink(int fd) : probe_fd(fd) {}
    void onDatagram(uint64_t, const Datagram& datagram, int64_t) override {
      received = datagram.bytes.size() == 4 && !datagram.truncated && datagram.source_length > 0;
    }
    void onWakeup() override {}
    int socketFd(uint64_t) override { return probe_fd; }
    int probe_fd;
    bool received = false;
  };

  int wakeup_fd_;
  const Clock& clock_;
  io_uring ring_{};
  bool ring_ready_ = false;
  Mapping ring_memory_;
  Mapping buffer_memory_;
  io_uring_buf_ring* buffer_ring_ = nullptr;
  std::byte* buffers_ = nullptr;
  unsigned returned_buffers_ = 0;
  msghdr template_{};
  sockaddr_storage source_{};
  std::vector<uint64_t> pending_rearm_;
  /// Socket receive requests armed and not yet ended (their last completion not seen).
  std::size_t armed_ = 0;
  int last_error_ = 0;  ///< errno of the latest failed receive, for the self-test
  log::RateLimiter error_log_{1};
};

}  // namespace

Result<std::unique_ptr<ReceiveLoop>> createUringReceiveLoop(int wakeup_fd, const Clock& clock) {
  auto loop = std::make_unique<UringReceiveLoop>(wakeup_fd, clock);
  if (auto ready = loop->init(); !ready) {
    return tl::unexpected(ready.error());
  }
  return std::unique_ptr<ReceiveLoop>(std::move(loop));
}

}  // namespace siprecd::media

#else  // no liburing in this build

namespace siprecd::media {

Result<std::unique_ptr<ReceiveLoop>> createUringReceiveLoop(int /*wakeup_fd*/,
                                                            const Clock& /*clock*/) {
  return fail("io_uring: this build has no liburing");
}

}  // namespace siprecd::media

#endif
