#include "media/stream_receiver.hpp"

#include <algorithm>

#include "media/rtcp_packet.hpp"
#include "media/rtp_packet.hpp"

namespace siprecd::media {

StreamReceiver::StreamReceiver(SpoolWriter writer, std::vector<uint8_t> latch_payload_types)
    : writer_(std::move(writer)), latch_payload_types_(std::move(latch_payload_types)) {}

StreamReceiver::StreamReceiver(SpoolWriter writer, std::vector<uint8_t> latch_payload_types,
                               ReceiveFormat format)
    : writer_(std::move(writer)),
      statistics_(format),
      latch_payload_types_(std::move(latch_payload_types)) {}

StreamReceiver::Outcome StreamReceiver::onRtpDatagram(std::span<const std::byte> datagram,
                                                      const UdpEndpoint& source,
                                                      int64_t arrival_epoch_us) {
  if (looksLikeRtcp(datagram)) {
    return onRtcpDatagram(datagram);
  }
  const auto packet = RtpPacket::tryParse(datagram);
  if (!packet || packet->payload().size() > kSpoolMaxPayloadBytes) {
    ++stats_.malformed;
    return Outcome::Malformed;
  }
  if (!latched_source_) {
    if (!latch_payload_types_.empty() &&
        std::find(latch_payload_types_.begin(), latch_payload_types_.end(),
                  packet->payloadType()) == latch_payload_types_.end()) {
      ++stats_.dropped_foreign_source;
      return Outcome::ForeignSource;
    }
    latched_source_ = source;
  } else if (*latched_source_ != source) {
    ++stats_.dropped_foreign_source;
    return Outcome::ForeignSource;
  }
  ++stats_.packets;
  stats_.bytes += datagram.size();
  if (!stats_.first_packet_epoch_us) {
    stats_.first_packet_epoch_us = arrival_epoch_us;
  }
  stats_.last_packet_epoch_us = arrival_epoch_us;
  statistics_.onPacket(*packet, arrival_epoch_us);
  SpoolRecord record;
  record.kind = SpoolRecordKind::Rtp;
  record.arrival_epoch_us = arrival_epoch_us;
  record.seq = packet->sequenceNumber();
  record.timestamp = packet->timestamp();
  record.ssrc = packet->ssrc();
  record.payload_type = packet->payloadType();
  record.marker = packet->marker();
  record.payload = packet->payload();
  writer_.append(record);
  return Outcome::Accepted;
}

StreamReceiver::Outcome StreamReceiver::onRtcpDatagram(std::span<const std::byte> datagram) {
  if (!RtcpCompound::tryParse(datagram)) {
    ++stats_.malformed;
    return Outcome::Malformed;
  }
  ++stats_.rtcp_packets;
  return Outcome::Rtcp;
}

StreamReceiver::Outcome StreamReceiver::onTruncatedDatagram() {
  ++stats_.malformed;
  return Outcome::Malformed;
}

StreamStats StreamReceiver::stats() const {
  StreamStats stats = stats_;
  stats.spool_records_dropped = writer_.stats().records_dropped;
  stats.spool_write_errors = writer_.stats().write_errors;
  statistics_.report(stats);
  return stats;
}

uint64_t StreamReceiver::takeNewWriteErrors() {
  const uint64_t errors = writer_.stats().write_errors;
  const uint64_t fresh = errors - reported_write_errors_;
  reported_write_errors_ = errors;
  return fresh;
}

}  // namespace siprecd::media
