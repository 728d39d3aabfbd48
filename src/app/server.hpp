#pragma once

#include <atomic>
#include <memory>

#include "app/config.hpp"
#include "base/result.hpp"

namespace siprecd::app {

/// The composition root: builds every component from the configuration, starts them in
/// dependency order, serves until a signal, drains, and stops them in reverse order.
/// Threads: the caller's (signals), the SIP loop, the media threads, the worker pool, the
/// HTTP server, the database writer, the event dispatcher and webhook client, and the
/// retention janitor (DESIGN.md §4).
class Server {
 public:
  explicit Server(Config config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Opens the state store, binds every listener (SIP, RTP range check, HTTP) and starts
  /// the threads. Failure names the component and the cause.
  Result<void> start();
  /// Blocks until SIGTERM/SIGINT has drained every call (a second signal ends them at once
  /// with BYE). Returns the process exit code.
  int run();

 private:
  struct Components;
  /// Domains, server secret, webhook client, event outbox and dispatcher (not started).
  Result<void> startControlPlane();
  void registerMetrics();
  Config config_;
  std::unique_ptr<Components> components_;
};

/// Blocks SIGTERM, SIGINT and SIGPIPE in the calling thread (call before any thread is
/// started, so every thread inherits the mask and Server::run() can sigwait for them).
void blockShutdownSignals();

}  // namespace siprecd::app
