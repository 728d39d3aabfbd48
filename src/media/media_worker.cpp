#include "media/media_worker.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <string>

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.hpp"

namespace siprecd::media {

namespace {

constexpr uint64_t kWakeupKey = ~uint64_t{0};
constexpr int kMaxEvents = 64;
/// Datagrams per recvmmsg call, and calls per readable socket per wakeup (fairness).
constexpr std::size_t kBatchDatagrams = 32;
constexpr int kMaxBatchesPerWakeup = 8;
/// Larger datagrams are counted as malformed (MSG_TRUNC): audio RTP fits with room.
constexpr std::size_t kDatagramBytes = 4096;

uint64_t socketKey(uint64_t stream_id, bool rtcp) {
  return (stream_id << 1) | (rtcp ? 1U : 0U);
}

}  // namespace

/// recvmmsg's arrays, allocated once per media thread and reused for every batch.
struct MediaWorker::ReceiveBuffers {
  std::vector<std::byte> data = std::vector<std::byte>(kBatchDatagrams * kDatagramBytes);
  std::array<mmsghdr, kBatchDatagrams> messages{};
  std::array<iovec, kBatchDatagrams> iov{};
  std::array<sockaddr_storage, kBatchDatagrams> sources{};

  /// Resets the fields recvmmsg overwrites.
  void prepare() {
    for (std::size_t i = 0; i < kBatchDatagrams; ++i) {
      iov[i] = iovec{data.data() + i * kDatagramBytes, kDatagramBytes};
      messages[i] = mmsghdr{};
      messages[i].msg_hdr.msg_name = &sources[i];
      messages[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
      messages[i].msg_hdr.msg_iov = &iov[i];
      messages[i].msg_hdr.msg_iovlen = 1;
    }
  }
};

Result<std::unique_ptr<MediaWorker>> MediaWorker::create(const Clock& clock,
                                                         std::chrono::milliseconds flush_interval,
                                                         PortReleaser release_port) {
  UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll.valid()) {
    return fail(std::string("media epoll_create1: ") + std::strerror(errno));
  }
  UniqueFd wakeup(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wakeup.valid()) {
    return fail(std::string("media eventfd: ") + std::strerror(errno));
  }
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = kWakeupKey;
  if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, wakeup.get(), &event) != 0) {
    return fail(std::string("media epoll_ctl(eventfd): ") + std::strerror(errno));
  }
  // The constructor is private, so make_unique cannot reach it.
  return std::unique_ptr<MediaWorker>(new MediaWorker(
      clock, flush_interval, std::move(release_port), std::move(epoll), std::move(wakeup)));
}

MediaWorker::MediaWorker(const Clock& clock, std::chrono::milliseconds flush_interval,
                         PortReleaser release_port, UniqueFd epoll, UniqueFd wakeup)
    : clock_(clock),
      flush_interval_(std::max(flush_interval, std::chrono::milliseconds(1))),
      release_port_(std::move(release_port)),
      epoll_(std::move(epoll)),
      wakeup_(std::move(wakeup)),
      buffers_(std::make_unique<ReceiveBuffers>()) {}

MediaWorker::~MediaWorker() {
  stopping_.store(true);
  if (thread_.joinable()) {
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t written = ::write(wakeup_.get(), &one, sizeof(one));
    thread_.join();
  }
}

Result<void> MediaWorker::start() {
  if (thread_.joinable()) {
    return fail("media thread already started");
  }
  closer_.start();
  thread_ = std::thread([this] { run(); });
  return {};
}

void MediaWorker::addStream(std::unique_ptr<WorkerStream> stream) {
  streams_active_.fetch_add(1, std::memory_order_relaxed);
  post(AddCommand{std::move(stream)});
}

void MediaWorker::removeStream(uint64_t id, OnClosed on_closed) {
  post(RemoveCommand{id, std::move(on_closed)});
}

EngineStats MediaWorker::stats() const {
  EngineStats stats;
  stats.streams_active = streams_active_.load(std::memory_order_relaxed);
  stats.packets = packets_.load(std::memory_order_relaxed);
  stats.bytes = bytes_.load(std::memory_order_relaxed);
  stats.malformed = malformed_.load(std::memory_order_relaxed);
  stats.rtcp_packets = rtcp_packets_.load(std::memory_order_relaxed);
  stats.dropped_foreign_source = dropped_foreign_source_.load(std::memory_order_relaxed);
  stats.spool_write_errors = spool_write_errors_.load(std::memory_order_relaxed);
  return stats;
}

void MediaWorker::post(Command command) {
  {
    std::lock_guard lock(commands_mutex_);
    commands_.push_back(std::move(command));
  }
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t written = ::write(wakeup_.get(), &one, sizeof(one));
}

void MediaWorker::run() {
  std::array<epoll_event, kMaxEvents> events{};
  auto next_flush = clock_.steadyNow() + flush_interval_;
  while (!stopping_.load()) {
    const auto until_flush =
        std::chrono::duration_cast<std::chrono::milliseconds>(next_flush - clock_.steadyNow());
    const auto timeout = std::clamp(until_flush, std::chrono::milliseconds(0), flush_interval_);
    const int ready =
        ::epoll_wait(epoll_.get(), events.data(), kMaxEvents, static_cast<int>(timeout.count()));
    for (int i = 0; i < ready; ++i) {
      const uint64_t key = events[static_cast<std::size_t>(i)].data.u64;
      if (key == kWakeupKey) {
        uint64_t count = 0;
        [[maybe_unused]] const ssize_t drained = ::read(wakeup_.get(), &count, sizeof(count));
      } else {
        receive(key);
      }
    }
    processCommands();
    const auto now = clock_.steadyNow();
    if (now >= next_flush) {
      flushAll();
      next_flush = now + flush_interval_;
    }
    publish();
  }
  shutdown();
}

void MediaWorker::shutdown() {
  processCommands();
  for (auto& [id, stream] : streams_) {
    unregister(*stream);
    stream->receiver.flush();
    noteWriteErrors(*stream);
    SpoolWriter writer = stream->receiver.takeWriter();
    // Blocking is acceptable here: the thread is ending and receives nothing more.
    const auto finished = writer.finish();
    if (!finished) {
      ++tally_.spool_write_errors;
      log::warn("media", "spool closed at shutdown with errors: {}", finished.error().message);
    }
    if (release_port_) {
      release_port_(stream->port);
    }
  }
  streams_active_.fetch_sub(streams_.size(), std::memory_order_relaxed);
  streams_.clear();
  closer_.stop();
  while (processCommands()) {
  }
  publish();
}

bool MediaWorker::processCommands() {
  running_commands_.clear();
  {
    std::lock_guard lock(commands_mutex_);
    running_commands_.swap(commands_);
  }
  for (Command& command : running_commands_) {
    std::visit([this](auto& typed) { handle(typed); }, command);
  }
  const bool any = !running_commands_.empty();
  running_commands_.clear();
  return any;
}

void MediaWorker::handle(AddCommand& command) {
  WorkerStream& stream = *command.stream;
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = socketKey(stream.id, false);
  // Fails only when the kernel is out of memory or epoll watches; the stream then records
  // nothing but still closes normally.
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, stream.rtp.fd(), &event);
  if (stream.rtcp) {
    event.data.u64 = socketKey(stream.id, true);
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, stream.rtcp->fd(), &event);
  }
  streams_[stream.id] = std::move(command.stream);
}

void MediaWorker::handle(RemoveCommand& command) {
  const auto found = streams_.find(command.id);
  if (found == streams_.end()) {
    if (command.on_closed) {
      command.on_closed(StreamStats{});
    }
    return;
  }
  std::unique_ptr<WorkerStream> stream = std::move(found->second);
  streams_.erase(found);
  unregister(*stream);
  stream->receiver.flush();
  noteWriteErrors(*stream);
  StreamStats stats = stream->receiver.stats();
  SpoolWriter writer = stream->receiver.takeWriter();
  const uint16_t port = stream->port;
  stream.reset();  // closes the sockets before the port is recycled
  if (release_port_) {
    release_port_(port);
  }
  streams_active_.fetch_sub(1, std::memory_order_relaxed);
  auto done = [this, stats, on_closed = std::move(command.on_closed)](
                  const SpoolWriterStats& final_stats, Result<void> finished) mutable {
    const uint64_t new_errors = final_stats.write_errors - stats.spool_write_errors;
    stats.spool_records_dropped = final_stats.records_dropped;
    stats.spool_write_errors = final_stats.write_errors;
    std::string error = finished ? std::string() : finished.error().message;
    post(ClosedCommand{stats, new_errors, std::move(error), std::move(on_closed)});
  };
  closer_.submit(std::move(writer), std::move(done));
}

void MediaWorker::handle(ClosedCommand& command) {
  tally_.spool_write_errors += command.new_write_errors;
  if (!command.error.empty()) {
    log::warn("media", "spool closed with errors: {}", command.error);
  }
  if (command.on_closed) {
    command.on_closed(command.stats);
  }
}

void MediaWorker::unregister(const WorkerStream& stream) {
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, stream.rtp.fd(), nullptr);
  if (stream.rtcp) {
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, stream.rtcp->fd(), nullptr);
  }
}

void MediaWorker::receive(uint64_t key) {
  const auto found = streams_.find(key >> 1);
  if (found == streams_.end()) {
    return;
  }
  WorkerStream& stream = *found->second;
  const bool rtcp = (key & 1U) != 0;
  const int fd = rtcp ? stream.rtcp->fd() : stream.rtp.fd();
  ReceiveBuffers& buffers = *buffers_;
  for (int batch = 0; batch < kMaxBatchesPerWakeup; ++batch) {
    buffers.prepare();
    const int received =
        ::recvmmsg(fd, buffers.messages.data(), kBatchDatagrams, MSG_DONTWAIT, nullptr);
    if (received <= 0) {
      break;
    }
    const int64_t arrival_epoch_us = epochMicros();
    bool accepted_any = false;
    for (std::size_t i = 0; i < static_cast<std::size_t>(received); ++i) {
      const mmsghdr& message = buffers.messages[i];
      const std::span<const std::byte> datagram(
          buffers.data.data() + i * kDatagramBytes,
          std::min<std::size_t>(message.msg_len, kDatagramBytes));
      StreamReceiver::Outcome outcome;
      if ((message.msg_hdr.msg_flags & MSG_TRUNC) != 0) {
        outcome = stream.receiver.onTruncatedDatagram();
      } else if (rtcp) {
        outcome = stream.receiver.onRtcpDatagram(datagram);
      } else {
        outcome = stream.receiver.onRtpDatagram(
            datagram, UdpEndpoint::fromSockaddr(buffers.sources[i], message.msg_hdr.msg_namelen),
            arrival_epoch_us);
      }
      switch (outcome) {
        case StreamReceiver::Outcome::Accepted:
          ++tally_.packets;
          tally_.bytes += datagram.size();
          accepted_any = true;
          break;
        case StreamReceiver::Outcome::ForeignSource:
          ++tally_.dropped_foreign_source;
          break;
        case StreamReceiver::Outcome::Rtcp:
          ++tally_.rtcp_packets;
          break;
        case StreamReceiver::Outcome::Malformed:
          ++tally_.malformed;
          break;
      }
    }
    if (accepted_any && stream.last_packet_epoch_us) {
      stream.last_packet_epoch_us->store(arrival_epoch_us, std::memory_order_relaxed);
    }
    if (static_cast<std::size_t>(received) < kBatchDatagrams) {
      break;
    }
  }
  noteWriteErrors(stream);
}

void MediaWorker::flushAll() {
  for (auto& [id, stream] : streams_) {
    stream->receiver.flush();
    noteWriteErrors(*stream);
  }
}

void MediaWorker::noteWriteErrors(WorkerStream& stream) {
  const uint64_t fresh = stream.receiver.takeNewWriteErrors();
  if (fresh == 0) {
    return;
  }
  tally_.spool_write_errors += fresh;
  log::limited(write_error_log_, log::Level::Warn, "media",
               "spool write failed ({} errors, {} packets lost so far): {}",
               stream.receiver.stats().spool_write_errors,
               stream.receiver.stats().spool_records_dropped, stream.receiver.spoolPath().string());
}

void MediaWorker::publish() {
  constexpr auto relaxed = std::memory_order_relaxed;
  packets_.fetch_add(tally_.packets, relaxed);
  bytes_.fetch_add(tally_.bytes, relaxed);
  malformed_.fetch_add(tally_.malformed, relaxed);
  rtcp_packets_.fetch_add(tally_.rtcp_packets, relaxed);
  dropped_foreign_source_.fetch_add(tally_.dropped_foreign_source, relaxed);
  spool_write_errors_.fetch_add(tally_.spool_write_errors, relaxed);
  tally_ = Tally{};
}

int64_t MediaWorker::epochMicros() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             clock_.systemNow().time_since_epoch())
      .count();
}

}  // namespace siprecd::media
