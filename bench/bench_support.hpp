#pragma once

// Small helpers shared by the benchmark programs: command-line flags, /proc sampling of a
// process, and the one-line Prometheus endpoint the receivers expose so that the load
// generator reads every receiver's packet count the same way.

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace siprecd::bench {

/// "--name value" flags; a flag without value ("--name" followed by another flag) is "1".
class Flags {
 public:
  Flags(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      std::string_view arg(argv[i]);
      if (!arg.starts_with("--")) {
        continue;
      }
      std::string name(arg.substr(2));
      if (i + 1 < argc && !std::string_view(argv[i + 1]).starts_with("--")) {
        values_[name] = argv[++i];
      } else {
        values_[name] = "1";
      }
    }
  }
  std::string text(const std::string& name, std::string fallback = "") const {
    const auto found = values_.find(name);
    return found == values_.end() ? fallback : found->second;
  }
  long number(const std::string& name, long fallback) const {
    const auto found = values_.find(name);
    return found == values_.end() ? fallback : std::strtol(found->second.c_str(), nullptr, 10);
  }
  double real(const std::string& name, double fallback) const {
    const auto found = values_.find(name);
    return found == values_.end() ? fallback : std::strtod(found->second.c_str(), nullptr);
  }
  bool has(const std::string& name) const { return values_.count(name) != 0; }

 private:
  std::map<std::string, std::string> values_;
};

[[noreturn]] inline void die(const std::string& message) {
  std::fprintf(stderr, "%s\n", message.c_str());
  std::exit(2);
}

/// What /proc says about a process at one moment.
struct ProcessSample {
  double cpu_s = 0;        ///< utime + stime of every thread, seconds
  double media_cpu_s = 0;  ///< the same for threads named "siprecd-media*"
  uint64_t rss_kib = 0;    ///< VmRSS
  int64_t fds = -1;        ///< entries of /proc/<pid>/fd
  std::chrono::steady_clock::time_point at;
};

/// utime + stime (fields 14 and 15 of /proc/.../stat), seconds; 0 when unreadable.
inline double statCpuSeconds(const std::filesystem::path& stat_path) {
  std::ifstream in(stat_path);
  std::string line;
  std::getline(in, line);
  const auto close = line.rfind(')');  // the command may hold spaces
  if (close == std::string::npos) {
    return 0;
  }
  std::istringstream fields(line.substr(close + 2));
  std::string field;
  uint64_t utime = 0;
  uint64_t stime = 0;
  for (int index = 3; fields >> field; ++index) {
    if (index == 14) {
      utime = std::strtoull(field.c_str(), nullptr, 10);
    } else if (index == 15) {
      stime = std::strtoull(field.c_str(), nullptr, 10);
      break;
    }
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

inline ProcessSample sampleProcess(long pid) {
  ProcessSample sample;
  sample.at = std::chrono::steady_clock::now();
  const std::filesystem::path proc = "/proc/" + std::to_string(pid);
  sample.cpu_s = statCpuSeconds(proc / "stat");
  std::error_code error;
  for (const auto& task : std::filesystem::directory_iterator(proc / "task", error)) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    if (name.starts_with("siprecd-media")) {
      sample.media_cpu_s += statCpuSeconds(task.path() / "stat");
    }
  }
  std::ifstream status(proc / "status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmRSS:")) {
      sample.rss_kib = std::strtoull(line.c_str() + 6, nullptr, 10);
    }
  }
  int64_t fds = 0;
  for (std::filesystem::directory_iterator it(proc / "fd", error), end; !error && it != end;
       it.increment(error)) {
    ++fds;
  }
  sample.fds = error ? -1 : fds;
  return sample;
}

/// Reads the value of metric `name` (a line "name value") from http://host:port/metrics;
/// nullopt when the endpoint or the metric is missing.
inline std::optional<double> fetchMetric(const std::string& host, int port, std::string_view name) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return std::nullopt;
  }
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, host.c_str(), &to.sin_addr);
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  std::string response;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof(to)) == 0) {
    const std::string request =
        "GET /metrics HTTP/1.0\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      char chunk[16384];
      ssize_t got = 0;
      while ((got = ::recv(fd, chunk, sizeof(chunk), 0)) > 0) {
        response.append(chunk, static_cast<std::size_t>(got));
      }
    }
  }
  ::close(fd);
  std::istringstream lines(response);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.starts_with(name) && line.size() > name.size() && line[name.size()] == ' ') {
      return std::strtod(line.c_str() + name.size() + 1, nullptr);
    }
  }
  return std::nullopt;
}

/// A listening TCP socket on 127.0.0.1:port answering every request with one metric line
/// "siprecd_rtp_packets_total <value>" (what the receivers are compared by).
class MetricsResponder {
 public:
  explicit MetricsResponder(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_port = htons(static_cast<uint16_t>(port));
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&local), sizeof(local)) != 0 ||
        ::listen(fd_, 16) != 0) {
      die("metrics port " + std::to_string(port) + ": " + std::strerror(errno));
    }
  }
  MetricsResponder(const MetricsResponder&) = delete;
  MetricsResponder& operator=(const MetricsResponder&) = delete;
  ~MetricsResponder() { ::close(fd_); }

  int fd() const { return fd_; }

  /// Answers every pending connection (call when fd() is readable, or periodically).
  void serve(uint64_t packets) const {
    for (;;) {
      const int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) {
        return;
      }
      char request[2048];
      timeval timeout{1, 0};
      ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
      [[maybe_unused]] const ssize_t ignored = ::recv(client, request, sizeof(request), 0);
      const std::string body = "siprecd_rtp_packets_total " + std::to_string(packets) + "\n";
      const std::string response =
          "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
          std::to_string(body.size()) + "\r\n\r\n" + body;
      [[maybe_unused]] const ssize_t sent =
          ::send(client, response.data(), response.size(), MSG_NOSIGNAL);
      ::close(client);
    }
  }

 private:
  int fd_ = -1;
};

/// Writes the receiver's RTP ports, one per line, to `path` (through a temporary name, so a
/// waiting script sees the whole list at once): it announces that the receiver is ready and
/// tells rtp_load --direct where to send.
template <typename Ports>
void announcePorts(const std::string& path, const Ports& ports) {
  if (path.empty()) {
    return;
  }
  {
    std::ofstream out(path + ".tmp");
    for (const auto port : ports) {
      out << port << "\n";
    }
  }
  std::filesystem::rename(path + ".tmp", path);
}

}  // namespace siprecd::bench
