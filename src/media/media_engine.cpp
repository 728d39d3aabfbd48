#include "media/media_engine.hpp"

#include <string>

#include "media/media_worker.hpp"
#include "media/spool_writer.hpp"
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

}  // namespace

MediaEngine::MediaEngine(MediaSettings settings, const Clock& clock)
    : settings_(settings), clock_(clock), pool_(settings.ports, settings.port_cooldown) {
  auto worker = MediaWorker::create(clock_, settings_.flush_interval,
                                    [this](uint16_t port) { releasePort(port); });
  if (worker) {
    worker_ = std::move(*worker);
  } else {
    worker_error_ = worker.error().message;
  }
}

MediaEngine::~MediaEngine() {
  worker_.reset();
}

Result<void> MediaEngine::start() {
  if (!worker_) {
    return fail(worker_error_);
  }
  return worker_->start();
}

Result<StreamHandle> MediaEngine::openStream(const StreamSpec& spec) {
  if (!worker_) {
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
    auto bound = bindPair(*address, *acquired, spec.rtcp_mux, settings_.socket_buffer_bytes);
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
  auto writer = SpoolWriter::create(spec.spool_path, header, settings_.spool_buffer_bytes);
  if (!writer) {
    sockets.reset();
    std::lock_guard lock(pool_mutex_);
    pool_.releaseUnused(port);
    return tl::unexpected(writer.error());
  }

  std::vector<uint8_t> latch_payload_types{spec.payload_type};
  if (spec.telephone_event_pt) {
    latch_payload_types.push_back(*spec.telephone_event_pt);
  }
  const uint64_t id = next_stream_id_.fetch_add(1);
  auto last_packet = std::make_shared<std::atomic<int64_t>>(0);
  worker_->addStream(std::make_unique<WorkerStream>(
      WorkerStream{id, port, std::move(sockets->rtp), std::move(sockets->rtcp),
                   StreamReceiver(std::move(*writer), std::move(latch_payload_types),
                                  ReceiveFormat{spec.clock_rate, spec.telephone_event_pt}),
                   last_packet}));
  return StreamHandle{id, port, std::move(last_packet)};
}

void MediaEngine::closeStream(uint64_t id, std::function<void(StreamStats)> on_closed) {
  if (worker_) {
    worker_->removeStream(id, std::move(on_closed));
  }
}

EngineStats MediaEngine::stats() const {
  return worker_ ? worker_->stats() : EngineStats{};
}

void MediaEngine::releasePort(uint16_t port) {
  std::lock_guard lock(pool_mutex_);
  pool_.release(port, clock_.steadyNow());
}

}  // namespace siprecd::media
