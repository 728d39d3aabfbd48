#pragma once

#include <cstdint>
#include <optional>

namespace siprecd::media {

/// What one stream received, reported when it closes. Times are epoch microseconds of the
/// first and last accepted RTP packet (absent when none arrived).
struct StreamStats {
  uint64_t packets = 0;                 ///< RTP packets accepted and spooled
  uint64_t bytes = 0;                   ///< their datagram bytes (RTP header included)
  uint64_t dropped_foreign_source = 0;  ///< valid RTP from a source other than the latched one
  uint64_t malformed = 0;               ///< datagrams that are neither RTP nor RTCP, or truncated
  uint64_t rtcp_packets = 0;            ///< RTCP datagrams (RTCP port, or muxed on the RTP port)
  uint64_t spool_records_dropped = 0;   ///< accepted packets lost to spool write errors
  uint64_t spool_write_errors = 0;      ///< failed writes/syncs of the spool file
  std::optional<int64_t> first_packet_epoch_us;
  std::optional<int64_t> last_packet_epoch_us;
};

/// Totals of a media engine since it started, for metrics. `streams_active` is a gauge.
struct EngineStats {
  uint64_t streams_active = 0;
  uint64_t packets = 0;
  uint64_t bytes = 0;
  uint64_t malformed = 0;
  uint64_t rtcp_packets = 0;
  uint64_t dropped_foreign_source = 0;
  uint64_t spool_write_errors = 0;
};

}  // namespace siprecd::media
