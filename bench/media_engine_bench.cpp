// media_engine_bench: the receive engine alone (no SIP, no session), to compare receive
// backends and thread counts. Opens --streams streams on ports from --first-port to
// --last-port, writes the ports to --ports-file (for rtp_load --direct), serves the engine's
// packet count on --metrics-port, and closes every stream on SIGTERM.
//
//   media_engine_bench --backend io_uring --threads 1 --first-port 10000 --streams 2000
//                      --dir /tmp/engine --metrics-port 9101 --ports-file F [--rtcp-mux]

#include <atomic>
#include <csignal>
#include <cstdio>
#include <future>
#include <string>
#include <vector>

#include <poll.h>

#include "base/clock.hpp"
#include "bench_support.hpp"
#include "media/media_engine.hpp"

namespace siprecd::bench {
namespace {

std::atomic<bool> g_stop{false};

int run(const Flags& flags) {
  const int first = static_cast<int>(flags.number("first-port", 10000));
  const auto count = static_cast<std::size_t>(flags.number("streams", 2));
  const std::filesystem::path dir = flags.text("dir", "/tmp/media-engine-bench");
  std::filesystem::create_directories(dir);
  std::signal(SIGTERM, [](int) { g_stop.store(true); });
  std::signal(SIGINT, [](int) { g_stop.store(true); });

  media::MediaSettings settings;
  settings.ports = media::PortRange{static_cast<uint16_t>(first),
                                    static_cast<uint16_t>(flags.number("last-port", 59999))};
  settings.threads = static_cast<unsigned>(flags.number("threads", 1));
  auto backend = media::parseReceiveBackend(flags.text("backend", "recvmmsg"));
  if (!backend) {
    die(backend.error().message);
  }
  settings.receive_backend = *backend;
  SystemClock clock;
  media::MediaEngine engine(settings, clock);
  if (auto started = engine.start(); !started) {
    die("engine: " + started.error().message);
  }
  std::vector<uint64_t> ids;
  std::vector<uint16_t> ports;
  for (std::size_t i = 0; i < count; ++i) {
    media::StreamSpec spec;
    spec.recording_id = "bench";
    spec.stream_index = i % 2;
    spec.label = std::to_string(i % 2 + 1);
    spec.spool_path = dir / ("stream-" + std::to_string(i) + ".spool");
    spec.bind_address = "127.0.0.1";
    spec.payload_type = 0;
    spec.codec_name = "PCMU";
    spec.clock_rate = 8000;
    spec.telephone_event_pt = 101;
    spec.rtcp_mux = flags.has("rtcp-mux");
    auto handle = engine.openStream(spec);
    if (!handle) {
      die("stream " + std::to_string(i) + ": " + handle.error().message);
    }
    ids.push_back(handle->id);
    ports.push_back(handle->port);
  }
  MetricsResponder metrics(static_cast<int>(flags.number("metrics-port", 9101)));
  announcePorts(flags.text("ports-file"), ports);
  while (!g_stop.load()) {
    pollfd waiting{metrics.fd(), POLLIN, 0};
    if (::poll(&waiting, 1, 100) > 0) {
      metrics.serve(engine.stats().packets);
    }
  }
  std::vector<std::future<void>> closed;
  for (uint64_t id : ids) {
    auto done = std::make_shared<std::promise<void>>();
    closed.push_back(done->get_future());
    engine.closeStream(id, [done](media::StreamStats) { done->set_value(); });
  }
  for (auto& future : closed) {
    future.wait();
  }
  const media::EngineStats stats = engine.stats();
  const media::EngineInfo info = engine.info();
  std::printf(
      "{\"backend\": \"%s\", \"threads\": %u, \"packets\": %llu, \"malformed\": %llu, "
      "\"spool_write_errors\": %llu}\n",
      std::string(media::toString(info.receive_backend)).c_str(), info.threads,
      static_cast<unsigned long long>(stats.packets),
      static_cast<unsigned long long>(stats.malformed),
      static_cast<unsigned long long>(stats.spool_write_errors));
  return 0;
}

}  // namespace
}  // namespace siprecd::bench

int main(int argc, char** argv) {
  return siprecd::bench::run(siprecd::bench::Flags(argc, argv));
}
