#include "media/rtp_packet.hpp"

#include "media/byte_order.hpp"

namespace siprecd::media {

namespace {

constexpr std::size_t kCsrcBytes = 4;
constexpr std::size_t kExtensionHeaderBytes = 4;

}  // namespace

std::optional<RtpPacket> RtpPacket::tryParse(std::span<const std::byte> datagram,
                                             const char** why) {
  auto reject = [why](const char* reason) -> std::optional<RtpPacket> {
    if (why != nullptr) {
      *why = reason;
    }
    return std::nullopt;
  };
  if (datagram.size() < kFixedHeaderBytes) {
    return reject("RTP packet shorter than the 12-byte fixed header");
  }
  const uint8_t first = loadU8(datagram, 0);
  if ((first >> 6) != kVersion) {
    return reject("RTP version is not 2");
  }
  std::size_t header_bytes = kFixedHeaderBytes + (first & 0x0F) * kCsrcBytes;
  if (header_bytes > datagram.size()) {
    return reject("RTP CSRC list exceeds the packet");
  }
  if ((first & 0x10) != 0) {
    // RFC 3550 §5.3.1: a 4-byte extension header, then `length` 32-bit words.
    if (header_bytes + kExtensionHeaderBytes > datagram.size()) {
      return reject("RTP header extension exceeds the packet");
    }
    const std::size_t words = loadBe16(datagram, header_bytes + 2);
    header_bytes += kExtensionHeaderBytes + words * 4;
    if (header_bytes > datagram.size()) {
      return reject("RTP header extension length exceeds the packet");
    }
  }
  std::size_t padding_bytes = 0;
  if ((first & 0x20) != 0) {
    // RFC 3550 §5.1: the last octet counts the padding octets, itself included.
    padding_bytes = loadU8(datagram, datagram.size() - 1);
    if (padding_bytes == 0 || padding_bytes > datagram.size() - header_bytes) {
      return reject("RTP padding count exceeds the payload");
    }
  }
  return RtpPacket(datagram, header_bytes, padding_bytes);
}

Result<RtpPacket> RtpPacket::parse(std::span<const std::byte> datagram) {
  const char* why = "";
  if (auto packet = tryParse(datagram, &why)) {
    return *packet;
  }
  return fail(why);
}

SeqNum RtpPacket::sequenceNumber() const {
  return SeqNum(loadBe16(bytes_, 2));
}

RtpTimestamp RtpPacket::timestamp() const {
  return RtpTimestamp(loadBe32(bytes_, 4));
}

Ssrc RtpPacket::ssrc() const {
  return Ssrc(loadBe32(bytes_, 8));
}

Ssrc RtpPacket::csrc(std::size_t index) const {
  return Ssrc(loadBe32(bytes_, kFixedHeaderBytes + index * kCsrcBytes));
}

std::optional<RtpPacket::Extension> RtpPacket::extension() const {
  if (!hasExtension()) {
    return std::nullopt;
  }
  const std::size_t at = kFixedHeaderBytes + csrcCount() * kCsrcBytes;
  const std::size_t data_at = at + kExtensionHeaderBytes;
  return Extension{loadBe16(bytes_, at), bytes_.subspan(data_at, header_bytes_ - data_at)};
}

bool looksLikeRtcp(std::span<const std::byte> datagram) {
  if (datagram.size() < 2 || (loadU8(datagram, 0) >> 6) != RtpPacket::kVersion) {
    return false;
  }
  const uint8_t packet_type = loadU8(datagram, 1);
  return packet_type >= 192 && packet_type <= 223;
}

}  // namespace siprecd::media
