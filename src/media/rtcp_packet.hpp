#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "base/result.hpp"

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
/// A view over the datagram, which must outlive it. Only the framing is validated for now
/// (report contents are read by the later sender-report mapping).
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

 private:
  RtcpCompound(std::span<const std::byte> bytes, std::size_t packet_count)
      : bytes_(bytes), packet_count_(packet_count) {}

  std::span<const std::byte> bytes_;
  std::size_t packet_count_;
};

}  // namespace siprecd::media
