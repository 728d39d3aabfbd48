#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <vector>

#include "media/receive_statistics.hpp"
#include "media/rtcp_packet.hpp"
#include "media/rtp_types.hpp"
#include "media/spool_writer.hpp"
#include "media/srtp_session.hpp"
#include "media/stream_stats.hpp"
#include "media/udp_socket.hpp"

namespace siprecd::media {

/// The per-packet logic of one recorded stream, free of sockets: classify each datagram,
/// unprotect it when the stream uses SRTP, apply the symmetric-RTP latch, count, and append
/// accepted RTP packets (decrypted) and the RTCP sender reports of their SSRC to the spool.
/// Lives on the stream's media thread; no allocation per packet.
class StreamReceiver {
 public:
  /// How a datagram was handled (the caller adds it to its thread's totals).
  enum class Outcome {
    Accepted,
    ForeignSource,
    Rtcp,
    Malformed,
    /// SRTP/SRTCP whose authentication failed (StreamStats::srtp_auth_failures).
    Unauthenticated,
    /// SRTP/SRTCP rejected by the replay check (StreamStats::srtp_replays).
    Replayed,
    /// Valid RTP of the latched source while capture is paused: not spooled
    /// (StreamStats::packets_paused).
    Paused,
  };

  /// Largest SRTP datagram unprotected (they are copied into a buffer of this size, made
  /// once); larger ones are malformed.
  static constexpr std::size_t kMaxSrtpDatagramBytes = 8192;

  /// `latch_payload_types`: the payload types negotiated for the stream (codec and
  /// telephone-event); only a packet of one of them may latch the source. Empty: any.
  explicit StreamReceiver(SpoolWriter writer, std::vector<uint8_t> latch_payload_types = {});
  /// As above, with the media format the receive statistics need (clock rate for jitter,
  /// telephone-event payload type for DTMF counting).
  StreamReceiver(SpoolWriter writer, std::vector<uint8_t> latch_payload_types,
                 ReceiveFormat format);
  /// As above; with `srtp` (an Inbound context, e.g. SrtpSession::create(spec.srtp->suite,
  /// spec.srtp->master_key_salt, SrtpSession::Direction::Inbound)) every datagram is SRTP or
  /// SRTCP and is verified and decrypted before anything else looks at its contents.
  StreamReceiver(SpoolWriter writer, std::vector<uint8_t> latch_payload_types, ReceiveFormat format,
                 std::optional<SrtpSession> srtp);

  /// Sets the media format of the receive statistics for the packets to come; call before
  /// the first packet (until then jitter is not estimated and no DTMF event is counted).
  void setReceiveFormat(ReceiveFormat format) { statistics_.setFormat(format); }

  /// A datagram received on the RTP port at `arrival_epoch_us`. RTCP multiplexed on the
  /// port (RFC 5761 §4) goes to onRtcpDatagram(). The first valid RTP packet of a
  /// negotiated payload type latches its source (stray or hostile packets of other types
  /// cannot steal the stream; they are counted as foreign); after that the source alone
  /// decides, so a codec change by re-INVITE keeps flowing. Valid RTP from any other source
  /// is counted and dropped. With SRTP the source and payload-type checks (on the clear
  /// header) come first, then the packet must authenticate and pass the replay check
  /// (RFC 3711 §3.3) before it may latch, be counted in the statistics or be spooled.
  Outcome onRtpDatagram(std::span<const std::byte> datagram, const UdpEndpoint& source,
                        int64_t arrival_epoch_us);
  /// A datagram received on the RTCP port at `arrival_epoch_us` (SRTCP-unprotected first
  /// with SRTP): counted when its framing is valid (RFC 3550 §6.1), else malformed. Each
  /// sender report (RFC 3550 §6.4.1) whose SSRC is that of the latest accepted RTP packet
  /// is appended to the spool as a SenderReport record (media/rtp_spool_format.hpp).
  Outcome onRtcpDatagram(std::span<const std::byte> datagram, int64_t arrival_epoch_us);
  /// As above, stamping sender-report records with the latest accepted RTP packet's arrival
  /// (0 before any): prefer the overload with the arrival time.
  Outcome onRtcpDatagram(std::span<const std::byte> datagram);
  /// A datagram that could not be received whole (larger than the receive buffer).
  Outcome onTruncatedDatagram();

  /// Pauses or resumes capture: while paused, RTP that would be accepted is handled in full
  /// (latch, receive quality, arrival times) but not spooled (Outcome::Paused).
  void setCapturePaused(bool paused) { capture_paused_ = paused; }
  bool capturePaused() const { return capture_paused_; }

  /// Writes the buffered spool records out (see SpoolWriter::flush).
  void flush() { writer_.flush(); }
  /// The spool's periodic flush and sync step (see SpoolWriter::periodicFlush): run the
  /// returned sync off the media thread (SpoolCloser::submitSync).
  [[nodiscard]] std::optional<SpoolSync> periodicFlush(std::chrono::steady_clock::time_point now) {
    return writer_.periodicFlush(now);
  }
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
  /// Whether a packet of `payload_type` may latch the stream.
  bool mayLatch(uint8_t payload_type) const;
  /// Copies `datagram` into srtp_buffer_ and unprotects it there (RTP or RTCP); on
  /// success `*plain` views the plain packet, else the failure is counted and returned.
  std::optional<Outcome> unprotect(std::span<const std::byte> datagram, bool rtcp,
                                   std::span<const std::byte>* plain);
  void spoolSenderReports(const RtcpCompound& compound, int64_t arrival_epoch_us);

  SpoolWriter writer_;
  StreamStats stats_;
  ReceiveStatistics statistics_;
  std::optional<UdpEndpoint> latched_source_;
  std::vector<uint8_t> latch_payload_types_;
  uint64_t reported_write_errors_ = 0;
  std::optional<SrtpSession> srtp_;
  std::vector<std::byte> srtp_buffer_;  ///< kMaxSrtpDatagramBytes when srtp_, else empty
  std::optional<Ssrc> current_ssrc_;    ///< SSRC of the latest accepted RTP packet
  bool capture_paused_ = false;
};

}  // namespace siprecd::media
