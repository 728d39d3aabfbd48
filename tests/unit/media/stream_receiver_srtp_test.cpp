// StreamReceiver with SDES-SRTP, RTCP sender reports and spool write errors.
#include <cstring>

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include "media/stream_receiver.hpp"
#include "media_test_support.hpp"

namespace siprecd::media {
namespace {

using testing::bytesOf;
using testing::makeRtp;
using testing::readFile;
using testing::RtpFields;
using testing::TempDir;

constexpr uint32_t kSsrc = 0x5EC0DE01;

UdpEndpoint endpoint(const char* ip, uint16_t port) {
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  v4.sin_port = htons(port);
  inet_pton(AF_INET, ip, &v4.sin_addr);
  sockaddr_storage storage{};
  std::memcpy(&storage, &v4, sizeof(v4));
  return UdpEndpoint::fromSockaddr(storage, sizeof(v4));
}

std::vector<uint8_t> key(uint8_t seed) {
  std::vector<uint8_t> bytes(30);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] = static_cast<uint8_t>(seed * 31 + i);
  }
  return bytes;
}

SpoolHeader pcmuHeader() {
  SpoolHeader header;
  header.codec_name = "PCMU";
  header.clock_rate = 8000;
  return header;
}

std::vector<std::byte> audio(uint16_t seq, uint8_t payload_type = 0, std::size_t padding = 0) {
  RtpFields fields;
  fields.seq = seq;
  fields.timestamp = 8000 + seq * 160U;
  fields.ssrc = kSsrc;
  fields.payload_type = payload_type;
  auto payload = bytesOf({seq & 0xFF, 0x11, 0x22, 0x33});
  payload.resize(payload.size() + padding);
  return makeRtp(fields, payload);
}

// RFC 3550 §6.4.1 sender report of `ssrc` (NTP 0xE0000000_40000000, RTP 8000 + 160) with
// an SDES (CNAME "x") after it, as a compound packet.
std::vector<std::byte> senderReportCompound(uint32_t ssrc) {
  const int a = static_cast<int>(ssrc >> 24);
  const int b = static_cast<int>((ssrc >> 16) & 0xFF);
  const int c = static_cast<int>((ssrc >> 8) & 0xFF);
  const int d = static_cast<int>(ssrc & 0xFF);
  return bytesOf({0x80, 200, 0,    6,    a,    b, c, d,                  // SR header, SSRC
                  0xE0, 0,   0,    0,    0x40, 0, 0, 0,                  // NTP timestamp
                  0,    0,   0x1F, 0xE0,                                 // RTP timestamp 8160
                  0,    0,   0,    1,    0,    0, 0, 4,                  // packet and octet counts
                  0x81, 202, 0,    2,    a,    b, c, d, 1, 1, 'x', 0});  // SDES CNAME "x"
}

class SrtpReceiverTest : public ::testing::Test {
 protected:
  SrtpReceiverTest() {
    auto inbound = SrtpSession::create(SrtpSuite::AesCm128HmacSha1_80, key(1),
                                       SrtpSession::Direction::Inbound);
    receiver_.emplace(*SpoolWriter::create(path_, pcmuHeader(), 4096), std::vector<uint8_t>{0},
                      ReceiveFormat{8000, std::nullopt}, std::move(*inbound));
  }

  std::vector<std::byte> protect(SrtpSession& session, const std::vector<std::byte>& plain,
                                 bool rtcp = false) {
    std::vector<std::byte> buffer(plain.size() + kSrtpMaxTrailerBytes);
    std::copy(plain.begin(), plain.end(), buffer.begin());
    const auto outcome =
        rtcp ? session.protectRtcp(buffer, plain.size()) : session.protectRtp(buffer, plain.size());
    EXPECT_EQ(outcome.status, SrtpStatus::Ok);
    buffer.resize(outcome.bytes);
    return buffer;
  }

  std::vector<SpoolRecord> spooled() {
    receiver_->flush();
    bytes_ = readFile(path_);
    SpoolParser parser(bytes_);
    std::vector<SpoolRecord> records;
    while (auto record = parser.next()) {
      records.push_back(*record);
    }
    return records;
  }

  SrtpSession sender_ = *SrtpSession::create(SrtpSuite::AesCm128HmacSha1_80, key(1),
                                             SrtpSession::Direction::Outbound);
  SrtpSession attacker_ = *SrtpSession::create(SrtpSuite::AesCm128HmacSha1_80, key(2),
                                               SrtpSession::Direction::Outbound);
  TempDir dir_;
  std::filesystem::path path_ = dir_.path() / "srtp.spool";
  std::optional<StreamReceiver> receiver_;
  std::vector<std::byte> bytes_;
  const UdpEndpoint peer_ = endpoint("192.0.2.10", 4000);
  const UdpEndpoint other_ = endpoint("192.0.2.66", 4000);
};

TEST_F(SrtpReceiverTest, SpoolsDecryptedPayloads) {
  for (uint16_t seq = 1; seq <= 3; ++seq) {
    EXPECT_EQ(receiver_->onRtpDatagram(protect(sender_, audio(seq)), peer_, seq * 20'000),
              StreamReceiver::Outcome::Accepted);
  }
  const auto records = spooled();
  ASSERT_EQ(records.size(), 3U);
  for (uint16_t i = 0; i < 3; ++i) {
    EXPECT_EQ(records[i].seq, SeqNum(i + 1));
    EXPECT_EQ(records[i].ssrc, Ssrc(kSsrc));
    EXPECT_EQ(std::vector<std::byte>(records[i].payload.begin(), records[i].payload.end()),
              bytesOf({i + 1, 0x11, 0x22, 0x33}));
  }
  const StreamStats stats = receiver_->stats();
  EXPECT_EQ(stats.packets, 3U);
  EXPECT_EQ(stats.expected, 3U);
  EXPECT_EQ(stats.srtp_auth_failures, 0U);
}

TEST_F(SrtpReceiverTest, UnauthenticatedPacketsAreDroppedCountedAndNeverLatch) {
  EXPECT_EQ(receiver_->onRtpDatagram(protect(attacker_, audio(1)), other_, 1),
            StreamReceiver::Outcome::Unauthenticated);
  EXPECT_EQ(receiver_->onRtpDatagram(audio(2, 0, 156), other_, 2),  // plain RTP
            StreamReceiver::Outcome::Unauthenticated);
  EXPECT_FALSE(receiver_->latchedSource());
  EXPECT_EQ(receiver_->onRtpDatagram(protect(sender_, audio(3)), peer_, 3),
            StreamReceiver::Outcome::Accepted);
  EXPECT_EQ(receiver_->latchedSource(), peer_);
  // After the latch a foreign source is dropped before any crypto.
  EXPECT_EQ(receiver_->onRtpDatagram(protect(sender_, audio(4)), other_, 4),
            StreamReceiver::Outcome::ForeignSource);
  EXPECT_EQ(receiver_->onRtpDatagram(protect(attacker_, audio(5)), peer_, 5),
            StreamReceiver::Outcome::Unauthenticated);
  const StreamStats stats = receiver_->stats();
  EXPECT_EQ(stats.srtp_auth_failures, 3U);
  EXPECT_EQ(stats.dropped_foreign_source, 1U);
  EXPECT_EQ(stats.packets, 1U);
  EXPECT_EQ(stats.expected, 1U);  // statistics see authentic packets only
  EXPECT_EQ(spooled().size(), 1U);
}

TEST_F(SrtpReceiverTest, ReplayedPacketsAreDroppedAndCounted) {
  const auto first = protect(sender_, audio(10));
  const auto second = protect(sender_, audio(11));
  EXPECT_EQ(receiver_->onRtpDatagram(first, peer_, 1), StreamReceiver::Outcome::Accepted);
  EXPECT_EQ(receiver_->onRtpDatagram(second, peer_, 2), StreamReceiver::Outcome::Accepted);
  EXPECT_EQ(receiver_->onRtpDatagram(first, peer_, 3), StreamReceiver::Outcome::Replayed);
  const StreamStats stats = receiver_->stats();
  EXPECT_EQ(stats.srtp_replays, 1U);
  EXPECT_EQ(stats.duplicates, 0U);
  EXPECT_EQ(stats.packets, 2U);
  EXPECT_EQ(spooled().size(), 2U);
}

TEST_F(SrtpReceiverTest, NonNegotiatedPayloadTypeCannotLatchEvenWhenAuthentic) {
  EXPECT_EQ(receiver_->onRtpDatagram(protect(sender_, audio(1, 96)), other_, 1),
            StreamReceiver::Outcome::ForeignSource);
  EXPECT_FALSE(receiver_->latchedSource());
  EXPECT_EQ(receiver_->onRtpDatagram(bytesOf({0x80, 0}), peer_, 2),
            StreamReceiver::Outcome::Malformed);
}

TEST_F(SrtpReceiverTest, SrtcpSenderReportsOfTheStreamSsrcAreSpooled) {
  EXPECT_EQ(receiver_->onRtpDatagram(protect(sender_, audio(1)), peer_, 1'000'000),
            StreamReceiver::Outcome::Accepted);
  // Muxed on the RTP port and on the RTCP port.
  EXPECT_EQ(receiver_->onRtpDatagram(protect(sender_, senderReportCompound(kSsrc), true), peer_,
                                     2'000'000),
            StreamReceiver::Outcome::Rtcp);
  EXPECT_EQ(
      receiver_->onRtcpDatagram(protect(sender_, senderReportCompound(kSsrc), true), 3'000'000),
      StreamReceiver::Outcome::Rtcp);
  // Unauthenticated and plain RTCP are not. libsrtp checks the SRTCP index against the
  // replay window before the tag, so the forgery carries an index not received yet.
  std::vector<std::byte> forged;
  for (int i = 0; i < 3; ++i) {
    forged = protect(attacker_, senderReportCompound(kSsrc), true);
  }
  EXPECT_EQ(receiver_->onRtcpDatagram(forged, 4), StreamReceiver::Outcome::Unauthenticated);
  const auto outcome = receiver_->onRtcpDatagram(senderReportCompound(kSsrc), 5);
  EXPECT_NE(outcome, StreamReceiver::Outcome::Rtcp);
  EXPECT_NE(outcome, StreamReceiver::Outcome::Accepted);
  const auto records = spooled();
  ASSERT_EQ(records.size(), 3U);
  for (std::size_t i = 1; i < 3; ++i) {
    EXPECT_EQ(records[i].kind, SpoolRecordKind::SenderReport);
    EXPECT_EQ(records[i].arrival_epoch_us, static_cast<int64_t>(i + 1) * 1'000'000);
    EXPECT_EQ(records[i].ssrc, Ssrc(kSsrc));
    EXPECT_EQ(records[i].timestamp, RtpTimestamp(8000 + 160));
    EXPECT_EQ(records[i].seq, SeqNum(0));
    EXPECT_EQ(records[i].payload_type, 0);
    EXPECT_EQ(spoolSenderReportNtp(records[i]), 0xE000000040000000ULL);
  }
  const StreamStats stats = receiver_->stats();
  EXPECT_EQ(stats.sender_reports, 2U);
  EXPECT_EQ(stats.rtcp_packets, 2U);
  EXPECT_GE(stats.srtp_auth_failures, 1U);
}

class PlainReceiverTest : public ::testing::Test {
 protected:
  std::vector<SpoolRecord> spooled() {
    receiver_.flush();
    bytes_ = readFile(path_);
    SpoolParser parser(bytes_);
    std::vector<SpoolRecord> records;
    while (auto record = parser.next()) {
      records.push_back(*record);
    }
    return records;
  }

  TempDir dir_;
  std::filesystem::path path_ = dir_.path() / "plain.spool";
  StreamReceiver receiver_{*SpoolWriter::create(path_, pcmuHeader(), 4096), {0}};
  std::vector<std::byte> bytes_;
  const UdpEndpoint peer_ = endpoint("192.0.2.10", 4000);
};

TEST_F(PlainReceiverTest, SenderReportNeedsTheSsrcOfAcceptedRtp) {
  EXPECT_EQ(receiver_.onRtcpDatagram(senderReportCompound(kSsrc), 1),
            StreamReceiver::Outcome::Rtcp);  // no RTP yet: not spooled
  EXPECT_EQ(receiver_.onRtpDatagram(audio(1), peer_, 5'000'000), StreamReceiver::Outcome::Accepted);
  EXPECT_EQ(receiver_.onRtcpDatagram(senderReportCompound(0xBAD), 6'000'000),
            StreamReceiver::Outcome::Rtcp);
  EXPECT_EQ(receiver_.onRtcpDatagram(senderReportCompound(kSsrc)),  // stamped with the RTP arrival
            StreamReceiver::Outcome::Rtcp);
  const auto records = spooled();
  ASSERT_EQ(records.size(), 2U);
  EXPECT_EQ(records[0].kind, SpoolRecordKind::Rtp);
  EXPECT_EQ(records[1].kind, SpoolRecordKind::SenderReport);
  EXPECT_EQ(records[1].arrival_epoch_us, 5'000'000);
  EXPECT_EQ(receiver_.stats().sender_reports, 1U);
  EXPECT_EQ(receiver_.stats().rtcp_packets, 3U);
}

TEST(StreamReceiverSpoolErrors, AFailingSpoolCountsErrorsAndLeavesOtherStreamsAlone) {
  TempDir dir;
  UniqueFd full(::open("/dev/full", O_WRONLY | O_CLOEXEC));
  ASSERT_TRUE(full.valid());
  SpoolWriterSettings settings;
  settings.buffer_bytes = 4096;
  StreamReceiver broken(*SpoolWriter::adopt(std::move(full), "/dev/full", pcmuHeader(), settings),
                        {0});
  const auto good_path = dir.path() / "good.spool";
  StreamReceiver good(*SpoolWriter::create(good_path, pcmuHeader(), settings), {0});
  const UdpEndpoint peer = endpoint("192.0.2.10", 4000);
  for (uint16_t seq = 0; seq < 200; ++seq) {  // 200 x 32-byte records: several buffer flushes
    EXPECT_EQ(broken.onRtpDatagram(audio(seq), peer, seq), StreamReceiver::Outcome::Accepted);
    EXPECT_EQ(good.onRtpDatagram(audio(seq), peer, seq), StreamReceiver::Outcome::Accepted);
  }
  broken.flush();
  good.flush();
  const StreamStats failed = broken.stats();
  EXPECT_EQ(failed.packets, 200U);
  EXPECT_EQ(failed.spool_records_dropped, 200U);
  EXPECT_GT(failed.spool_write_errors, 0U);
  EXPECT_EQ(broken.takeNewWriteErrors(), failed.spool_write_errors);
  EXPECT_EQ(broken.takeNewWriteErrors(), 0U);
  EXPECT_FALSE(broken.takeWriter().finish());

  const StreamStats fine = good.stats();
  EXPECT_EQ(fine.spool_write_errors, 0U);
  EXPECT_EQ(fine.spool_records_dropped, 0U);
  const auto bytes = readFile(good_path);
  SpoolParser parser(bytes);
  std::size_t records = 0;
  while (parser.next()) {
    ++records;
  }
  EXPECT_EQ(records, 200U);
  EXPECT_EQ(parser.endStatus(), SpoolDecodeStatus::Ok);
}

}  // namespace
}  // namespace siprecd::media
