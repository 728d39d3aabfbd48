#include "media/stream_receiver.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "media/byte_order.hpp"
#include "media/rtp_packet.hpp"

namespace siprecd::media {

namespace {

/// The payload type of a datagram whose fixed RTP header is present with version 2 (the
/// header stays in clear text under SRTP, RFC 3711 §3.1).
std::optional<uint8_t> clearPayloadType(std::span<const std::byte> datagram) {
  if (datagram.size() < RtpPacket::kFixedHeaderBytes ||
      (loadU8(datagram, 0) >> 6) != RtpPacket::kVersion) {
    return std::nullopt;
  }
  return loadU8(datagram, 1) & 0x7F;
}

}  // namespace

StreamReceiver::StreamReceiver(SpoolWriter writer, std::vector<uint8_t> latch_payload_types)
    : writer_(std::move(writer)), latch_payload_types_(std::move(latch_payload_types)) {}

StreamReceiver::StreamReceiver(SpoolWriter writer, std::vector<uint8_t> latch_payload_types,
                               ReceiveFormat format)
    : writer_(std::move(writer)),
      statistics_(format),
      latch_payload_types_(std::move(latch_payload_types)) {}

StreamReceiver::StreamReceiver(SpoolWriter writer, std::vector<uint8_t> latch_payload_types,
                               ReceiveFormat format, std::optional<SrtpSession> srtp)
    : writer_(std::move(writer)),
      statistics_(format),
      latch_payload_types_(std::move(latch_payload_types)),
      srtp_(std::move(srtp)) {
  if (srtp_) {
    srtp_buffer_.resize(kMaxSrtpDatagramBytes);
  }
}

bool StreamReceiver::mayLatch(uint8_t payload_type) const {
  return latch_payload_types_.empty() ||
         std::find(latch_payload_types_.begin(), latch_payload_types_.end(), payload_type) !=
             latch_payload_types_.end();
}

std::optional<StreamReceiver::Outcome> StreamReceiver::unprotect(
    std::span<const std::byte> datagram, bool rtcp, std::span<const std::byte>* plain) {
  if (datagram.size() > srtp_buffer_.size()) {
    ++stats_.malformed;
    return Outcome::Malformed;
  }
  const auto buffer = std::span(srtp_buffer_).first(datagram.size());
  std::memcpy(buffer.data(), datagram.data(), datagram.size());
  const SrtpOutcome outcome = rtcp ? srtp_->unprotectRtcp(buffer) : srtp_->unprotectRtp(buffer);
  switch (outcome.status) {
    case SrtpStatus::Ok:
      *plain = buffer.first(outcome.bytes);
      return std::nullopt;
    case SrtpStatus::AuthenticationFailed:
      ++stats_.srtp_auth_failures;
      return Outcome::Unauthenticated;
    case SrtpStatus::Replay:
      ++stats_.srtp_replays;
      return Outcome::Replayed;
    case SrtpStatus::Invalid:
      break;
  }
  ++stats_.malformed;
  return Outcome::Malformed;
}

StreamReceiver::Outcome StreamReceiver::onRtpDatagram(std::span<const std::byte> datagram,
                                                      const UdpEndpoint& source,
                                                      int64_t arrival_epoch_us) {
  if (looksLikeRtcp(datagram)) {
    return onRtcpDatagram(datagram, arrival_epoch_us);
  }
  std::span<const std::byte> plain = datagram;
  if (srtp_) {
    // Source and payload type first, on the clear header: a foreign packet never reaches
    // the replay window, and an unauthenticated one never latches.
    const auto payload_type = clearPayloadType(datagram);
    if (!payload_type) {
      ++stats_.malformed;
      return Outcome::Malformed;
    }
    if (latched_source_ ? *latched_source_ != source : !mayLatch(*payload_type)) {
      ++stats_.dropped_foreign_source;
      return Outcome::ForeignSource;
    }
    if (auto rejected = unprotect(datagram, false, &plain)) {
      return *rejected;
    }
  }
  const auto packet = RtpPacket::tryParse(plain);
  if (!packet || packet->payload().size() > kSpoolMaxPayloadBytes) {
    ++stats_.malformed;
    return Outcome::Malformed;
  }
  if (!latched_source_) {
    if (!mayLatch(packet->payloadType())) {
      ++stats_.dropped_foreign_source;
      return Outcome::ForeignSource;
    }
    latched_source_ = source;
  } else if (*latched_source_ != source) {
    ++stats_.dropped_foreign_source;
    return Outcome::ForeignSource;
  }
  current_ssrc_ = packet->ssrc();
  // The receive quality sees every packet, so that a pause does not read as loss.
  statistics_.onPacket(*packet, arrival_epoch_us);
  if (capture_paused_) {
    ++stats_.packets_paused;
    return Outcome::Paused;
  }
  ++stats_.packets;
  stats_.bytes += datagram.size();
  if (!stats_.first_packet_epoch_us) {
    stats_.first_packet_epoch_us = arrival_epoch_us;
  }
  stats_.last_packet_epoch_us = arrival_epoch_us;
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

StreamReceiver::Outcome StreamReceiver::onRtcpDatagram(std::span<const std::byte> datagram,
                                                       int64_t arrival_epoch_us) {
  std::span<const std::byte> plain = datagram;
  if (srtp_) {
    if (auto rejected = unprotect(datagram, true, &plain)) {
      return *rejected;
    }
  }
  const auto compound = RtcpCompound::tryParse(plain);
  if (!compound) {
    ++stats_.malformed;
    return Outcome::Malformed;
  }
  ++stats_.rtcp_packets;
  spoolSenderReports(*compound, arrival_epoch_us);
  return Outcome::Rtcp;
}

StreamReceiver::Outcome StreamReceiver::onRtcpDatagram(std::span<const std::byte> datagram) {
  return onRtcpDatagram(datagram, stats_.last_packet_epoch_us.value_or(0));
}

// RFC 3550 §6.4.1: the SR pairs an NTP wall-clock time with the RTP timestamp of the same
// instant, in the sender's SSRC. Only reports of the SSRC being recorded are kept, so a
// stray or stale report cannot skew the renderer's wall-clock mapping.
void StreamReceiver::spoolSenderReports(const RtcpCompound& compound, int64_t arrival_epoch_us) {
  if (!current_ssrc_) {
    return;
  }
  compound.forEachPacket([&](uint8_t packet_type, std::span<const std::byte> packet) {
    if (packet_type != static_cast<uint8_t>(RtcpPacketType::SenderReport)) {
      return;
    }
    const auto report = RtcpSenderReport::tryParse(packet);
    if (!report || report->ssrc != *current_ssrc_) {
      return;
    }
    std::array<std::byte, kSpoolSenderReportPayloadBytes> ntp{};
    storeBe64(ntp, 0, report->ntp_timestamp);
    SpoolRecord record;
    record.kind = SpoolRecordKind::SenderReport;
    record.arrival_epoch_us = arrival_epoch_us;
    record.seq = SeqNum(0);
    record.timestamp = report->rtp_timestamp;
    record.ssrc = report->ssrc;
    record.payload_type = 0;
    record.payload = ntp;
    writer_.append(record);
    ++stats_.sender_reports;
  });
}

StreamReceiver::Outcome StreamReceiver::onTruncatedDatagram() {
  ++stats_.malformed;
  return Outcome::Malformed;
}

StreamStats StreamReceiver::stats() const {
  StreamStats stats = stats_;
  const SpoolWriterStats spool = writer_.stats();
  stats.spool_records_dropped = spool.records_dropped;
  stats.spool_write_errors = spool.write_errors;
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
