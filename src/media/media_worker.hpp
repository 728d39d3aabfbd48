#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include "base/clock.hpp"
#include "base/log.hpp"
#include "base/result.hpp"
#include "media/spool_closer.hpp"
#include "media/stream_receiver.hpp"
#include "media/stream_stats.hpp"
#include "media/udp_socket.hpp"
#include "media/unique_fd.hpp"

namespace siprecd::media {

/// A stream as a media thread owns it: its sockets and its receiver.
struct WorkerStream {
  uint64_t id;
  uint16_t port;
  UdpSocket rtp;
  std::optional<UdpSocket> rtcp;  ///< absent with rtcp-mux
  StreamReceiver receiver;
  /// Shared with the StreamHandle: epoch µs of the latest accepted RTP packet.
  std::shared_ptr<std::atomic<int64_t>> last_packet_epoch_us;
};

/// One media thread: an epoll loop over its streams' non-blocking UDP sockets, draining
/// each readable socket with recvmmsg batches into buffers allocated once. Streams are
/// added and removed through a command queue (a mutex-guarded vector the thread swaps,
/// and an eventfd to wake it). Spool buffers are written every `flush_interval`.
class MediaWorker {
 public:
  /// Called on the media thread when a stream's sockets are closed, to recycle its port.
  using PortReleaser = std::function<void(uint16_t port)>;
  using OnClosed = std::function<void(StreamStats)>;

  /// Creates the epoll and eventfd descriptors (the thread starts in start()).
  [[nodiscard]] static Result<std::unique_ptr<MediaWorker>> create(
      const Clock& clock, std::chrono::milliseconds flush_interval, PortReleaser release_port);
  /// Stops the thread: pending commands run, open streams are flushed, synced and closed
  /// (without callback), pending close callbacks are called, then the thread is joined.
  ~MediaWorker();
  MediaWorker(const MediaWorker&) = delete;
  MediaWorker& operator=(const MediaWorker&) = delete;

  /// Starts the media thread. Fails when already started or the thread cannot start.
  [[nodiscard]] Result<void> start();
  /// Hands `stream` to the media thread. Thread-safe.
  void addStream(std::unique_ptr<WorkerStream> stream);
  /// Asks the media thread to close stream `id`: it stops receiving, flushes the spool,
  /// releases the port, finishes the spool on the closer thread, then calls `on_closed`
  /// on the media thread (with zeroed stats for an unknown id). Thread-safe.
  void removeStream(uint64_t id, OnClosed on_closed);
  /// Thread-safe snapshot of the totals.
  EngineStats stats() const;

 private:
  struct AddCommand {
    std::unique_ptr<WorkerStream> stream;
  };
  struct RemoveCommand {
    uint64_t id;
    OnClosed on_closed;
  };
  struct ClosedCommand {
    StreamStats stats;
    uint64_t new_write_errors;
    std::string error;  ///< why finishing the spool failed, empty when it did not
    OnClosed on_closed;
  };
  using Command = std::variant<AddCommand, RemoveCommand, ClosedCommand>;

  /// Totals gathered during one loop iteration, published with one atomic add each.
  struct Tally {
    uint64_t packets = 0;
    uint64_t bytes = 0;
    uint64_t malformed = 0;
    uint64_t rtcp_packets = 0;
    uint64_t dropped_foreign_source = 0;
    uint64_t spool_write_errors = 0;
  };

  MediaWorker(const Clock& clock, std::chrono::milliseconds flush_interval,
              PortReleaser release_port, UniqueFd epoll, UniqueFd wakeup);

  void post(Command command);
  void run();
  void shutdown();
  bool processCommands();
  void handle(AddCommand& command);
  void handle(RemoveCommand& command);
  void handle(ClosedCommand& command);
  void receive(uint64_t key);
  void flushAll();
  /// Adds the stream's new spool write errors to the totals and logs them (rate-limited).
  void noteWriteErrors(WorkerStream& stream);
  void publish();
  void unregister(const WorkerStream& stream);
  int64_t epochMicros() const;

  const Clock& clock_;
  const std::chrono::milliseconds flush_interval_;
  PortReleaser release_port_;
  UniqueFd epoll_;
  UniqueFd wakeup_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  SpoolCloser closer_;

  std::mutex commands_mutex_;
  std::vector<Command> commands_;  // guarded by commands_mutex_

  // Media thread only.
  std::unordered_map<uint64_t, std::unique_ptr<WorkerStream>> streams_;
  std::vector<Command> running_commands_;
  Tally tally_;
  log::RateLimiter write_error_log_{1};
  struct ReceiveBuffers;
  std::unique_ptr<ReceiveBuffers> buffers_;

  std::atomic<uint64_t> streams_active_{0};
  std::atomic<uint64_t> packets_{0};
  std::atomic<uint64_t> bytes_{0};
  std::atomic<uint64_t> malformed_{0};
  std::atomic<uint64_t> rtcp_packets_{0};
  std::atomic<uint64_t> dropped_foreign_source_{0};
  std::atomic<uint64_t> spool_write_errors_{0};
};

}  // namespace siprecd::media
