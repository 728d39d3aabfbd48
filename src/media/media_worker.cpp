#include "media/media_worker.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <future>
#include <string>
#include <utility>

#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/log.hpp"

namespace siprecd::media {

namespace {

/// Generations stay below 2^31 so that keys never reach the receive loops' own keys.
constexpr uint32_t kGenerationMask = 0x7FFF'FFFF;

uint64_t socketKey(uint32_t generation, uint32_t slot, bool rtcp) {
  return (uint64_t{generation} << 32) | (uint64_t{slot} << 1) | (rtcp ? 1U : 0U);
}

void nameThisThread(unsigned index) {
  // Linux thread names hold 15 characters; the benchmark finds media threads by this prefix.
  std::string name = "siprecd-media" + std::to_string(index);
  name.resize(std::min<std::size_t>(name.size(), 15));
  ::pthread_setname_np(::pthread_self(), name.c_str());
}

}  // namespace

Result<std::unique_ptr<MediaWorker>> MediaWorker::create(const Clock& clock, Settings settings,
                                                         PortReleaser release_port,
                                                         DescriptorReleaser release_descriptors) {
  UniqueFd wakeup(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wakeup.valid()) {
    return fail(std::string("media eventfd: ") + std::strerror(errno));
  }
  // The constructor is private, so make_unique cannot reach it.
  return std::unique_ptr<MediaWorker>(new MediaWorker(
      clock, settings, std::move(release_port), std::move(release_descriptors), std::move(wakeup)));
}

MediaWorker::MediaWorker(const Clock& clock, Settings settings, PortReleaser release_port,
                         DescriptorReleaser release_descriptors, UniqueFd wakeup)
    : clock_(clock),
      settings_{settings.index, std::max(settings.flush_interval, std::chrono::milliseconds(1)),
                settings.backend},
      release_port_(std::move(release_port)),
      release_descriptors_(std::move(release_descriptors)),
      wakeup_(std::move(wakeup)) {}

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
  std::promise<Result<void>> ready;
  auto started = ready.get_future();
  closer_.start();
  thread_ = std::thread([this, ready = std::move(ready)]() mutable {
    nameThisThread(settings_.index);
    auto created = createLoop();
    const bool ok = created.has_value();
    ready.set_value(std::move(created));
    if (ok) {
      run();
    }
  });
  auto result = started.get();
  if (!result) {
    thread_.join();
    closer_.stop();
  }
  return result;
}

Result<void> MediaWorker::createLoop() {
  if (settings_.backend == ReceiveBackend::IoUring) {
    auto uring = createUringReceiveLoop(wakeup_.get(), clock_);
    if (uring) {
      loop_ = std::move(*uring);
      running_backend_.store(ReceiveBackend::IoUring);
      return {};
    }
    log::warn("media", "media thread {}: io_uring receive unavailable ({}); using recvmmsg",
              settings_.index, uring.error().message);
  }
  auto epoll = createRecvmmsgReceiveLoop(wakeup_.get(), clock_);
  if (!epoll) {
    return tl::unexpected(epoll.error());
  }
  loop_ = std::move(*epoll);
  running_backend_.store(ReceiveBackend::Recvmmsg);
  return {};
}

void MediaWorker::addStream(std::unique_ptr<WorkerStream> stream) {
  streams_active_.fetch_add(1, std::memory_order_relaxed);
  post(AddCommand{std::move(stream)});
}

void MediaWorker::removeStream(uint64_t id, OnClosed on_closed) {
  post(RemoveCommand{id, std::move(on_closed)});
}

void MediaWorker::setCapturePaused(uint64_t id, bool paused) {
  post(PauseCommand{id, paused});
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
  stats.srtp_auth_failures = srtp_auth_failures_.load(std::memory_order_relaxed);
  stats.srtp_replays = srtp_replays_.load(std::memory_order_relaxed);
  stats.packets_paused = packets_paused_.load(std::memory_order_relaxed);
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
  while (!stopping_.load(std::memory_order_relaxed)) {
    loop_->poll(pollTimeout(clock_.steadyNow()), *this);
    if (wakeup_pending_) {
      wakeup_pending_ = false;
      processCommands();
    }
    flushDue(clock_.steadyNow());
    publish();
  }
  shutdown();
}

std::chrono::milliseconds MediaWorker::pollTimeout(
    std::chrono::steady_clock::time_point now) const {
  if (flush_queue_.empty()) {
    return settings_.flush_interval;
  }
  const auto until = std::chrono::ceil<std::chrono::milliseconds>(flush_queue_.front().at - now);
  // Bounded by the interval so that a test clock that jumps is noticed.
  return std::clamp(until, std::chrono::milliseconds(0), settings_.flush_interval);
}

void MediaWorker::shutdown() {
  processCommands();
  for (auto& [id, stream] : streams_) {
    unwatch(*stream);
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
  slots_.clear();
  free_slots_.clear();
  flush_queue_.clear();
  pending_syncs_.clear();  // the writers were finished (synced) above
  closer_.stop();
  while (processCommands()) {
  }
  publish();
  loop_.reset();
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

uint32_t MediaWorker::takeSlot(WorkerStream& stream) {
  uint32_t index = 0;
  if (free_slots_.empty()) {
    index = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  } else {
    index = free_slots_.back();
    free_slots_.pop_back();
  }
  Slot& slot = slots_[index];
  slot.rtp_fd = stream.rtp.fd();
  slot.rtcp_fd = stream.rtcp ? stream.rtcp->fd() : -1;
  slot.stream = &stream;
  stream.slot = index;
  return index;
}

void MediaWorker::releaseSlot(uint32_t index) {
  Slot& slot = slots_[index];
  slot.generation = ((slot.generation + 1) & kGenerationMask) | 1U;  // never 0
  slot.rtp_fd = -1;
  slot.rtcp_fd = -1;
  slot.stream = nullptr;
  free_slots_.push_back(index);
}

MediaWorker::Slot* MediaWorker::slotOf(uint64_t key) {
  const auto index = static_cast<uint32_t>((key >> 1) & kGenerationMask);
  if (index >= slots_.size()) {
    return nullptr;
  }
  Slot& slot = slots_[index];
  return slot.stream != nullptr && slot.generation == (key >> 32) ? &slot : nullptr;
}

void MediaWorker::handle(AddCommand& command) {
  WorkerStream& stream = *command.stream;
  const uint32_t slot = takeSlot(stream);
  const uint32_t generation = slots_[slot].generation;
  // Fails only when the kernel is out of memory or watches; the stream then records
  // nothing but still closes normally.
  bool watched = loop_->watch(stream.rtp.fd(), socketKey(generation, slot, false));
  if (stream.rtcp) {
    watched = loop_->watch(stream.rtcp->fd(), socketKey(generation, slot, true)) && watched;
  }
  if (!watched) {
    log::warn("media", "stream on port {} cannot be watched: {}", stream.port,
              std::strerror(errno));
  }
  // The first periodic step only starts the writer's period; the queue brings the next.
  const auto now = clock_.steadyNow();
  [[maybe_unused]] auto none = stream.receiver.periodicFlush(now);
  flush_queue_.push_back(FlushDue{now + settings_.flush_interval, stream.id});
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
  unwatch(*stream);
  releaseSlot(stream->slot);
  stream->receiver.flush();
  noteWriteErrors(*stream);
  StreamStats stats = stream->receiver.stats();
  SpoolWriter writer = stream->receiver.takeWriter();
  const uint16_t port = stream->port;
  const unsigned descriptors = stream->descriptors;
  stream.reset();  // closes the sockets before the port is recycled
  if (release_port_) {
    release_port_(port);
  }
  streams_active_.fetch_sub(1, std::memory_order_relaxed);
  auto done = [this, stats, descriptors, on_closed = std::move(command.on_closed)](
                  const SpoolWriterStats& final_stats, Result<void> finished) mutable {
    const uint64_t new_errors = final_stats.write_errors - stats.spool_write_errors;
    stats.spool_records_dropped = final_stats.records_dropped;
    stats.spool_write_errors = final_stats.write_errors;
    std::string error = finished ? std::string() : finished.error().message;
    post(ClosedCommand{stats, descriptors, new_errors, std::move(error), std::move(on_closed)});
  };
  closer_.submit(std::move(writer), std::move(done));
}

void MediaWorker::handle(ClosedCommand& command) {
  if (release_descriptors_) {
    release_descriptors_(command.descriptors);
  }
  tally_.spool_write_errors += command.new_write_errors;
  if (!command.error.empty()) {
    log::warn("media", "spool closed with errors: {}", command.error);
  }
  if (command.on_closed) {
    command.on_closed(command.stats);
  }
}

void MediaWorker::handle(PauseCommand& command) {
  const auto found = streams_.find(command.id);
  if (found != streams_.end()) {
    found->second->receiver.setCapturePaused(command.paused);
  }
}

void MediaWorker::unwatch(const WorkerStream& stream) {
  const uint32_t generation = slots_[stream.slot].generation;
  loop_->unwatch(stream.rtp.fd(), socketKey(generation, stream.slot, false));
  if (stream.rtcp) {
    loop_->unwatch(stream.rtcp->fd(), socketKey(generation, stream.slot, true));
  }
}

int MediaWorker::socketFd(uint64_t key) {
  const Slot* slot = slotOf(key);
  if (slot == nullptr) {
    return -1;
  }
  return (key & 1U) == 0 ? slot->rtp_fd : slot->rtcp_fd;
}

void MediaWorker::onDatagram(uint64_t key, const Datagram& datagram, int64_t arrival_epoch_us) {
  const Slot* slot = slotOf(key);
  if (slot == nullptr) {
    return;  // closed since the datagram was received
  }
  WorkerStream* stream = slot->stream;
  StreamReceiver::Outcome outcome;
  if (datagram.truncated) {
    outcome = stream->receiver.onTruncatedDatagram();
  } else if ((key & 1U) != 0) {
    outcome = stream->receiver.onRtcpDatagram(datagram.bytes, arrival_epoch_us);
  } else {
    outcome = stream->receiver.onRtpDatagram(
        datagram.bytes, UdpEndpoint::fromSockaddr(*datagram.source, datagram.source_length),
        arrival_epoch_us);
  }
  switch (outcome) {
    case StreamReceiver::Outcome::Accepted:
      ++tally_.packets;
      tally_.bytes += datagram.bytes.size();
      noteArrival(*stream, arrival_epoch_us);
      break;
    case StreamReceiver::Outcome::Paused:
      ++tally_.packets_paused;
      noteArrival(*stream, arrival_epoch_us);  // a paused call is alive
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
    case StreamReceiver::Outcome::Unauthenticated:
      ++tally_.srtp_auth_failures;
      break;
    case StreamReceiver::Outcome::Replayed:
      ++tally_.srtp_replays;
      break;
  }
}

void MediaWorker::flushDue(std::chrono::steady_clock::time_point now) {
  while (!flush_queue_.empty() && flush_queue_.front().at <= now) {
    const uint64_t id = flush_queue_.front().stream_id;
    flush_queue_.pop_front();
    const auto found = streams_.find(id);
    if (found == streams_.end()) {
      continue;  // closed: its spool was flushed then
    }
    if (auto sync = found->second->receiver.periodicFlush(now)) {
      pending_syncs_.push_back(std::move(*sync));
    }
    noteWriteErrors(*found->second);
    flush_queue_.push_back(FlushDue{now + settings_.flush_interval, id});
  }
  // The syncs of one interval go to the closer together: one syncfs per file system instead
  // of an fdatasync (and a journal commit) per stream.
  if (!pending_syncs_.empty() && now >= next_sync_batch_) {
    next_sync_batch_ = now + settings_.flush_interval;
    closer_.submitSyncs(std::exchange(pending_syncs_, {}));
    pending_syncs_.reserve(streams_.size());
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
  if (tally_.packets != 0 || tally_.bytes != 0) {
    packets_.fetch_add(tally_.packets, relaxed);
    bytes_.fetch_add(tally_.bytes, relaxed);
  }
  if (tally_.malformed != 0) {
    malformed_.fetch_add(tally_.malformed, relaxed);
  }
  if (tally_.rtcp_packets != 0) {
    rtcp_packets_.fetch_add(tally_.rtcp_packets, relaxed);
  }
  if (tally_.dropped_foreign_source != 0) {
    dropped_foreign_source_.fetch_add(tally_.dropped_foreign_source, relaxed);
  }
  if (tally_.spool_write_errors != 0) {
    spool_write_errors_.fetch_add(tally_.spool_write_errors, relaxed);
  }
  if (tally_.packets_paused != 0) {
    packets_paused_.fetch_add(tally_.packets_paused, relaxed);
  }
  if (tally_.srtp_auth_failures != 0 || tally_.srtp_replays != 0) {
    srtp_auth_failures_.fetch_add(tally_.srtp_auth_failures, relaxed);
    srtp_replays_.fetch_add(tally_.srtp_replays, relaxed);
  }
  tally_ = Tally{};
}

}  // namespace siprecd::media
