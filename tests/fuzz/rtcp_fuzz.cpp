// Fuzzes the RTCP compound framing and the sender-report reader (network input on the RTCP
// port and, with rtcp-mux, the RTP port). Properties: never reads outside the datagram; the
// packets forEachPacket() visits tile a valid compound exactly, one per packetCount(); a
// sender report is only read from a type-200 packet that holds its sender info and RC
// report blocks; tryParse and parse agree.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "media/rtcp_packet.hpp"

namespace {

using siprecd::media::RtcpCompound;
using siprecd::media::RtcpSenderReport;

void check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

void checkSenderReport(std::span<const std::byte> packet) {
  const auto report = RtcpSenderReport::tryParse(packet);
  if (!report) {
    return;
  }
  check(static_cast<uint8_t>(packet[1]) == 200);
  check((static_cast<uint8_t>(packet[0]) >> 6) == 2);
  check(report->report_count == (static_cast<uint8_t>(packet[0]) & 0x1F));
  check(RtcpSenderReport::kMinBytes + report->report_count * RtcpSenderReport::kReportBlockBytes <=
        packet.size());
  check(report->ssrc.value() == ((static_cast<uint32_t>(static_cast<uint8_t>(packet[4])) << 24) |
                                 (static_cast<uint32_t>(static_cast<uint8_t>(packet[5])) << 16) |
                                 (static_cast<uint32_t>(static_cast<uint8_t>(packet[6])) << 8) |
                                 static_cast<uint8_t>(packet[7])));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto bytes = std::as_bytes(std::span(data, size));
  // A lone packet, as the receiver sees one inside a compound.
  checkSenderReport(bytes);
  const auto compound = RtcpCompound::tryParse(bytes);
  check(compound.has_value() == RtcpCompound::parse(bytes).has_value());
  if (!compound) {
    return 0;
  }
  std::size_t covered = 0;
  std::size_t packets = 0;
  compound->forEachPacket([&](uint8_t type, std::span<const std::byte> packet) {
    check(packet.data() == bytes.data() + covered);
    check(packet.size() >= RtcpCompound::kCommonHeaderBytes && packet.size() % 4 == 0);
    check(type == static_cast<uint8_t>(packet[1]) && type >= 192 && type <= 223);
    checkSenderReport(packet);
    covered += packet.size();
    ++packets;
  });
  check(covered == bytes.size());
  check(packets == compound->packetCount());
  return 0;
}
