#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "base/result.hpp"
#include "media/byte_order.hpp"
#include "media/rtp_types.hpp"

namespace siprecd::media {

/// RTCP packet types (RFC 3550 §12.1; RFC 4585 §6.1; RFC 3611 §2).
enum class RtcpPacketType : uint8_t {
  SenderReport = 200,
  ReceiverReport = 201,
  SourceDescription = 202,
  Bye = 203,
  App = 204,
  TransportFeedback = 205,
  PayloadFeedback = 206,
  ExtendedReport = 207,
};

/// A compound RTCP datagram (RFC 3550 §6.1): one or more packets, each starting with the
/// common header (§6.4.1), `length` being the packet's size in 32-bit words minus one:
///
///     0                   1                   2                   3
///     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |V=2|P|    RC   |      PT       |             length            |
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///
/// A view over the datagram, which must outlive it. The framing is validated; packets are
/// read with forEachPacket() and, for sender reports, RtcpSenderReport::tryParse().
class RtcpCompound {
 public:
  static constexpr std::size_t kCommonHeaderBytes = 4;

  /// Validates the framing (RFC 3550 Appendix A.2, without the first-packet rule that
  /// reduced-size RTCP, RFC 5506, relaxes): every packet has version 2, a packet type in
  /// 192..223 and a length within the datagram, and the lengths add up to its size.
  [[nodiscard]] static Result<RtcpCompound> parse(std::span<const std::byte> datagram);
  /// parse() for the receive path: no allocation; on failure, sets `*why` (when given) to
  /// a static description.
  [[nodiscard]] static std::optional<RtcpCompound> tryParse(std::span<const std::byte> datagram,
                                                            const char** why = nullptr);

  std::size_t packetCount() const { return packet_count_; }
  /// The packet type octet of the first packet (e.g. 200 for a sender report).
  uint8_t firstPacketType() const { return static_cast<uint8_t>(bytes_[1]); }
  std::span<const std::byte> bytes() const { return bytes_; }

  /// Calls `visit(packet_type, packet_bytes)` for each packet in order; `packet_bytes`
  /// spans the whole packet, common header and padding included.
  template <typename Visit>
  void forEachPacket(Visit&& visit) const {
    std::size_t at = 0;
    while (at + kCommonHeaderBytes <= bytes_.size()) {
      const std::size_t packet_bytes = (static_cast<std::size_t>(loadBe16(bytes_, at + 2)) + 1) * 4;
      visit(loadU8(bytes_, at + 1), bytes_.subspan(at, packet_bytes));
      at += packet_bytes;
    }
  }

 private:
  RtcpCompound(std::span<const std::byte> bytes, std::size_t packet_count)
      : bytes_(bytes), packet_count_(packet_count) {}

  std::span<const std::byte> bytes_;
  std::size_t packet_count_;
};

/// The sender information of an RTCP sender report (RFC 3550 §6.4.1), the pairing of a
/// wall-clock (NTP) time with the RTP timestamp of the same instant:
///
///     0                   1                   2                   3
///     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |V=2|P|    RC   |   PT=SR=200   |             length            |
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |                         SSRC of sender                        |
///    +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
///    |              NTP timestamp, most significant word             |
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |             NTP timestamp, least significant word             |
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |                         RTP timestamp                         |
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |                     sender's packet count                     |
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |                      sender's octet count                     |
///    +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
///    |                 report blocks (RC x 24 bytes)                 |
struct RtcpSenderReport {
  static constexpr std::size_t kMinBytes = 28;
  static constexpr std::size_t kReportBlockBytes = 24;

  Ssrc ssrc;
  /// 64-bit NTP timestamp: seconds since 1900-01-01 in the high 32 bits, fraction in the low.
  uint64_t ntp_timestamp = 0;
  RtpTimestamp rtp_timestamp;
  uint32_t packet_count = 0;
  uint32_t octet_count = 0;
  uint8_t report_count = 0;  ///< RC: reception report blocks that follow

  /// Reads one packet as a sender report: nullopt unless its type is 200, its version 2
  /// and its length (padding excluded) holds the sender info and RC report blocks. Never
  /// reads outside `packet`; no allocation.
  static std::optional<RtcpSenderReport> tryParse(std::span<const std::byte> packet);
};

}  // namespace siprecd::media
