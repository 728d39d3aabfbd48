#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
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
#include "base/unique_fd.hpp"
#include "media/media_settings.hpp"
#include "media/receive_loop.hpp"
#include "media/spool_closer.hpp"
#include "media/stream_receiver.hpp"
#include "media/stream_stats.hpp"
#include "media/udp_socket.hpp"

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
  /// The value last stored there (media thread), to store each arrival stamp once.
  int64_t stored_epoch_us = 0;
  /// Its entry in the media thread's slot table (set by the thread).
  uint32_t slot = 0;
  /// Descriptors reserved for it in the engine's budget, given back once it is closed.
  unsigned descriptors = 0;
};

/// One media thread: a ReceiveLoop (epoll + recvmmsg, or io_uring) over the non-blocking UDP
/// sockets of the streams it owns. Streams are added and removed through a command queue
/// (a mutex-guarded vector the thread swaps when its eventfd wakes it); the per-datagram
/// path takes no lock and allocates nothing. Every `flush_interval`, on the stream's own
/// schedule, each stream's spool buffer is written out (SpoolWriter::periodicFlush); once
/// per interval the syncs of the streams written since the previous batch go to the closer
/// thread together (SpoolSync::runBatch: one syncfs per file system). So a crash of the
/// process loses at most one interval of media (what was still buffered), and a crash of
/// the machine at most about two (written, not yet synced).
class MediaWorker final : private DatagramSink {
 public:
  /// Called on the media thread when a stream's sockets are closed, to recycle its port.
  using PortReleaser = std::function<void(uint16_t port)>;
  /// Called on the media thread once a closed stream's sockets and spool file are closed,
  /// with the descriptors it had reserved (WorkerStream::descriptors).
  using DescriptorReleaser = std::function<void(unsigned descriptors)>;
  using OnClosed = std::function<void(StreamStats)>;

  struct Settings {
    unsigned index = 0;  ///< names the thread "siprecd-media-<index>"
    std::chrono::milliseconds flush_interval{1000};
    ReceiveBackend backend = ReceiveBackend::Recvmmsg;
  };

  /// Creates the wake-up eventfd (the thread and its receive loop start in start()).
  [[nodiscard]] static Result<std::unique_ptr<MediaWorker>> create(
      const Clock& clock, Settings settings, PortReleaser release_port,
      DescriptorReleaser release_descriptors = {});
  /// Stops the thread: pending commands run, open streams are flushed, synced and closed
  /// (without callback), pending close callbacks are called, then the thread is joined.
  ~MediaWorker() override;
  MediaWorker(const MediaWorker&) = delete;
  MediaWorker& operator=(const MediaWorker&) = delete;

  /// Starts the media thread and waits until its receive loop is set up. When the io_uring
  /// backend cannot start, the thread logs why and runs recvmmsg instead. Fails when already
  /// started or when no receive loop can be created (the thread is then not running).
  [[nodiscard]] Result<void> start();
  /// Hands `stream` to the media thread. Thread-safe.
  void addStream(std::unique_ptr<WorkerStream> stream);
  /// Asks the media thread to close stream `id`: it stops receiving, flushes the spool,
  /// releases the port, finishes the spool on the closer thread, then calls `on_closed`
  /// on the media thread (with zeroed stats for an unknown id). Thread-safe.
  void removeStream(uint64_t id, OnClosed on_closed);
  /// Asks the media thread to pause or resume capture of stream `id`
  /// (StreamReceiver::setCapturePaused); unknown ids are ignored. Thread-safe.
  void setCapturePaused(uint64_t id, bool paused);
  /// Thread-safe snapshot of the totals.
  EngineStats stats() const;
  /// Streams added and not yet removed (the load balancing measure). Thread-safe.
  uint64_t streamCount() const { return streams_active_.load(std::memory_order_relaxed); }
  /// The receive backend the thread runs (after start()). Thread-safe.
  ReceiveBackend backend() const { return running_backend_.load(); }

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
    unsigned descriptors;  ///< WorkerStream::descriptors of the closed stream
    uint64_t new_write_errors;
    std::string error;  ///< why finishing the spool failed, empty when it did not
    OnClosed on_closed;
  };
  struct PauseCommand {
    uint64_t id;
    bool paused;
  };
  using Command = std::variant<AddCommand, RemoveCommand, ClosedCommand, PauseCommand>;

  /// Totals gathered during one loop iteration, published with one atomic add each.
  struct Tally {
    uint64_t packets = 0;
    uint64_t bytes = 0;
    uint64_t malformed = 0;
    uint64_t rtcp_packets = 0;
    uint64_t dropped_foreign_source = 0;
    uint64_t spool_write_errors = 0;
    uint64_t srtp_auth_failures = 0;
    uint64_t srtp_replays = 0;
    uint64_t packets_paused = 0;
  };

  /// A stream's entry in the slot table: what the per-datagram path needs, found by index.
  /// Socket keys are generation << 32 | slot << 1 | rtcp; a slot's generation changes when
  /// its stream leaves, so late completions for the old stream find nothing.
  struct Slot {
    uint32_t generation = 1;
    int rtp_fd = -1;
    int rtcp_fd = -1;
    WorkerStream* stream = nullptr;
  };

  /// When a stream's spool buffer is next written.
  struct FlushDue {
    std::chrono::steady_clock::time_point at;
    uint64_t stream_id;
  };

  MediaWorker(const Clock& clock, Settings settings, PortReleaser release_port,
              DescriptorReleaser release_descriptors, UniqueFd wakeup);

  // DatagramSink (media thread).
  void onDatagram(uint64_t key, const Datagram& datagram, int64_t arrival_epoch_us) override;
  void onWakeup() override { wakeup_pending_ = true; }
  int socketFd(uint64_t key) override;

  /// Creates the receive loop on the media thread (io_uring needs that), falling back to
  /// recvmmsg.
  Result<void> createLoop();
  void post(Command command);
  void run();
  void shutdown();
  bool processCommands();
  void handle(AddCommand& command);
  void handle(RemoveCommand& command);
  void handle(ClosedCommand& command);
  void handle(PauseCommand& command);
  /// The slot of socket `key` when its stream is still there, else null.
  Slot* slotOf(uint64_t key);
  uint32_t takeSlot(WorkerStream& stream);
  void releaseSlot(uint32_t slot);
  void flushDue(std::chrono::steady_clock::time_point now);
  std::chrono::milliseconds pollTimeout(std::chrono::steady_clock::time_point now) const;
  /// Adds the stream's new spool write errors to the totals and logs them (rate-limited).
  void noteWriteErrors(WorkerStream& stream);
  /// Publishes an accepted packet's arrival to the stream's handle (once per stamp).
  static void noteArrival(WorkerStream& stream, int64_t arrival_epoch_us) {
    if (stream.stored_epoch_us != arrival_epoch_us && stream.last_packet_epoch_us) {
      stream.stored_epoch_us = arrival_epoch_us;
      stream.last_packet_epoch_us->store(arrival_epoch_us, std::memory_order_relaxed);
    }
  }
  void publish();
  void unwatch(const WorkerStream& stream);

  const Clock& clock_;
  const Settings settings_;
  PortReleaser release_port_;
  DescriptorReleaser release_descriptors_;
  UniqueFd wakeup_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<ReceiveBackend> running_backend_{ReceiveBackend::Recvmmsg};
  SpoolCloser closer_;

  std::mutex commands_mutex_;
  std::vector<Command> commands_;  // guarded by commands_mutex_

  // Media thread only.
  std::unique_ptr<ReceiveLoop> loop_;
  std::unordered_map<uint64_t, std::unique_ptr<WorkerStream>> streams_;  ///< by stream id
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  std::deque<FlushDue> flush_queue_;  ///< ordered by `at` (constant interval)
  /// Periodic syncs handed out since the last batch went to the closer.
  std::vector<SpoolSync> pending_syncs_;
  /// When the pending syncs next go to the closer (once per flush_interval).
  std::chrono::steady_clock::time_point next_sync_batch_{};
  std::vector<Command> running_commands_;
  bool wakeup_pending_ = false;
  Tally tally_;
  log::RateLimiter write_error_log_{1};

  std::atomic<uint64_t> streams_active_{0};
  std::atomic<uint64_t> packets_{0};
  std::atomic<uint64_t> bytes_{0};
  std::atomic<uint64_t> malformed_{0};
  std::atomic<uint64_t> rtcp_packets_{0};
  std::atomic<uint64_t> dropped_foreign_source_{0};
  std::atomic<uint64_t> spool_write_errors_{0};
  std::atomic<uint64_t> srtp_auth_failures_{0};
  std::atomic<uint64_t> srtp_replays_{0};
  std::atomic<uint64_t> packets_paused_{0};
};

}  // namespace siprecd::media
