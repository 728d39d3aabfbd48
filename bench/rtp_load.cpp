// rtp_load: the benchmark load generator. N concurrent two-stream G.711 calls, each set up
// through siprecd for real (SIPREC INVITE -> 200 -> ACK, see sip_uac.hpp) or, with
// --direct-port, sent straight to ports first, first+2, ... (the bare reference receiver and
// the engine bench bind those). Every stream gets 20 ms RTP with absolute-deadline pacing
// (rtp_sender.hpp) until the measurement window ends; then RTP stops, the receiver's packet
// count is read from its /metrics (siprecd_rtp_packets_total), and the calls end with BYE.
// With --watch-pid it samples the receiver's CPU time, RSS and descriptors (/proc) before
// the first call and over the window. Prints one JSON object on stdout. --no-rtp sets the
// calls up without sending RTP (what signalling alone costs).
// --direct FILE sends to the ports listed in FILE (one per line, two per call, as the bare
// receiver and the engine bench write them) on --direct-host.
//
//   rtp_load --calls 1000 --seconds 20 --sip 127.0.0.1:5060 --metrics 127.0.0.1:8080
//            --watch-pid 1234 [--setup-rate 300] [--warmup 2] [--sockets 8] [--slots 20]
//            [--sender-threads 1] [--realtime]
// --realtime runs the sender threads SCHED_FIFO (when permitted) so that a busy machine does
// not make the generator miss its deadlines.
//   rtp_load --calls 1000 --seconds 20 --direct ports.txt --metrics 127.0.0.1:9100 ...

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <arpa/inet.h>
#include <poll.h>

#include "bench_support.hpp"
#include "rtp_sender.hpp"
#include "sip_uac.hpp"

namespace siprecd::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

struct HostPort {
  std::string host;
  int port = 0;
};

HostPort parseHostPort(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) {
    die("expected HOST:PORT, got " + text);
  }
  return HostPort{text.substr(0, colon), std::atoi(text.c_str() + colon + 1)};
}

sockaddr_in ipv4(const std::string& host, int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) {
    die("not an IPv4 address: " + host);
  }
  return address;
}

/// One JSON object of numbers, built field by field.
class JsonLine {
 public:
  template <typename Number>
  JsonLine& add(const char* name, Number value) {
    text_ += text_.empty() ? "{" : ", ";
    text_ += std::string("\"") + name + "\": ";
    if constexpr (std::is_floating_point_v<Number>) {
      char number[64];
      // Counts stay exact; other values get six significant digits.
      const bool whole = std::floor(value) == value && std::fabs(value) < 1e15;
      std::snprintf(number, sizeof(number), whole ? "%.0f" : "%.6g", value);
      text_ += number;
    } else {
      text_ += std::to_string(value);
    }
    return *this;
  }
  std::string text() const { return text_ + "}"; }

 private:
  std::string text_;
};

double seconds(SteadyClock::duration duration) {
  return std::chrono::duration<double>(duration).count();
}

/// Keeps the SIP side answered (retransmissions, server requests) until `deadline` or until
/// `done` holds.
template <typename Done>
void serveSip(SipUac* uac, SteadyClock::time_point deadline, Done done) {
  while (SteadyClock::now() < deadline && !done()) {
    if (uac == nullptr) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    pollfd waiting{uac->fd(), POLLIN, 0};
    ::poll(&waiting, 1, 5);
    const auto now = SteadyClock::now();
    uac->receive(now);
    uac->tick(now);
  }
}

int run(const Flags& flags) {
  const auto calls = static_cast<std::size_t>(flags.number("calls", 100));
  const double window_s = flags.real("seconds", 20);
  const double warmup_s = flags.real("warmup", 2);
  const double setup_rate = flags.real("setup-rate", 300);
  const std::string local_ip = flags.text("local-ip", "127.0.0.1");
  const long watch_pid = flags.number("watch-pid", 0);
  const bool sip_mode = flags.has("sip");
  if (!sip_mode && !flags.has("direct")) {
    die("rtp_load: give --sip HOST:PORT or --direct PORTS_FILE");
  }

  const ProcessSample base = watch_pid > 0 ? sampleProcess(watch_pid) : ProcessSample{};
  RtpSenderPool sender(local_ip, static_cast<int>(flags.number("sender-threads", 1)),
                       static_cast<int>(flags.number("sockets", 8)),
                       static_cast<int>(flags.number("slots", 20)));
  sender.start(flags.has("realtime"));

  const auto setup_start = SteadyClock::now();
  std::unique_ptr<SipUac> uac;
  std::size_t answered = calls;
  if (sip_mode) {
    const HostPort server = parseHostPort(flags.text("sip"));
    uac =
        std::make_unique<SipUac>(local_ip, ipv4(server.host, server.port), calls,
                                 std::array<uint16_t, 2>{sender.localPort(0), sender.localPort(1)},
                                 [&sender, no_rtp = flags.has("no-rtp")](
                                     std::size_t, const std::vector<sockaddr_in>& media) {
                                   if (!no_rtp) {
                                     sender.add(media);
                                   }
                                 });
    const auto interval = std::chrono::duration_cast<SteadyClock::duration>(
        std::chrono::duration<double>(1.0 / std::max(setup_rate, 1.0)));
    const auto give_up = setup_start + std::chrono::seconds(10) + interval * calls;
    std::size_t invited = 0;
    auto next_invite = setup_start;
    while (uac->answered() + uac->failed() < calls && SteadyClock::now() < give_up) {
      auto now = SteadyClock::now();
      while (invited < calls && now >= next_invite && uac->pendingInvites() < 500) {
        uac->invite(invited++, now);
        next_invite += interval;
      }
      pollfd waiting{uac->fd(), POLLIN, 0};
      ::poll(&waiting, 1, 2);
      now = SteadyClock::now();
      uac->receive(now);
      uac->tick(now);
    }
    answered = uac->answered();
  } else {
    const std::string host = flags.text("direct-host", "127.0.0.1");
    std::ifstream ports(flags.text("direct"));
    std::vector<sockaddr_in> targets;
    int port = 0;
    while (targets.size() < 2 * calls && ports >> port) {
      targets.push_back(ipv4(host, port));
    }
    if (targets.size() < 2 * calls) {
      die("rtp_load: " + flags.text("direct") + " lists fewer than " + std::to_string(2 * calls) +
          " ports");
    }
    sender.add(targets);
  }
  const double setup_s = seconds(SteadyClock::now() - setup_start);
  // Streams start at the sender's next period.
  serveSip(uac.get(), SteadyClock::now() + std::chrono::seconds(2),
           [&] { return flags.has("no-rtp") || sender.streams() >= 2 * answered; });

  serveSip(uac.get(),
           SteadyClock::now() + std::chrono::milliseconds(static_cast<int64_t>(warmup_s * 1000)),
           [] { return false; });
  const ProcessSample start = watch_pid > 0 ? sampleProcess(watch_pid) : ProcessSample{};
  const uint64_t sent_before_window = sender.sent();
  const auto window_start = SteadyClock::now();
  serveSip(uac.get(),
           window_start + std::chrono::milliseconds(static_cast<int64_t>(window_s * 1000)),
           [] { return false; });
  const ProcessSample end = watch_pid > 0 ? sampleProcess(watch_pid) : ProcessSample{};
  const double measured_s = seconds(SteadyClock::now() - window_start);
  const uint64_t window_packets = sender.sent() - sent_before_window;
  const uint64_t late_slots = sender.lateSlots();

  sender.stop();
  serveSip(uac.get(), SteadyClock::now() + std::chrono::milliseconds(500), [] { return false; });
  double received = -1;
  if (flags.has("metrics")) {
    const HostPort metrics = parseHostPort(flags.text("metrics"));
    received = fetchMetric(metrics.host, metrics.port, "siprecd_rtp_packets_total").value_or(-1);
  }

  if (uac) {
    const auto bye_start = SteadyClock::now();
    const auto interval = std::chrono::duration_cast<SteadyClock::duration>(
        std::chrono::duration<double>(1.0 / std::max(2 * setup_rate, 1.0)));
    auto next_bye = bye_start;
    std::size_t index = 0;
    const auto give_up = bye_start + std::chrono::seconds(10) + interval * calls;
    while ((index < calls || uac->pendingByes() > 0) && SteadyClock::now() < give_up) {
      auto now = SteadyClock::now();
      while (index < calls && now >= next_bye) {
        uac->bye(index++, now);
        next_bye += interval;
      }
      pollfd waiting{uac->fd(), POLLIN, 0};
      ::poll(&waiting, 1, 2);
      now = SteadyClock::now();
      uac->receive(now);
      uac->tick(now);
    }
  }

  const uint64_t sent = sender.sent();
  const double n = answered > 0 ? static_cast<double>(answered) : 1.0;
  const double cpu_core_percent =
      watch_pid > 0 ? 100.0 * (end.cpu_s - start.cpu_s) / measured_s : -1;
  const double media_core_percent =
      watch_pid > 0 ? 100.0 * (end.media_cpu_s - start.media_cpu_s) / measured_s : -1;
  const uint64_t rss_kib = std::max(start.rss_kib, end.rss_kib);
  const double packets = window_packets > 0 ? static_cast<double>(window_packets) : 1.0;
  const double cpu_us_per_packet = watch_pid > 0 ? 1e6 * (end.cpu_s - start.cpu_s) / packets : -1;
  const double media_us_per_packet =
      watch_pid > 0 ? 1e6 * (end.media_cpu_s - start.media_cpu_s) / packets : -1;
  // What the generator managed to send over the window against 50 packets/s per stream.
  const double nominal = 2.0 * static_cast<double>(answered) * 50.0 * measured_s;
  const double offered_ratio = nominal > 0 ? static_cast<double>(window_packets) / nominal : 0;
  JsonLine out;
  out.add("calls", calls).add("answered", answered).add("failed", uac ? uac->failed() : 0);
  out.add("streams", sender.streams()).add("setup_s", setup_s);
  out.add("slowest_answer_ms", uac ? uac->slowestAnswer().count() : 0);
  out.add("window_s", measured_s).add("sent", sent).add("received", received);
  out.add("lost", received >= 0 ? static_cast<double>(sent) - received : -1.0);
  out.add("send_errors", sender.sendErrors()).add("late_slots", late_slots);
  out.add("max_late_ms", static_cast<double>(sender.maxLateUs()) / 1000.0);
  out.add("window_packets", window_packets).add("offered_ratio", offered_ratio);
  out.add("cpu_us_per_packet", cpu_us_per_packet).add("media_us_per_packet", media_us_per_packet);
  // Per call at the nominal 100 packets/s (two streams): right even when the generator lagged.
  out.add("cpu_core_percent", cpu_core_percent)
      .add("cpu_percent_per_call", cpu_us_per_packet * 100.0 / 1e4);
  out.add("media_core_percent", media_core_percent);
  out.add("rss_base_kib", base.rss_kib).add("rss_kib", rss_kib);
  out.add("rss_per_call_kib",
          (static_cast<double>(rss_kib) - static_cast<double>(base.rss_kib)) / n);
  // The larger of the window's two samples: spool files open with the first flush.
  const int64_t fds = std::max(start.fds, end.fds);
  out.add("fds_base", base.fds).add("fds", fds);
  out.add("fds_per_call", static_cast<double>(fds - base.fds) / n);
  out.add("byes_ok", uac ? uac->byesDone() : 0).add("byes_failed", uac ? uac->byesFailed() : 0);
  out.add("remote_byes", uac ? uac->remoteByes() : 0);
  std::printf("%s\n", out.text().c_str());
  return 0;
}

}  // namespace
}  // namespace siprecd::bench

int main(int argc, char** argv) {
  return siprecd::bench::run(siprecd::bench::Flags(argc, argv));
}
