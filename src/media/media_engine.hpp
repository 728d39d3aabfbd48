#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "base/result.hpp"
#include "media/media_settings.hpp"
#include "media/port_pool.hpp"
#include "media/stream_stats.hpp"

namespace siprecd::media {

class BindAddress;
class MediaWorker;

/// What to receive for one recorded stream (one SDP m-line) and where to spool it.
struct StreamSpec {
  std::string recording_id;
  std::size_t stream_index = 0;      ///< order of the m-line in the offer
  std::string label;                 ///< a=label (RFC 4574), as offered
  std::filesystem::path spool_path;  ///< file to create (must not exist; parent dir exists)
  std::string bind_address;          ///< "0.0.0.0", "::", or a specific local IP
  uint8_t payload_type = 0;          ///< the negotiated codec's payload type (0..127)
  std::string codec_name;            ///< e.g. "PCMU"
  uint32_t clock_rate = 0;           ///< Hz, > 0
  std::optional<uint8_t> telephone_event_pt;  ///< RFC 4733, when negotiated
  bool rtcp_mux = false;                      ///< RFC 5761: RTCP on the RTP port
  /// SDES-SRTP (RFC 4568): the SRC's crypto suite ("AES_CM_128_HMAC_SHA1_80", ...) and
  /// master key || salt, decoded from its a=crypto inline key. Absent: plain RTP.
  struct Srtp {
    std::string suite;
    std::vector<uint8_t> master_key_salt;
  };
  std::optional<Srtp> srtp;
};

/// An open stream: its engine id and the RTP port to put in the SDP answer.
struct StreamHandle {
  uint64_t id;
  uint16_t port;
  /// Arrival time (epoch µs) of the stream's latest accepted RTP packet, 0 before the first.
  /// Written by the media thread once per receive batch, readable from any thread (relaxed):
  /// what the RTP inactivity timeout watches.
  std::shared_ptr<const std::atomic<int64_t>> last_packet_epoch_us;
};

/// How the engine runs, known after start().
struct EngineInfo {
  unsigned threads = 0;  ///< media threads
  /// The backend the threads run: the configured one, or recvmmsg when io_uring could not
  /// start (a warning says why).
  ReceiveBackend receive_backend = ReceiveBackend::Recvmmsg;
  /// SO_RCVBUF the kernel grants each socket for the configured size (what getsockopt
  /// reports: Linux doubles the request to cover its bookkeeping), bytes.
  std::size_t socket_receive_buffer_bytes = 0;
  /// Soft RLIMIT_NOFILE after start (raised to the hard limit unless disabled).
  uint64_t open_file_limit = 0;
  /// Descriptors streams may hold together: the limit less those open at start and
  /// MediaSettings::descriptor_reserve.
  uint64_t stream_descriptor_budget = 0;
};

/// The RTP receive engine (DESIGN.md §3 "Media"): allocates ports, receives RTP/RTCP on its
/// media threads (MediaSettings::threads; each owns the sockets of its streams, a stream
/// never changes thread) and appends accepted RTP packets to one spool file per stream.
/// Public methods are thread-safe unless noted.
class MediaEngine {
 public:
  /// `clock` must outlive the engine; it stamps arrivals (systemNow) and times port
  /// cool-downs and spool flushes (steadyNow).
  MediaEngine(MediaSettings settings, const Clock& clock);
  /// Stops the media threads: open streams are flushed, synced and closed (their on_closed
  /// is not called; closes already requested complete and call theirs), sockets closed.
  ~MediaEngine();
  MediaEngine(const MediaEngine&) = delete;
  MediaEngine& operator=(const MediaEngine&) = delete;

  /// Raises the open-file limit (MediaSettings::raise_file_limit; logged), checks the socket
  /// buffer the kernel grants (logged; a warning when below the request) and starts the
  /// media threads. Call once, before closeStream() is relied on. Fails when a thread
  /// cannot be created or started, or the engine was already started.
  [[nodiscard]] Result<void> start();

  /// Allocates an even RTP port from the range (RTCP = port + 1, also bound unless
  /// rtcp_mux), binds it, prepares the spool (its file and directory are created by the
  /// media thread on the first write with records; creation errors are then counted as
  /// spool_write_errors) and hands the stream to the media thread with the fewest streams.
  /// Fails, naming the cause, when the spec is invalid (e.g. a label over 65535 bytes, an
  /// SRTP suite or key libsrtp refuses), the stream's descriptors (descriptorsPerStream) would
  /// exceed the budget (EngineInfo::stream_descriptor_budget; code 503), the range has no port
  /// free of cool-down, or binding fails for another reason than a busy port. Called from the
  /// SIP thread; no file-system call.
  [[nodiscard]] Result<StreamHandle> openStream(const StreamSpec& spec);

  /// Stops receiving on stream `id`, flushes the spool, closes the sockets (the port is
  /// reusable after the cool-down), fdatasyncs and closes the spool off the media thread,
  /// then calls `on_closed(stats)` on the stream's media thread. An unknown id gets zeroed
  /// stats. `on_closed` must not block; it may call the engine.
  void closeStream(uint64_t id, std::function<void(StreamStats)> on_closed);

  /// PAUSERECORDING / RESUMERECORDING for stream `id` (DESIGN.md §2: paused audio is not
  /// captured): while paused, RTP of the stream is still received, latched, counted in the
  /// receive quality and keeps the stream alive (last_packet_epoch_us), but is not spooled;
  /// it is counted in StreamStats::packets_paused. Takes effect on the stream's media thread
  /// shortly after the call (packets already received are spooled). RTCP sender reports are
  /// spooled either way (they carry no audio). Unknown ids are ignored. Thread-safe.
  void setCapturePaused(uint64_t id, bool paused);

  /// Totals over every media thread, for metrics (streams active, packets, bytes, ...).
  EngineStats stats() const;
  /// Streams active on each media thread (index = thread), for metrics and tests.
  std::vector<uint64_t> streamsPerThread() const;
  /// How the engine runs; meaningful after a successful start().
  EngineInfo info() const;

  /// File descriptors one open stream holds: its RTP socket, its RTCP socket unless
  /// `rtcp_mux`, and its spool file (open from the first spooled packet until the stream is
  /// closed and its spool synced). A two-stream call: 6, or 4 with rtcp-mux. Periodic
  /// spool syncs waiting for the closer thread hold none (SpoolSync refers to the file
  /// weakly); the closer briefly opens a spool directory to fsync it.
  static constexpr unsigned descriptorsPerStream(bool rtcp_mux) { return rtcp_mux ? 2 : 3; }
  /// Descriptors each media thread holds whatever its load (eventfd, epoll or io_uring).
  static constexpr unsigned kDescriptorsPerThread = 2;

 private:
  /// openStream() once the stream's descriptors are reserved.
  Result<StreamHandle> openReserved(const StreamSpec& spec, const BindAddress& address,
                                    unsigned descriptors);
  void releasePort(uint16_t port);
  std::size_t leastLoadedWorker() const;

  const MediaSettings settings_;
  const Clock& clock_;
  mutable std::mutex pool_mutex_;
  PortPool pool_;  // guarded by pool_mutex_
  std::vector<std::unique_ptr<MediaWorker>> workers_;
  /// Per thread: streams opened on it so far; a stream's id is count * threads + thread.
  std::unique_ptr<std::atomic<uint64_t>[]> opened_per_worker_;
  std::atomic<bool> started_{false};
  /// Descriptors the open streams hold or will hold (their spool files), and the most they
  /// may (0: no budget, before start()).
  std::atomic<uint64_t> stream_descriptors_{0};
  std::atomic<uint64_t> descriptor_budget_{0};
  EngineInfo info_;  // written by start() before started_ is set
  /// Why there are no workers: they could not be created, or the engine is being destroyed.
  std::string worker_error_ = "media engine is stopped";
};

}  // namespace siprecd::media
