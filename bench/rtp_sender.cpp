#include "rtp_sender.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include <arpa/inet.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_support.hpp"

namespace siprecd::bench {

namespace {

constexpr int64_t kPeriodNs = 20'000'000;
constexpr std::size_t kPayloadBytes = 160;
constexpr std::size_t kHeaderBytes = 12;
constexpr std::size_t kBatch = 1024;

int64_t monotonicNs() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

void sleepUntil(int64_t deadline_ns) {
  timespec until{};
  until.tv_sec = deadline_ns / 1'000'000'000;
  until.tv_nsec = deadline_ns % 1'000'000'000;
  while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr) == EINTR) {
  }
}

/// PCMU silence.
const std::array<uint8_t, kPayloadBytes> kPayload = [] {
  std::array<uint8_t, kPayloadBytes> payload{};
  payload.fill(0xFF);
  return payload;
}();

}  // namespace

RtpSender::RtpSender(const std::string& local_ip, int sockets, int slots)
    : slots_(std::max(slots, 1)),
      schedule_(
          static_cast<std::size_t>(slots_),
          std::vector<std::vector<std::size_t>>(static_cast<std::size_t>(std::max(sockets, 1)))) {
  for (int i = 0; i < std::max(sockets, 1); ++i) {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, local_ip.c_str(), &local.sin_addr);
    socklen_t length = sizeof(local);
    const int buffer = 8 << 20;
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buffer, sizeof(buffer));
    if (fd < 0 || ::bind(fd, reinterpret_cast<const sockaddr*>(&local), sizeof(local)) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0) {
      die(std::string("rtp socket: ") + std::strerror(errno));
    }
    fds_.push_back(fd);
    ports_.push_back(ntohs(local.sin_port));
  }
}

RtpSender::~RtpSender() {
  stop();
  for (int fd : fds_) {
    ::close(fd);
  }
}

void RtpSender::add(const std::vector<sockaddr_in>& targets) {
  std::lock_guard lock(pending_mutex_);
  pending_.insert(pending_.end(), targets.begin(), targets.end());
}

void RtpSender::start(bool realtime) {
  thread_ = std::thread([this, realtime] {
    if (realtime) {
      sched_param priority{};
      priority.sched_priority = 10;
      if (::pthread_setschedparam(::pthread_self(), SCHED_FIFO, &priority) != 0) {
        std::fprintf(stderr, "rtp_load: no SCHED_FIFO for the sender (not permitted)\n");
      }
    }
    run();
  });
}

void RtpSender::stop() {
  stopping_.store(true);
  if (thread_.joinable()) {
    thread_.join();
  }
}

void RtpSender::run() {
  // Whole milliseconds, so that slot deadlines are round numbers.
  const int64_t start_ns = (monotonicNs() / 1'000'000 + 2) * 1'000'000;
  const int64_t slot_ns = kPeriodNs / slots_;
  for (int64_t period = 0; !stopping_.load(); ++period) {
    for (int slot = 0; slot < slots_ && !stopping_.load(); ++slot) {
      const int64_t deadline = start_ns + period * kPeriodNs + slot * slot_ns;
      sleepUntil(deadline);
      const int64_t late_us = (monotonicNs() - deadline) / 1000;
      if (late_us > max_late_us_.load(std::memory_order_relaxed)) {
        max_late_us_.store(late_us, std::memory_order_relaxed);
      }
      if (late_us * 1000 > kPeriodNs) {
        late_slots_.fetch_add(1, std::memory_order_relaxed);
      }
      if (slot == 0) {
        activatePending();
      }
      sendSlot(static_cast<std::size_t>(slot));
    }
  }
}

void RtpSender::activatePending() {
  std::vector<sockaddr_in> fresh;
  {
    std::lock_guard lock(pending_mutex_);
    fresh.swap(pending_);
  }
  for (const sockaddr_in& to : fresh) {
    const std::size_t index = streams_.size();
    Stream stream{};
    stream.to = to;
    stream.ssrc = 0x5EED0000U + static_cast<uint32_t>(index);
    stream.seq = static_cast<uint16_t>(index * 7919U);
    stream.timestamp = static_cast<uint32_t>(index * 104729U);
    streams_.push_back(stream);
    // Round-robin over (slot, socket) pairs: slots fill evenly, and so do sockets.
    const std::size_t cell = next_assignment_++;
    const std::size_t slot = cell % schedule_.size();
    const std::size_t socket = (cell / schedule_.size()) % fds_.size();
    schedule_[slot][socket].push_back(index);
  }
  streams_count_.store(streams_.size());
}

void RtpSender::sendSlot(std::size_t slot) {
  static thread_local std::array<std::array<uint8_t, kHeaderBytes>, kBatch> headers{};
  static thread_local std::array<std::array<iovec, 2>, kBatch> iov{};
  static thread_local std::array<mmsghdr, kBatch> messages{};
  uint64_t sent = 0;
  for (std::size_t socket = 0; socket < fds_.size(); ++socket) {
    const auto& members = schedule_[slot][socket];
    for (std::size_t begin = 0; begin < members.size(); begin += kBatch) {
      const std::size_t count = std::min(kBatch, members.size() - begin);
      for (std::size_t i = 0; i < count; ++i) {
        Stream& stream = streams_[members[begin + i]];
        auto& header = headers[i];
        header[0] = 0x80;
        header[1] = stream.first ? 0x80 : 0x00;  // marker on the first packet, PT 0 (PCMU)
        header[2] = static_cast<uint8_t>(stream.seq >> 8);
        header[3] = static_cast<uint8_t>(stream.seq);
        for (int b = 0; b < 4; ++b) {
          header[4 + b] = static_cast<uint8_t>(stream.timestamp >> (24 - 8 * b));
          header[8 + b] = static_cast<uint8_t>(stream.ssrc >> (24 - 8 * b));
        }
        stream.first = false;
        ++stream.seq;
        stream.timestamp += kPayloadBytes;
        iov[i][0] = iovec{header.data(), kHeaderBytes};
        iov[i][1] = iovec{const_cast<uint8_t*>(kPayload.data()), kPayloadBytes};
        messages[i] = mmsghdr{};
        messages[i].msg_hdr.msg_name = &stream.to;
        messages[i].msg_hdr.msg_namelen = sizeof(stream.to);
        messages[i].msg_hdr.msg_iov = iov[i].data();
        messages[i].msg_hdr.msg_iovlen = 2;
      }
      std::size_t done = 0;
      while (done < count) {
        const int result = ::sendmmsg(fds_[socket], messages.data() + done,
                                      static_cast<unsigned>(count - done), 0);
        if (result < 0) {
          if (errno == EINTR) {
            continue;
          }
          // Skip the datagram that failed (e.g. ECONNREFUSED left by an ICMP error).
          send_errors_.fetch_add(1, std::memory_order_relaxed);
          ++done;
          continue;
        }
        done += static_cast<std::size_t>(result);
        sent += static_cast<uint64_t>(result);
      }
    }
  }
  sent_.fetch_add(sent, std::memory_order_relaxed);
}

RtpSenderPool::RtpSenderPool(const std::string& local_ip, int threads, int sockets_per_thread,
                             int slots) {
  for (int i = 0; i < std::max(threads, 1); ++i) {
    senders_.push_back(std::make_unique<RtpSender>(local_ip, sockets_per_thread, slots));
  }
}

void RtpSenderPool::add(const std::vector<sockaddr_in>& targets) {
  std::vector<std::vector<sockaddr_in>> shares(senders_.size());
  {
    std::lock_guard lock(mutex_);
    for (const sockaddr_in& target : targets) {
      shares[next_++ % senders_.size()].push_back(target);
    }
  }
  for (std::size_t i = 0; i < senders_.size(); ++i) {
    if (!shares[i].empty()) {
      senders_[i]->add(shares[i]);
    }
  }
}

void RtpSenderPool::start(bool realtime) {
  for (auto& sender : senders_) {
    sender->start(realtime);
  }
}

void RtpSenderPool::stop() {
  for (auto& sender : senders_) {
    sender->stop();
  }
}

uint64_t RtpSenderPool::sent() const {
  uint64_t total = 0;
  for (const auto& sender : senders_) {
    total += sender->sent();
  }
  return total;
}

uint64_t RtpSenderPool::streams() const {
  uint64_t total = 0;
  for (const auto& sender : senders_) {
    total += sender->streams();
  }
  return total;
}

int64_t RtpSenderPool::maxLateUs() const {
  int64_t worst = 0;
  for (const auto& sender : senders_) {
    worst = std::max(worst, sender->maxLateUs());
  }
  return worst;
}

uint64_t RtpSenderPool::lateSlots() const {
  uint64_t total = 0;
  for (const auto& sender : senders_) {
    total += sender->lateSlots();
  }
  return total;
}

uint64_t RtpSenderPool::sendErrors() const {
  uint64_t total = 0;
  for (const auto& sender : senders_) {
    total += sender->sendErrors();
  }
  return total;
}

}  // namespace siprecd::bench
