#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace siprecd::media {

/// An arrival gap: no accepted packet from `start_epoch_ms` (the arrival of the packet
/// before the gap) for `duration_ms` (until the next one arrived).
struct ArrivalGap {
  int64_t start_epoch_ms = 0;
  int64_t duration_ms = 0;

  friend bool operator==(const ArrivalGap&, const ArrivalGap&) = default;
};

/// What one stream received, reported when it closes. Times are epoch microseconds of the
/// first and last accepted RTP packet (absent when none arrived).
struct StreamStats {
  uint64_t packets = 0;  ///< RTP packets accepted and spooled
  /// RTP packets accepted while capture was paused (MediaEngine::setCapturePaused): counted
  /// in the receive quality below but not spooled, and not in `packets`.
  uint64_t packets_paused = 0;
  uint64_t bytes = 0;  ///< their datagram bytes (RTP header included)
  /// "Out-of-source": valid RTP from a source (address and port) other than the latched one,
  /// or of a payload type that may not latch the stream, before the latch.
  uint64_t dropped_foreign_source = 0;
  uint64_t malformed = 0;     ///< datagrams that are neither RTP nor RTCP, or truncated
  uint64_t rtcp_packets = 0;  ///< RTCP datagrams (RTCP port, or muxed on the RTP port)
  /// RTCP sender reports (RFC 3550 §6.4.1) of the stream's current SSRC, appended to the
  /// spool as SenderReport records.
  uint64_t sender_reports = 0;
  /// SRTP/SRTCP packets whose authentication failed (wrong key, tampering, plain RTP on an
  /// SRTP stream): dropped before the latch, the statistics and the spool.
  uint64_t srtp_auth_failures = 0;
  /// SRTP/SRTCP packets rejected by the replay check (RFC 3711 §3.3.2: already received, or
  /// older than the 128-packet window): dropped. libsrtp checks the index before the tag, so
  /// a forged packet carrying an old index is counted here, not as an auth failure.
  uint64_t srtp_replays = 0;
  uint64_t spool_records_dropped = 0;  ///< accepted packets lost to spool write errors
  uint64_t spool_write_errors = 0;     ///< failed writes/syncs of the spool file
  std::optional<int64_t> first_packet_epoch_us;
  std::optional<int64_t> last_packet_epoch_us;

  // Receive quality of the accepted RTP packets (media/receive_statistics.hpp). Sequence
  // counts are summed over every SSRC and sequence restart of the stream.
  /// Packets the sequence numbers span (RFC 3550 A.3 "expected", packets).
  uint64_t expected = 0;
  /// expected minus distinct sequence numbers received, never negative (packets).
  uint64_t lost = 0;
  /// Packets whose sequence number was already received among the last 128 (packets).
  uint64_t duplicates = 0;
  /// Reordered packets: arrived after a higher sequence number, not duplicates (packets).
  uint64_t reordered = 0;
  /// Late packets, a subset of `reordered`: they arrived more than 60 ms
  /// (ReceiveStatistics::kLateUs) after the packet with the highest sequence number so far,
  /// i.e. too late for a typical playout (jitter) buffer, which would have concealed them as
  /// lost. The recording still contains them (it is rendered from the spool, not played out).
  uint64_t late = 0;
  /// Large sequence jumps confirmed by the next packet (RFC 3550 A.1 restart).
  uint64_t sequence_restarts = 0;
  /// Changes of SSRC on the latched source (each restarts the sequence accounting).
  uint64_t ssrc_changes = 0;
  /// RFC 3550 A.1 extended highest sequence number of the current SSRC and sequence
  /// (cycles in the high 16 bits, as in a reception report); 0 before the first packet.
  uint32_t extended_highest_seq = 0;
  /// Interarrival jitter at the last packet (RFC 3550 A.8), milliseconds; 0 when the clock
  /// rate is unknown.
  double jitter_ms = 0;
  /// The highest value the jitter estimate reached, milliseconds.
  double max_jitter_ms = 0;
  /// Arrival gaps of more than 200 ms between consecutive accepted packets.
  uint64_t gaps_over_200ms = 0;
  /// The longest arrival gap between consecutive accepted packets, milliseconds.
  uint64_t longest_gap_ms = 0;
  /// Where the first kMaxListedGaps of the gaps_over_200ms happened, in arrival order.
  std::vector<ArrivalGap> gaps;
  static constexpr std::size_t kMaxListedGaps = 32;
  /// RFC 4733 telephone events (a key press is one, however many packets carry it).
  uint64_t dtmf_events = 0;
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
  uint64_t srtp_auth_failures = 0;  ///< see StreamStats::srtp_auth_failures
  uint64_t srtp_replays = 0;        ///< see StreamStats::srtp_replays
  uint64_t packets_paused = 0;      ///< see StreamStats::packets_paused
};

}  // namespace siprecd::media
