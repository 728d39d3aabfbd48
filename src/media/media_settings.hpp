#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/result.hpp"

namespace siprecd::media {

/// An inclusive UDP port range for RTP/RTCP. Streams get an even RTP port p with the RTCP
/// port p + 1 (RFC 3550 §11) also inside the range.
struct PortRange {
  uint16_t first;
  uint16_t last;

  friend bool operator==(const PortRange&, const PortRange&) = default;
};

/// Parses "first-last" (e.g. "20000-39999", blanks around the numbers allowed). Fails,
/// naming the field, unless 1 <= first <= last <= 65535 and the range holds at least one
/// even/odd port pair.
[[nodiscard]] Result<PortRange> parsePortRange(std::string_view text);

/// How a media thread waits for and reads datagrams.
enum class ReceiveBackend {
  /// epoll over the thread's sockets, each readable socket drained with recvmmsg batches.
  Recvmmsg,
  /// io_uring: one multishot recvmsg per socket into a ring of provided buffers (Linux 6.0
  /// or later, and a build with liburing). When unavailable the engine falls back to
  /// Recvmmsg and logs a warning; MediaEngine::info() says which one runs.
  IoUring,
};

/// Parses "recvmmsg" or "io_uring" (case-sensitive, as written in the configuration).
/// Fails naming the value.
[[nodiscard]] Result<ReceiveBackend> parseReceiveBackend(std::string_view text);
/// "recvmmsg" or "io_uring".
std::string_view toString(ReceiveBackend backend);

/// Settings of the receive engine (from the configuration's `media` section).
struct MediaSettings {
  PortRange ports{20000, 39999};
  /// Media threads, each with its own sockets and streams; 0: one per CPU the process may
  /// run on (its affinity mask, e.g. under taskset; std::thread::hardware_concurrency() when
  /// the mask cannot be read). See resolveMediaThreads().
  unsigned threads = 0;
  ReceiveBackend receive_backend = ReceiveBackend::Recvmmsg;
  /// How often each stream's buffered spool records are written to its file: what a crash
  /// of the process may lose. The spool writer itself has no timer: the stream's media
  /// thread calls SpoolWriter::periodicFlush() at this interval (each stream on its own
  /// schedule, so that the writes of many streams spread over the interval), and once per
  /// interval has the files written since the last time synced together (one syncfs per
  /// file system, off the media thread): a crash of the machine may lose about two
  /// intervals.
  std::chrono::milliseconds flush_interval{1000};
  /// How long a released port stays unused, so late packets of the old stream do not land
  /// in a new one.
  std::chrono::seconds port_cooldown{10};
  /// SO_RCVBUF asked for each socket, bytes. Without CAP_NET_ADMIN the kernel caps it at
  /// net.core.rmem_max; MediaEngine::info() reports what it grants.
  std::size_t socket_buffer_bytes = 1 << 20;
  /// User-space spool buffer per stream, bytes (allocated when the stream opens, so part of
  /// the memory per call); a full buffer is written at once. 8 KiB holds 0.87 s of 20 ms
  /// G.711 (188-byte records): about one write per second per stream, as the flush alone.
  std::size_t spool_buffer_bytes = 8 * 1024;
  /// Raise the soft RLIMIT_NOFILE to the hard limit at start (each stream holds up to
  /// three descriptors: see MediaEngine::descriptorsPerStream()).
  bool raise_file_limit = true;
  /// Descriptors kept for everything but media streams (SIP/TLS and HTTP connections, the
  /// state store, rendering, spool directory syncs): openStream refuses a stream whose
  /// descriptors would eat into them, so that streams already open can always create their
  /// spool files. With a limit of 20,000: room for about 3,150 two-stream calls.
  std::size_t descriptor_reserve = 1024;
};

/// The number of media threads `configured` asks for: itself when positive, otherwise the
/// number of CPUs in the calling thread's affinity mask (at least 1).
unsigned resolveMediaThreads(unsigned configured);

}  // namespace siprecd::media
