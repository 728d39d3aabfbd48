#include "media/rtcp_packet.hpp"

#include "media/byte_order.hpp"

namespace siprecd::media {

Result<RtcpCompound> RtcpCompound::parse(std::span<const std::byte> datagram) {
  const char* why = "";
  if (auto compound = tryParse(datagram, &why)) {
    return *compound;
  }
  return fail(why);
}

std::optional<RtcpCompound> RtcpCompound::tryParse(std::span<const std::byte> datagram,
                                                   const char** why) {
  auto reject = [why](const char* reason) -> std::optional<RtcpCompound> {
    if (why != nullptr) {
      *why = reason;
    }
    return std::nullopt;
  };
  if (datagram.size() < kCommonHeaderBytes) {
    return reject("RTCP packet shorter than the 4-byte common header");
  }
  std::size_t at = 0;
  std::size_t packet_count = 0;
  while (at < datagram.size()) {
    if (datagram.size() - at < kCommonHeaderBytes) {
      return reject("RTCP compound packet ends inside a common header");
    }
    if ((loadU8(datagram, at) >> 6) != 2) {
      return reject("RTCP version is not 2");
    }
    const uint8_t packet_type = loadU8(datagram, at + 1);
    if (packet_type < 192 || packet_type > 223) {
      return reject("RTCP packet type outside 192..223");
    }
    const std::size_t packet_bytes = (static_cast<std::size_t>(loadBe16(datagram, at + 2)) + 1) * 4;
    if (packet_bytes > datagram.size() - at) {
      return reject("RTCP length exceeds the datagram");
    }
    at += packet_bytes;
    ++packet_count;
  }
  return RtcpCompound(datagram, packet_count);
}

std::optional<RtcpSenderReport> RtcpSenderReport::tryParse(std::span<const std::byte> packet) {
  if (packet.size() < kMinBytes || (loadU8(packet, 0) >> 6) != 2 ||
      loadU8(packet, 1) != static_cast<uint8_t>(RtcpPacketType::SenderReport)) {
    return std::nullopt;
  }
  const std::size_t declared = (static_cast<std::size_t>(loadBe16(packet, 2)) + 1) * 4;
  if (declared > packet.size()) {
    return std::nullopt;
  }
  std::size_t usable = declared;
  // RFC 3550 §6.4.1: with P set, the last octet counts the padding octets (itself included).
  if ((loadU8(packet, 0) & 0x20) != 0) {
    const std::size_t padding = loadU8(packet, declared - 1);
    if (padding == 0 || padding > usable) {
      return std::nullopt;
    }
    usable -= padding;
  }
  RtcpSenderReport report;
  report.report_count = loadU8(packet, 0) & 0x1F;
  if (usable < kMinBytes + report.report_count * kReportBlockBytes) {
    return std::nullopt;
  }
  report.ssrc = Ssrc(loadBe32(packet, 4));
  report.ntp_timestamp = loadBe64(packet, 8);
  report.rtp_timestamp = RtpTimestamp(loadBe32(packet, 16));
  report.packet_count = loadBe32(packet, 20);
  report.octet_count = loadBe32(packet, 24);
  return report;
}

}  // namespace siprecd::media
