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

/// The RTP receive engine (DESIGN.md §3 "Media"): allocates ports, receives RTP/RTCP on its
/// media thread and appends accepted RTP packets to one spool file per stream. Public
/// methods are thread-safe unless noted. One media thread for now; the class hides that.
class MediaEngine {
 public:
  /// `clock` must outlive the engine; it stamps arrivals (systemNow) and times port
  /// cool-downs and spool flushes (steadyNow).
  MediaEngine(MediaSettings settings, const Clock& clock);
  /// Stops the media thread: open streams are flushed, synced and closed (their on_closed
  /// is not called; closes already requested complete and call theirs), sockets closed.
  ~MediaEngine();
  MediaEngine(const MediaEngine&) = delete;
  MediaEngine& operator=(const MediaEngine&) = delete;

  /// Starts the media thread (epoll loop). Call once, before closeStream() is relied on.
  /// Fails when epoll/eventfd cannot be created or the engine was already started.
  [[nodiscard]] Result<void> start();

  /// Allocates an even RTP port from the range (RTCP = port + 1, also bound unless
  /// rtcp_mux), binds it, prepares the spool (its file and directory are created by the
  /// media thread on the first write with records; creation errors are then counted as
  /// spool_write_errors) and hands the stream to the media thread. Fails, naming the
  /// cause, when the spec is invalid (e.g. a label over 65535 bytes), the range has no port
  /// free of cool-down, or binding fails for another reason than a busy port. Called from
  /// the SIP thread; no file-system call.
  [[nodiscard]] Result<StreamHandle> openStream(const StreamSpec& spec);

  /// Stops receiving on stream `id`, flushes the spool, closes the sockets (the port is
  /// reusable after the cool-down), fdatasyncs and closes the spool off the media thread,
  /// then calls `on_closed(stats)` on the media thread. An unknown id gets zeroed stats.
  /// `on_closed` must not block; it may call the engine.
  void closeStream(uint64_t id, std::function<void(StreamStats)> on_closed);

  /// Totals for metrics (streams active, packets, bytes, malformed, ...).
  EngineStats stats() const;

 private:
  void releasePort(uint16_t port);

  const MediaSettings settings_;
  const Clock& clock_;
  mutable std::mutex pool_mutex_;
  PortPool pool_;  // guarded by pool_mutex_
  std::atomic<uint64_t> next_stream_id_{1};
  std::unique_ptr<MediaWorker> worker_;
  /// Why there is no worker: it could not be created, or the engine is being destroyed.
  std::string worker_error_ = "media engine is stopped";
};

}  // namespace siprecd::media
