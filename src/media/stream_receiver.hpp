#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <vector>

#include "media/receive_statistics.hpp"
#include "media/spool_writer.hpp"
#include "media/stream_stats.hpp"
#include "media/udp_socket.hpp"

namespace siprecd::media {

/// The per-packet logic of one recorded stream, free of sockets: classify each datagram,
/// apply the symmetric-RTP latch, count, and append accepted RTP packets to the spool.
/// Lives on the stream's media thread; no allocation per packet.
class StreamReceiver {
 public:
  /// How a datagram was handled (the caller adds it to its thread's totals).
  enum class Outcome { Accepted, ForeignSource, Rtcp, Malformed };

  /// `latch_payload_types`: the payload types negotiated for the stream (codec and
  /// telephone-event); only a packet of one of them may latch the source. Empty: any.
  explicit StreamReceiver(SpoolWriter writer, std::vector<uint8_t> latch_payload_types = {});
  /// As above, with the media format the receive statistics need (clock rate for jitter,
  /// telephone-event payload type for DTMF counting).
  StreamReceiver(SpoolWriter writer, std::vector<uint8_t> latch_payload_types,
                 ReceiveFormat format);

  /// Sets the media format of the receive statistics for the packets to come; call before
  /// the first packet (until then jitter is not estimated and no DTMF event is counted).
  void setReceiveFormat(ReceiveFormat format) { statistics_.setFormat(format); }

  /// A datagram received on the RTP port at `arrival_epoch_us`. RTCP multiplexed on the
  /// port (RFC 5761 §4) is counted, not spooled. The first valid RTP packet of a negotiated
  /// payload type latches its source (stray or hostile packets of other types cannot steal
  /// the stream; they are counted as foreign); after that the source alone decides, so a
  /// codec change by re-INVITE keeps flowing. Valid RTP from any other source is counted
  /// and dropped.
  Outcome onRtpDatagram(std::span<const std::byte> datagram, const UdpEndpoint& source,
                        int64_t arrival_epoch_us);
  /// A datagram received on the RTCP port: counted (valid framing) or malformed.
  Outcome onRtcpDatagram(std::span<const std::byte> datagram);
  /// A datagram that could not be received whole (larger than the receive buffer).
  Outcome onTruncatedDatagram();

  /// Writes the buffered spool records out (see SpoolWriter::flush).
  void flush() { writer_.flush(); }
  /// The counters, spool counters and receive quality included.
  StreamStats stats() const;
  /// Spool write errors since the previous call (for the engine's totals).
  uint64_t takeNewWriteErrors();
  /// The spool file's path (before takeWriter()).
  const std::filesystem::path& spoolPath() const { return writer_.path(); }
  /// The source latched by the first valid RTP packet, if any.
  const std::optional<UdpEndpoint>& latchedSource() const { return latched_source_; }
  /// Gives the spool writer away (to be finished off the media thread); the receiver must
  /// not receive afterwards.
  SpoolWriter takeWriter() { return std::move(writer_); }

 private:
  SpoolWriter writer_;
  StreamStats stats_;
  ReceiveStatistics statistics_;
  std::optional<UdpEndpoint> latched_source_;
  std::vector<uint8_t> latch_payload_types_;
  uint64_t reported_write_errors_ = 0;
};

}  // namespace siprecd::media
