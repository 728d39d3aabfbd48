#include "media/media_engine.hpp"

#include <limits>
#include <string>

#include <sys/resource.h>
#include <sys/socket.h>

#include "base/log.hpp"
#include "media/media_worker.hpp"
#include "media/open_file_limit.hpp"
#include "media/spool_writer.hpp"
#include "media/srtp_session.hpp"
#include "media/udp_socket.hpp"

namespace siprecd::media {

namespace {

struct BoundPair {
  UdpSocket rtp;
  std::optional<UdpSocket> rtcp;
};

tl::expected<BoundPair, BindError> bindPair(const BindAddress& address, uint16_t port,
                                            bool rtcp_mux, std::size_t buffer_bytes) {
  auto rtp = UdpSocket::bind(address, port, buffer_bytes);
  if (!rtp) {
    return tl::unexpected(rtp.error());
  }
  BoundPair pair{std::move(*rtp), std::nullopt};
  if (!rtcp_mux) {
    auto rtcp = UdpSocket::bind(address, static_cast<uint16_t>(port + 1), buffer_bytes);
    if (!rtcp) {
      return tl::unexpected(rtcp.error());
    }
    pair.rtcp = std::move(*rtcp);
  }
  return pair;
}

std::string rangeText(PortRange range) {
  return std::to_string(range.first) + "-" + std::to_string(range.last);
}

/// What the kernel grants a UDP socket for `asked` bytes of receive buffer (0 when no socket
/// can be created).
std::size_t grantedReceiveBuffer(std::size_t asked) {
  UniqueFd probe(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  return probe.valid() ? setReceiveBuffer(probe.get(), asked) : 0;
}

}  // namespace

MediaEngine::MediaEngine(MediaSettings settings, const Clock& clock)
    : settings_(settings), clock_(clock), pool_(settings.ports, settings.port_cooldown) {
  const unsigned threads = resolveMediaThreads(settings_.threads);
  opened_per_worker_ = std::make_unique<std::atomic<uint64_t>[]>(threads);
  for (unsigned index = 0; index < threads; ++index) {
    MediaWorker::Settings worker_settings;
    worker_settings.index = index;
    worker_settings.flush_interval = settings_.flush_interval;
    worker_settings.backend = settings_.receive_backend;
    auto worker = MediaWorker::create(
        clock_, worker_settings, [this](uint16_t port) { releasePort(port); },
        [this](unsigned descriptors) {
          stream_descriptors_.fetch_sub(descriptors, std::memory_order_relaxed);
        });
    if (!worker) {
      worker_error_ = worker.error().message;
      workers_.clear();
      return;
    }
    workers_.push_back(std::move(*worker));
  }
}

MediaEngine::~MediaEngine() {
  // Each worker finishes its streams and joins its thread; a worker's port releases reach
  // pool_, which outlives them.
  workers_.clear();
}

Result<void> MediaEngine::start() {
  if (workers_.empty()) {
    return fail(worker_error_);
  }
  if (started_.load()) {
    return fail("media engine already started");
  }
  EngineInfo info;
  info.threads = static_cast<unsigned>(workers_.size());
  if (settings_.raise_file_limit) {
    const auto limit = raiseOpenFileLimit();
    if (limit) {
      info.open_file_limit = limit->soft;
      log::info("media",
                "open-file limit {} (was {}, hard {}): room for about {} two-stream calls at {} "
                "descriptors each",
                limit->soft, limit->soft_before, limit->hard,
                limit->soft / (2 * descriptorsPerStream(false)), 2 * descriptorsPerStream(false));
    } else {
      log::warn("media", "cannot raise the open-file limit: {}", limit.error().message);
    }
  }
  const int64_t in_use = openDescriptorCount();
  if (info.open_file_limit == 0) {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) {
      info.open_file_limit = limit.rlim_cur;
    }
  }
  if (info.open_file_limit > 0 && info.open_file_limit != RLIM_INFINITY && in_use >= 0) {
    const uint64_t kept = static_cast<uint64_t>(in_use) + settings_.descriptor_reserve +
                          workers_.size() * kDescriptorsPerThread;
    info.stream_descriptor_budget = info.open_file_limit > kept ? info.open_file_limit - kept : 1;
    descriptor_budget_.store(info.stream_descriptor_budget);
    log::info("media",
              "descriptors: limit {}, {} in use, {} kept in reserve: room for {} two-stream "
              "calls ({} each)",
              info.open_file_limit, in_use, settings_.descriptor_reserve,
              info.stream_descriptor_budget / (2 * descriptorsPerStream(false)),
              2 * descriptorsPerStream(false));
  }
  info.socket_receive_buffer_bytes = grantedReceiveBuffer(settings_.socket_buffer_bytes);
  // Linux reports twice the size it accepted; less than that means a cap (rmem_max).
  if (info.socket_receive_buffer_bytes < 2 * settings_.socket_buffer_bytes) {
    log::warn("media",
              "socket receive buffer: asked {} bytes, the kernel grants {} (raise "
              "net.core.rmem_max or run with CAP_NET_ADMIN)",
              settings_.socket_buffer_bytes, info.socket_receive_buffer_bytes);
  }
  for (std::size_t index = 0; index < workers_.size(); ++index) {
    if (auto started = workers_[index]->start(); !started) {
      worker_error_ = started.error().message;
      workers_.clear();  // stops the threads already running
      return fail("media thread " + std::to_string(index) + ": " + worker_error_);
    }
  }
  info.receive_backend = workers_.front()->backend();
  for (const auto& worker : workers_) {
    if (worker->backend() != settings_.receive_backend) {
      info.receive_backend = worker->backend();
    }
  }
  info_ = info;
  started_.store(true);
  log::info("media", "{} media threads, {} receive, socket buffer {} bytes granted", info.threads,
            toString(info.receive_backend), info.socket_receive_buffer_bytes);
  return {};
}

Result<StreamHandle> MediaEngine::openStream(const StreamSpec& spec) {
  if (workers_.empty()) {
    return fail(worker_error_);
  }
  if (spec.clock_rate == 0) {
    return fail("stream clock_rate must be positive");
  }
  if (spec.payload_type > 127 || (spec.telephone_event_pt && *spec.telephone_event_pt > 127)) {
    return fail("stream payload_type above 127");
  }
  auto address = BindAddress::parse(spec.bind_address);
  if (!address) {
    return tl::unexpected(address.error());
  }
  // Reserved for the stream's whole life (sockets now, spool file later), so that the
  // streams already open can always create their spool files.
  const unsigned descriptors = descriptorsPerStream(spec.rtcp_mux);
  const uint64_t budget = descriptor_budget_.load();
  const uint64_t reserved =
      stream_descriptors_.fetch_add(descriptors, std::memory_order_relaxed) + descriptors;
  if (budget > 0 && reserved > budget) {
    stream_descriptors_.fetch_sub(descriptors, std::memory_order_relaxed);
    return fail("media descriptors exhausted: open streams hold " +
                    std::to_string(reserved - descriptors) + " of the " + std::to_string(budget) +
                    " the open-file limit leaves them",
                503);
  }
  auto opened = openReserved(spec, *address, descriptors);
  if (!opened) {
    stream_descriptors_.fetch_sub(descriptors, std::memory_order_relaxed);
  }
  return opened;
}

Result<StreamHandle> MediaEngine::openReserved(const StreamSpec& spec, const BindAddress& address,
                                               unsigned descriptors) {
  std::optional<BoundPair> sockets;
  uint16_t port = 0;
  std::size_t capacity = 0;
  for (std::size_t attempt = 0; !sockets; ++attempt) {
    std::optional<uint16_t> acquired;
    {
      std::lock_guard lock(pool_mutex_);
      capacity = pool_.capacity();
      if (attempt < capacity) {
        acquired = pool_.acquire(clock_.steadyNow());
      }
    }
    if (!acquired) {
      return fail("media port range " + rangeText(settings_.ports) + " exhausted");
    }
    auto bound = bindPair(address, *acquired, spec.rtcp_mux, settings_.socket_buffer_bytes);
    if (bound) {
      sockets = std::move(*bound);
      port = *acquired;
      break;
    }
    std::lock_guard lock(pool_mutex_);
    if (!bound.error().address_in_use) {
      pool_.releaseUnused(*acquired);
      return fail(bound.error().message);
    }
    // Busy (another process holds it): retry it only after a cool-down.
    pool_.release(*acquired, clock_.steadyNow());
  }

  SpoolHeader header;
  header.recording_id = spec.recording_id;
  header.stream_index = static_cast<uint32_t>(spec.stream_index);
  header.label = spec.label;
  header.codec_name = spec.codec_name;
  header.clock_rate = spec.clock_rate;
  header.payload_type = spec.payload_type;
  header.telephone_event_pt = spec.telephone_event_pt;
  SpoolWriterSettings writer_settings;
  writer_settings.buffer_bytes = settings_.spool_buffer_bytes;
  writer_settings.flush_interval = settings_.flush_interval;
  auto writer = SpoolWriter::create(spec.spool_path, header, writer_settings);
  std::optional<SrtpSession> srtp;
  Error failure;
  if (writer && spec.srtp) {
    auto session = SrtpSession::create(spec.srtp->suite, spec.srtp->master_key_salt,
                                       SrtpSession::Direction::Inbound);
    if (session) {
      srtp = std::move(*session);
    } else {
      failure = session.error();
    }
  }
  if (!writer || (spec.srtp && !srtp)) {
    sockets.reset();
    std::lock_guard lock(pool_mutex_);
    pool_.releaseUnused(port);
    return tl::unexpected(writer ? failure : writer.error());
  }

  std::vector<uint8_t> latch_payload_types{spec.payload_type};
  if (spec.telephone_event_pt) {
    latch_payload_types.push_back(*spec.telephone_event_pt);
  }
  const std::size_t worker = leastLoadedWorker();
  const uint64_t id =
      opened_per_worker_[worker].fetch_add(1, std::memory_order_relaxed) * workers_.size() +
      workers_.size() + worker;
  auto last_packet = std::make_shared<std::atomic<int64_t>>(0);
  auto stream = std::make_unique<WorkerStream>(WorkerStream{
      id, port, std::move(sockets->rtp), std::move(sockets->rtcp),
      StreamReceiver(std::move(*writer), std::move(latch_payload_types),
                     ReceiveFormat{spec.clock_rate, spec.telephone_event_pt}, std::move(srtp)),
      last_packet});
  stream->descriptors = descriptors;
  workers_[worker]->addStream(std::move(stream));
  return StreamHandle{id, port, std::move(last_packet)};
}

std::size_t MediaEngine::leastLoadedWorker() const {
  std::size_t best = 0;
  uint64_t best_count = std::numeric_limits<uint64_t>::max();
  for (std::size_t index = 0; index < workers_.size(); ++index) {
    const uint64_t count = workers_[index]->streamCount();
    if (count < best_count) {
      best = index;
      best_count = count;
    }
  }
  return best;
}

void MediaEngine::closeStream(uint64_t id, std::function<void(StreamStats)> on_closed) {
  if (workers_.empty()) {
    return;
  }
  // Ids are built as count * threads + threads + thread (see openStream), so an id names
  // its thread; an unknown id lands on some thread, which answers with zeroed stats.
  workers_[id % workers_.size()]->removeStream(id, std::move(on_closed));
}

void MediaEngine::setCapturePaused(uint64_t id, bool paused) {
  if (!workers_.empty()) {
    workers_[id % workers_.size()]->setCapturePaused(id, paused);
  }
}

EngineStats MediaEngine::stats() const {
  EngineStats total;
  for (const auto& worker : workers_) {
    const EngineStats part = worker->stats();
    total.streams_active += part.streams_active;
    total.packets += part.packets;
    total.bytes += part.bytes;
    total.malformed += part.malformed;
    total.rtcp_packets += part.rtcp_packets;
    total.dropped_foreign_source += part.dropped_foreign_source;
    total.spool_write_errors += part.spool_write_errors;
    total.srtp_auth_failures += part.srtp_auth_failures;
    total.srtp_replays += part.srtp_replays;
    total.packets_paused += part.packets_paused;
  }
  return total;
}

std::vector<uint64_t> MediaEngine::streamsPerThread() const {
  std::vector<uint64_t> counts;
  counts.reserve(workers_.size());
  for (const auto& worker : workers_) {
    counts.push_back(worker->streamCount());
  }
  return counts;
}

EngineInfo MediaEngine::info() const {
  return started_.load() ? info_ : EngineInfo{};
}

void MediaEngine::releasePort(uint16_t port) {
  std::lock_guard lock(pool_mutex_);
  pool_.release(port, clock_.steadyNow());
}

}  // namespace siprecd::media
