// bare_receiver: the reference the engine is measured against. The least a recorder must do:
// one UDP socket per stream (even ports from --first-port, busy ones skipped), one thread, epoll +
// recvmmsg, each datagram's RTP payload appended to its stream's file through a 16 KiB buffer
// written when full and once a second. No parsing beyond the fixed RTP header, no latch, no
// statistics, no fdatasync. Serves its packet count as siprecd_rtp_packets_total on --metrics-port.
//
//   bare_receiver --first-port 10000 --streams 2000 --dir /tmp/bare --metrics-port 9100
//                 --ports-file F [--last-port 59999] [--buffer-bytes 1048576]
// The ports bound are written to F (see announcePorts) once everything is set up.

#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <deque>
#include <string>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_support.hpp"

namespace siprecd::bench {
namespace {

constexpr std::size_t kBatch = 32;
constexpr std::size_t kDatagramBytes = 4096;
constexpr std::size_t kFileBufferBytes = 16 * 1024;
constexpr std::size_t kRtpHeaderBytes = 12;
constexpr auto kFlushInterval = std::chrono::seconds(1);
constexpr uint64_t kMetricsKey = ~uint64_t{0};

std::atomic<bool> g_stop{false};

struct Stream {
  int socket = -1;
  int file = -1;
  std::string path;
  std::vector<std::byte> buffer;
  std::size_t used = 0;

  void write() {
    if (used == 0) {
      return;
    }
    if (file < 0) {
      file = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    }
    if (file >= 0) {
      [[maybe_unused]] const ssize_t written = ::write(file, buffer.data(), used);
    }
    used = 0;
  }
};

int run(const Flags& flags) {
  const int first = static_cast<int>(flags.number("first-port", 10000));
  const auto count = static_cast<std::size_t>(flags.number("streams", 2));
  const std::string dir = flags.text("dir", "/tmp/bare-receiver");
  const int buffer_bytes = static_cast<int>(flags.number("buffer-bytes", 1 << 20));
  std::filesystem::create_directories(dir);
  std::signal(SIGTERM, [](int) { g_stop.store(true); });
  std::signal(SIGINT, [](int) { g_stop.store(true); });

  const int epoll = ::epoll_create1(EPOLL_CLOEXEC);
  MetricsResponder metrics(static_cast<int>(flags.number("metrics-port", 9100)));
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = kMetricsKey;
  ::epoll_ctl(epoll, EPOLL_CTL_ADD, metrics.fd(), &event);

  const int last = static_cast<int>(flags.number("last-port", 59999));
  std::vector<Stream> streams(count);
  std::vector<int> ports;
  int port = first + first % 2;
  for (std::size_t i = 0; i < count; ++i) {
    Stream& stream = streams[i];
    stream.socket = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ::setsockopt(stream.socket, SOL_SOCKET, SO_RCVBUFFORCE, &buffer_bytes, sizeof(buffer_bytes));
    for (;; port += 2) {
      if (port > last) {
        die("bare_receiver: not enough free ports for " + std::to_string(count) + " streams");
      }
      sockaddr_in local{};
      local.sin_family = AF_INET;
      local.sin_port = htons(static_cast<uint16_t>(port));
      local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (::bind(stream.socket, reinterpret_cast<const sockaddr*>(&local), sizeof(local)) == 0) {
        break;
      }
      if (errno != EADDRINUSE) {
        die("bind " + std::to_string(port) + ": " + std::strerror(errno));
      }
    }
    ports.push_back(port);
    port += 2;
    stream.path = dir + "/stream-" + std::to_string(i) + ".payload";
    stream.buffer.resize(kFileBufferBytes);
    event.data.u64 = i;
    ::epoll_ctl(epoll, EPOLL_CTL_ADD, stream.socket, &event);
  }

  std::vector<std::byte> data(kBatch * kDatagramBytes);
  std::array<mmsghdr, kBatch> messages{};
  std::array<iovec, kBatch> iov{};
  for (std::size_t i = 0; i < kBatch; ++i) {
    iov[i] = iovec{data.data() + i * kDatagramBytes, kDatagramBytes};
    messages[i].msg_hdr.msg_iov = &iov[i];
    messages[i].msg_hdr.msg_iovlen = 1;
  }
  std::array<epoll_event, 512> events{};
  uint64_t packets = 0;
  struct Due {
    std::chrono::steady_clock::time_point at;
    std::size_t stream;
  };
  std::deque<Due> flushes;
  const auto now0 = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < count; ++i) {
    // Spread the first writes over the interval, as calls starting at different times would.
    flushes.push_back(Due{now0 + kFlushInterval * (i + 1) / std::max<std::size_t>(count, 1), i});
  }
  announcePorts(flags.text("ports-file"), ports);

  while (!g_stop.load()) {
    const int ready = ::epoll_wait(epoll, events.data(), static_cast<int>(events.size()), 10);
    for (int e = 0; e < ready; ++e) {
      const uint64_t key = events[static_cast<std::size_t>(e)].data.u64;
      if (key == kMetricsKey) {
        metrics.serve(packets);
        continue;
      }
      Stream& stream = streams[key];
      for (;;) {
        const int got = ::recvmmsg(stream.socket, messages.data(), kBatch, MSG_DONTWAIT, nullptr);
        if (got <= 0) {
          break;
        }
        for (int m = 0; m < got; ++m) {
          const std::size_t length = messages[static_cast<std::size_t>(m)].msg_len;
          if (length <= kRtpHeaderBytes) {
            continue;
          }
          ++packets;
          const std::size_t payload = length - kRtpHeaderBytes;
          if (stream.used + payload > stream.buffer.size()) {
            stream.write();
          }
          const std::byte* source = data.data() + static_cast<std::size_t>(m) * kDatagramBytes;
          std::copy(source + kRtpHeaderBytes, source + length, stream.buffer.data() + stream.used);
          stream.used += payload;
        }
        if (static_cast<std::size_t>(got) < kBatch) {
          break;
        }
      }
    }
    const auto now = std::chrono::steady_clock::now();
    while (!flushes.empty() && flushes.front().at <= now) {
      const std::size_t index = flushes.front().stream;
      flushes.pop_front();
      streams[index].write();
      flushes.push_back(Due{now + kFlushInterval, index});
    }
  }
  for (Stream& stream : streams) {
    stream.write();
    if (stream.file >= 0) {
      ::close(stream.file);
    }
    ::close(stream.socket);
  }
  ::close(epoll);
  std::printf("{\"packets\": %llu}\n", static_cast<unsigned long long>(packets));
  return 0;
}

}  // namespace
}  // namespace siprecd::bench

int main(int argc, char** argv) {
  return siprecd::bench::run(siprecd::bench::Flags(argc, argv));
}
