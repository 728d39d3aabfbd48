#include "media/stream_receiver.hpp"

#include <cstring>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include "media_test_support.hpp"

namespace siprecd::media {
namespace {

using testing::bytesOf;
using testing::makeRtp;
using testing::readFile;
using testing::RtpFields;
using testing::TempDir;

UdpEndpoint endpoint(const char* ip, uint16_t port) {
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  v4.sin_port = htons(port);
  inet_pton(AF_INET, ip, &v4.sin_addr);
  sockaddr_storage storage{};
  std::memcpy(&storage, &v4, sizeof(v4));
  return UdpEndpoint::fromSockaddr(storage, sizeof(v4));
}

class StreamReceiverTest : public ::testing::Test {
 protected:
  StreamReceiverTest() {
    SpoolHeader header;
    header.codec_name = "PCMU";
    header.clock_rate = 8000;
    receiver_.emplace(*SpoolWriter::create(path_, header, 4096));
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

  TempDir dir_;
  std::filesystem::path path_ = dir_.path() / "r.spool";
  std::optional<StreamReceiver> receiver_;
  std::vector<std::byte> bytes_;
  const UdpEndpoint peer_ = endpoint("192.0.2.10", 4000);
};

TEST_F(StreamReceiverTest, SpoolsValidRtpWithArrivalTimeAndHeaderFields) {
  RtpFields fields;
  fields.seq = 7;
  fields.timestamp = 1234;
  fields.ssrc = 42;
  fields.marker = true;
  fields.padding = 2;
  const auto datagram = makeRtp(fields, bytesOf({0xFF, 0x7F}));
  EXPECT_EQ(receiver_->onRtpDatagram(datagram, peer_, 5'000'000),
            StreamReceiver::Outcome::Accepted);
  const auto records = spooled();
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].arrival_epoch_us, 5'000'000);
  EXPECT_EQ(records[0].seq, SeqNum(7));
  EXPECT_EQ(records[0].timestamp, RtpTimestamp(1234));
  EXPECT_EQ(records[0].ssrc, Ssrc(42));
  EXPECT_TRUE(records[0].marker);
  ASSERT_EQ(records[0].payload.size(), 2U);  // padding removed
  const StreamStats stats = receiver_->stats();
  EXPECT_EQ(stats.packets, 1U);
  EXPECT_EQ(stats.bytes, datagram.size());
  EXPECT_EQ(stats.first_packet_epoch_us, 5'000'000);
  EXPECT_EQ(stats.last_packet_epoch_us, 5'000'000);
}

TEST_F(StreamReceiverTest, LatchesFirstSourceAndDropsOthers) {
  RtpFields fields;
  EXPECT_EQ(receiver_->onRtpDatagram(makeRtp(fields, bytesOf({1})), peer_, 1),
            StreamReceiver::Outcome::Accepted);
  fields.seq = 1;
  EXPECT_EQ(
      receiver_->onRtpDatagram(makeRtp(fields, bytesOf({2})), endpoint("192.0.2.10", 4002), 2),
      StreamReceiver::Outcome::ForeignSource);
  EXPECT_EQ(
      receiver_->onRtpDatagram(makeRtp(fields, bytesOf({3})), endpoint("192.0.2.11", 4000), 3),
      StreamReceiver::Outcome::ForeignSource);
  fields.seq = 2;
  EXPECT_EQ(receiver_->onRtpDatagram(makeRtp(fields, bytesOf({4})), peer_, 4),
            StreamReceiver::Outcome::Accepted);
  EXPECT_EQ(receiver_->latchedSource(), peer_);
  EXPECT_EQ(receiver_->stats().dropped_foreign_source, 2U);
  const auto records = spooled();
  ASSERT_EQ(records.size(), 2U);
  EXPECT_EQ(records[1].payload[0], std::byte{4});
}

TEST_F(StreamReceiverTest, GarbageIsMalformedAndDoesNotLatch) {
  EXPECT_EQ(receiver_->onRtpDatagram(bytesOf({0x00, 0x01, 0x02}), endpoint("198.51.100.1", 9), 1),
            StreamReceiver::Outcome::Malformed);
  EXPECT_EQ(receiver_->onTruncatedDatagram(), StreamReceiver::Outcome::Malformed);
  EXPECT_FALSE(receiver_->latchedSource());
  EXPECT_EQ(receiver_->onRtpDatagram(makeRtp(RtpFields{}, bytesOf({1})), peer_, 2),
            StreamReceiver::Outcome::Accepted);
  EXPECT_EQ(receiver_->stats().malformed, 2U);
  EXPECT_EQ(receiver_->latchedSource(), peer_);
}

TEST_F(StreamReceiverTest, MuxedRtcpIsCountedNotSpooled) {
  const auto receiver_report = bytesOf({0x80, 201, 0, 1, 0, 0, 0, 1});
  EXPECT_EQ(receiver_->onRtpDatagram(receiver_report, peer_, 1), StreamReceiver::Outcome::Rtcp);
  EXPECT_EQ(receiver_->onRtcpDatagram(receiver_report), StreamReceiver::Outcome::Rtcp);
  EXPECT_EQ(receiver_->onRtcpDatagram(bytesOf({0x80, 201, 0, 9})),
            StreamReceiver::Outcome::Malformed);
  const StreamStats stats = receiver_->stats();
  EXPECT_EQ(stats.rtcp_packets, 2U);
  EXPECT_EQ(stats.malformed, 1U);
  EXPECT_EQ(stats.packets, 0U);
  EXPECT_FALSE(receiver_->latchedSource());
  EXPECT_TRUE(spooled().empty());
  EXPECT_FALSE(std::filesystem::exists(path_));  // no RTP, no spool file
}

}  // namespace
}  // namespace siprecd::media

namespace siprecd::media {
namespace {

TEST_F(StreamReceiverTest, PausedCaptureDropsAudioButKeepsTheLatchAndTheSequence) {
  RtpFields fields;
  for (uint16_t seq = 1; seq <= 6; ++seq) {
    fields.seq = seq;
    fields.timestamp = seq * 160U;
    receiver_->setCapturePaused(seq >= 3 && seq <= 4);
    const auto outcome =
        receiver_->onRtpDatagram(makeRtp(fields, bytesOf({seq})), peer_, seq * 20'000);
    EXPECT_EQ(outcome, seq >= 3 && seq <= 4 ? StreamReceiver::Outcome::Paused
                                            : StreamReceiver::Outcome::Accepted);
  }
  // A foreign source is still refused while paused: the latch holds.
  receiver_->setCapturePaused(true);
  fields.seq = 7;
  EXPECT_EQ(receiver_->onRtpDatagram(makeRtp(fields, bytesOf({7})), endpoint("192.0.2.99", 4000),
                                     140'000),
            StreamReceiver::Outcome::ForeignSource);
  const auto records = spooled();
  ASSERT_EQ(records.size(), 4U);
  EXPECT_EQ(records[1].seq, SeqNum(2));
  EXPECT_EQ(records[2].seq, SeqNum(5));  // 3 and 4 never reached the spool
  const StreamStats stats = receiver_->stats();
  EXPECT_EQ(stats.packets, 4U);
  EXPECT_EQ(stats.packets_paused, 2U);
  EXPECT_EQ(stats.dropped_foreign_source, 1U);
  EXPECT_EQ(stats.expected, 6U);
  EXPECT_EQ(stats.lost, 0U);  // the pause does not read as loss
}

TEST(StreamReceiverLatch, OnlyANegotiatedPayloadTypeLatchesTheSource) {
  testing::TempDir dir;
  SpoolHeader header;
  header.codec_name = "PCMU";
  header.clock_rate = 8000;
  StreamReceiver receiver(*SpoolWriter::create(dir.path() / "l.spool", header, 4096), {0, 101});
  const UdpEndpoint stray = endpoint("192.0.2.66", 9999);
  const UdpEndpoint sender = endpoint("192.0.2.10", 4000);
  testing::RtpFields dynamic;
  dynamic.payload_type = 96;
  EXPECT_EQ(receiver.onRtpDatagram(makeRtp(dynamic, bytesOf({1, 2})), stray, 1),
            StreamReceiver::Outcome::ForeignSource);
  EXPECT_FALSE(receiver.latchedSource().has_value());
  testing::RtpFields pcmu;
  pcmu.payload_type = 0;
  EXPECT_EQ(receiver.onRtpDatagram(makeRtp(pcmu, bytesOf({1, 2})), sender, 2),
            StreamReceiver::Outcome::Accepted);
  EXPECT_EQ(receiver.onRtpDatagram(makeRtp(pcmu, bytesOf({1, 2})), stray, 3),
            StreamReceiver::Outcome::ForeignSource);
  // Once latched, the source decides: a codec change by re-INVITE keeps flowing.
  testing::RtpFields pcma;
  pcma.payload_type = 8;
  EXPECT_EQ(receiver.onRtpDatagram(makeRtp(pcma, bytesOf({1, 2})), sender, 4),
            StreamReceiver::Outcome::Accepted);
  EXPECT_EQ(receiver.stats().dropped_foreign_source, 2u);
}

}  // namespace
}  // namespace siprecd::media

namespace siprecd::media {
namespace {

TEST(StreamReceiverQuality, ReportsReceiveStatisticsOfAcceptedPacketsOnly) {
  testing::TempDir dir;
  SpoolHeader header;
  header.codec_name = "PCMU";
  header.clock_rate = 8000;
  StreamReceiver receiver(*SpoolWriter::create(dir.path() / "q.spool", header, 4096), {0, 101},
                          ReceiveFormat{8000, 101});
  const UdpEndpoint sender = endpoint("192.0.2.10", 4000);
  const UdpEndpoint stray = endpoint("192.0.2.66", 9999);
  int64_t now = 1'000'000;
  for (uint16_t seq : {0, 1, 2, 4, 3, 3}) {
    testing::RtpFields fields;
    fields.seq = seq;
    fields.timestamp = seq * 160U;
    EXPECT_EQ(receiver.onRtpDatagram(makeRtp(fields, bytesOf({1})), sender, now),
              StreamReceiver::Outcome::Accepted);
    now += 20'000;
  }
  // A foreign packet far ahead must not disturb the sequence accounting.
  testing::RtpFields foreign;
  foreign.seq = 30000;
  EXPECT_EQ(receiver.onRtpDatagram(makeRtp(foreign, bytesOf({1})), stray, now),
            StreamReceiver::Outcome::ForeignSource);
  testing::RtpFields event;
  event.seq = 6;
  event.timestamp = 6 * 160;
  event.payload_type = 101;
  event.marker = true;
  EXPECT_EQ(
      receiver.onRtpDatagram(makeRtp(event, bytesOf({5, 0x8A, 0, 160})), sender, now + 500'000),
      StreamReceiver::Outcome::Accepted);
  const StreamStats stats = receiver.stats();
  EXPECT_EQ(stats.packets, 7U);
  EXPECT_EQ(stats.expected, 7U);
  EXPECT_EQ(stats.lost, 1U);  // seq 5
  EXPECT_EQ(stats.duplicates, 1U);
  EXPECT_EQ(stats.reordered, 1U);
  EXPECT_EQ(stats.extended_highest_seq, 6U);
  EXPECT_EQ(stats.dtmf_events, 1U);
  EXPECT_EQ(stats.gaps_over_200ms, 1U);
  EXPECT_EQ(stats.longest_gap_ms, 520U);  // 20 ms after the last audio packet, plus 500
  EXPECT_GT(stats.jitter_ms, 0.0);        // seq 4 came 20 ms early relative to seq 2
}

TEST(StreamReceiverQuality, ReceiveFormatCanBeSetAfterConstruction) {
  testing::TempDir dir;
  SpoolHeader header;
  header.codec_name = "PCMU";
  header.clock_rate = 8000;
  StreamReceiver receiver(*SpoolWriter::create(dir.path() / "f.spool", header, 4096));
  receiver.setReceiveFormat(ReceiveFormat{8000, 101});
  const UdpEndpoint sender = endpoint("192.0.2.10", 4000);
  testing::RtpFields event;
  event.payload_type = 101;
  event.marker = true;
  EXPECT_EQ(receiver.onRtpDatagram(makeRtp(event, bytesOf({1, 0, 0, 160})), sender, 1),
            StreamReceiver::Outcome::Accepted);
  EXPECT_EQ(receiver.stats().dtmf_events, 1U);
}

}  // namespace
}  // namespace siprecd::media
