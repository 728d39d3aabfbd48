// Fuzzes the RTP packet view and the RTCP framing check (network input on media ports).
// Properties: parse never reads outside the datagram, and the header, CSRC, extension,
// payload and padding it reports tile the datagram exactly.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "media/rtcp_packet.hpp"
#include "media/rtp_packet.hpp"

namespace {

void check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

uint32_t readBe(std::span<const std::byte> bytes, std::size_t at, std::size_t count) {
  uint32_t value = 0;
  for (std::size_t i = 0; i < count; ++i) {
    value = (value << 8) | static_cast<uint8_t>(bytes[at + i]);
  }
  return value;
}

void checkRtp(std::span<const std::byte> bytes) {
  const auto packet = siprecd::media::RtpPacket::parse(bytes);
  check(siprecd::media::RtpPacket::tryParse(bytes).has_value() == packet.has_value());
  if (!packet) {
    check(!packet.error().message.empty());
    return;
  }
  check(bytes.size() >= siprecd::media::RtpPacket::kFixedHeaderBytes);
  check((static_cast<uint8_t>(bytes[0]) >> 6) == 2);
  const std::size_t csrc_end = 12 + 4 * static_cast<std::size_t>(packet->csrcCount());
  check(packet->headerBytes() >= csrc_end);
  check(packet->headerBytes() + packet->paddingBytes() <= bytes.size());
  check(packet->payload().data() == bytes.data() + packet->headerBytes());
  check(packet->payload().size() == bytes.size() - packet->headerBytes() - packet->paddingBytes());
  // Accessors agree with the wire bytes (RFC 3550 §5.1 offsets).
  check(packet->sequenceNumber().value() == readBe(bytes, 2, 2));
  check(packet->timestamp().value() == readBe(bytes, 4, 4));
  check(packet->ssrc().value() == readBe(bytes, 8, 4));
  check(packet->payloadType() == (static_cast<uint8_t>(bytes[1]) & 0x7F));
  for (std::size_t i = 0; i < packet->csrcCount(); ++i) {
    check(packet->csrc(i).value() == readBe(bytes, 12 + 4 * i, 4));
  }
  if (const auto extension = packet->extension()) {
    check(packet->hasExtension());
    check(extension->data.data() == bytes.data() + csrc_end + 4);
    check(csrc_end + 4 + extension->data.size() == packet->headerBytes());
    check(extension->data.size() % 4 == 0);
  } else {
    check(!packet->hasExtension());
    check(packet->headerBytes() == csrc_end);
  }
  if (packet->padding()) {
    check(packet->paddingBytes() >= 1);
    check(packet->paddingBytes() == static_cast<uint8_t>(bytes.back()));
  } else {
    check(packet->paddingBytes() == 0);
  }
}

void checkRtcp(std::span<const std::byte> bytes) {
  const auto compound = siprecd::media::RtcpCompound::parse(bytes);
  check(siprecd::media::RtcpCompound::tryParse(bytes).has_value() == compound.has_value());
  if (!compound) {
    return;
  }
  check(siprecd::media::looksLikeRtcp(bytes));
  // The lengths tile the datagram: walk them again.
  std::size_t at = 0;
  std::size_t packets = 0;
  while (at < bytes.size()) {
    check(bytes.size() - at >= 4);
    at += (static_cast<std::size_t>(static_cast<uint8_t>(bytes[at + 2]) << 8 |
                                    static_cast<uint8_t>(bytes[at + 3])) +
           1) *
          4;
    ++packets;
  }
  check(at == bytes.size());
  check(packets == compound->packetCount());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto bytes = std::as_bytes(std::span(data, size));
  checkRtp(bytes);
  checkRtcp(bytes);
  return 0;
}
