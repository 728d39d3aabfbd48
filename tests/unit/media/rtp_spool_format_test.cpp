#include "media/rtp_spool_format.hpp"

#include <string_view>

#include <gtest/gtest.h>

#include "media_test_support.hpp"

namespace siprecd::media {
namespace {

using testing::bytesOf;

SpoolHeader sampleHeader() {
  SpoolHeader header;
  header.recording_id = "rec-1";
  header.stream_index = 1;
  header.label = "callee";
  header.codec_name = "PCMA";
  header.clock_rate = 8000;
  header.payload_type = 8;
  header.telephone_event_pt = 101;
  return header;
}

std::vector<std::byte> encodeRecord(const SpoolRecord& record) {
  std::vector<std::byte> out(spoolRecordBytes(record.payload.size()));
  EXPECT_EQ(encodeSpoolRecord(record, out), out.size());
  return out;
}

TEST(SpoolCrc32, MatchesIeeeCheckValue) {
  const std::string_view text = "123456789";
  const auto bytes = std::as_bytes(std::span(text.data(), text.size()));
  EXPECT_EQ(crc32(bytes), 0xCBF43926U);
  EXPECT_EQ(crc32(bytes.subspan(4), crc32(bytes.first(4))), 0xCBF43926U);
  EXPECT_EQ(crc32({}), 0U);
}

// The bit-at-a-time definition of the reflected CRC-32, against which the table-driven
// implementation must agree on every length, alignment and starting value: spools written
// by any version of siprecd must keep verifying.
uint32_t referenceCrc32(std::span<const std::byte> bytes, uint32_t crc) {
  crc = ~crc;
  for (const std::byte byte : bytes) {
    crc ^= static_cast<uint8_t>(byte);
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 1U) != 0 ? (crc >> 1) ^ 0xEDB88320U : crc >> 1;
    }
  }
  return ~crc;
}

TEST(SpoolCrc32, EqualsTheBitwiseDefinitionForEveryLengthAndOffset) {
  std::vector<std::byte> data(300);
  uint32_t state = 0x12345678U;
  for (auto& byte : data) {
    state = state * 1664525U + 1013904223U;
    byte = static_cast<std::byte>(state >> 24);
  }
  const std::span<const std::byte> all(data);
  for (std::size_t offset = 0; offset < 9; ++offset) {
    for (std::size_t length = 0; length + offset <= all.size(); length += 1 + length / 16) {
      const auto part = all.subspan(offset, length);
      ASSERT_EQ(crc32(part), referenceCrc32(part, 0)) << offset << "+" << length;
      ASSERT_EQ(crc32(part, 0xDEADBEEFU), referenceCrc32(part, 0xDEADBEEFU));
    }
  }
}

TEST(SpoolHeaderFormat, RoundTrips) {
  const auto encoded = encodeSpoolHeader(sampleHeader());
  ASSERT_TRUE(encoded);
  const auto decoded = decodeSpoolHeader(*encoded);
  ASSERT_EQ(decoded.status, SpoolDecodeStatus::Ok) << decoded.error;
  EXPECT_EQ(decoded.bytes, encoded->size());
  EXPECT_EQ(*decoded.value, sampleHeader());
}

TEST(SpoolHeaderFormat, RoundTripsWithoutTelephoneEvent) {
  SpoolHeader header = sampleHeader();
  header.telephone_event_pt.reset();
  header.label.clear();
  const auto encoded = encodeSpoolHeader(header);
  ASSERT_TRUE(encoded);
  const auto decoded = decodeSpoolHeader(*encoded);
  ASSERT_EQ(decoded.status, SpoolDecodeStatus::Ok);
  EXPECT_EQ(*decoded.value, header);
}

TEST(SpoolHeaderFormat, RejectsOverlongStringAndBadPayloadType) {
  SpoolHeader header = sampleHeader();
  header.label.assign(70000, 'x');
  EXPECT_FALSE(encodeSpoolHeader(header));
  header = sampleHeader();
  header.payload_type = 128;
  EXPECT_FALSE(encodeSpoolHeader(header));
}

TEST(SpoolHeaderFormat, PrefixIsIncompleteAndFlippedByteIsCorrupt) {
  const auto encoded = *encodeSpoolHeader(sampleHeader());
  for (std::size_t size = 0; size < encoded.size(); ++size) {
    EXPECT_EQ(decodeSpoolHeader(std::span(encoded).first(size)).status,
              SpoolDecodeStatus::Incomplete)
        << size;
  }
  for (std::size_t at = 0; at < encoded.size(); ++at) {
    auto damaged = encoded;
    damaged[at] ^= std::byte{0x01};
    EXPECT_NE(decodeSpoolHeader(damaged).status, SpoolDecodeStatus::Ok) << at;
  }
}

TEST(SpoolHeaderFormat, RejectsOtherMagicAndVersion) {
  auto encoded = *encodeSpoolHeader(sampleHeader());
  auto other_magic = encoded;
  other_magic[0] = std::byte{'X'};
  EXPECT_EQ(decodeSpoolHeader(other_magic).status, SpoolDecodeStatus::Corrupt);
  EXPECT_EQ(decodeSpoolHeader(std::span(other_magic).first(3)).status, SpoolDecodeStatus::Corrupt);
  auto other_version = encoded;
  other_version[9] = std::byte{2};
  const auto decoded = decodeSpoolHeader(other_version);
  EXPECT_EQ(decoded.status, SpoolDecodeStatus::Corrupt);
  EXPECT_NE(std::string_view(decoded.error).find("version"), std::string_view::npos);
}

TEST(SpoolRecordFormat, RoundTripsEveryField) {
  const auto payload = bytesOf({0xFF, 0x00, 0x7F});
  SpoolRecord record;
  record.arrival_epoch_us = 1'700'000'000'123'456;
  record.seq = SeqNum(65535);
  record.timestamp = RtpTimestamp(0xFFFFFFF0);
  record.ssrc = Ssrc(0xCAFEBABE);
  record.payload_type = 101;
  record.marker = true;
  record.payload = payload;
  const auto encoded = encodeRecord(record);
  ASSERT_EQ(encoded.size(), 24U + 3U + 4U);
  const auto decoded = decodeSpoolRecord(encoded);
  ASSERT_EQ(decoded.status, SpoolDecodeStatus::Ok);
  const SpoolRecord& back = *decoded.value;
  EXPECT_EQ(back.kind, SpoolRecordKind::Rtp);
  EXPECT_EQ(back.arrival_epoch_us, record.arrival_epoch_us);
  EXPECT_EQ(back.seq, record.seq);
  EXPECT_EQ(back.timestamp, record.timestamp);
  EXPECT_EQ(back.ssrc, record.ssrc);
  EXPECT_EQ(back.payload_type, 101);
  EXPECT_TRUE(back.marker);
  EXPECT_TRUE(std::equal(back.payload.begin(), back.payload.end(), payload.begin()));
}

TEST(SpoolRecordFormat, DetectsEveryFlippedBit) {
  const auto payload = bytesOf({1, 2, 3, 4});
  SpoolRecord record;
  record.payload = payload;
  const auto encoded = encodeRecord(record);
  for (std::size_t at = 0; at < encoded.size(); ++at) {
    for (int bit = 0; bit < 8; ++bit) {
      auto damaged = encoded;
      damaged[at] ^= static_cast<std::byte>(1 << bit);
      EXPECT_NE(decodeSpoolRecord(damaged).status, SpoolDecodeStatus::Ok) << at << ":" << bit;
    }
  }
}

TEST(SpoolRecordFormat, ZeroFilledTailIsCorrupt) {
  const std::vector<std::byte> zeros(64);
  EXPECT_EQ(decodeSpoolRecord(zeros).status, SpoolDecodeStatus::Corrupt);
}

TEST(SpoolParser, WalksHeaderAndRecordsAndReportsTornTail) {
  auto bytes = *encodeSpoolHeader(sampleHeader());
  const auto payload = bytesOf({1, 2});
  for (uint16_t seq = 0; seq < 3; ++seq) {
    SpoolRecord record;
    record.seq = SeqNum(seq);
    record.payload = payload;
    const auto encoded = encodeRecord(record);
    bytes.insert(bytes.end(), encoded.begin(), encoded.end());
  }
  const std::size_t whole = bytes.size();
  bytes.resize(whole - 1);
  SpoolParser parser(bytes);
  ASSERT_TRUE(parser.header());
  EXPECT_EQ(parser.next()->seq, SeqNum(0));
  EXPECT_EQ(parser.next()->seq, SeqNum(1));
  EXPECT_FALSE(parser.next());
  EXPECT_EQ(parser.endStatus(), SpoolDecodeStatus::Incomplete);
  EXPECT_EQ(parser.validBytes(), whole - spoolRecordBytes(2));
  EXPECT_FALSE(parser.next());
}

TEST(SpoolParser, SkipsRecordsOfUnknownKindsAndReadsSenderReports) {
  auto bytes = *encodeSpoolHeader(sampleHeader());
  const auto payload = bytesOf({1, 2});
  const auto ntp = bytesOf({0x83, 0xAA, 0x7E, 0x80, 0x80, 0, 0, 0});
  auto append = [&bytes](const SpoolRecord& record) {
    const auto encoded = encodeRecord(record);
    bytes.insert(bytes.end(), encoded.begin(), encoded.end());
  };
  SpoolRecord rtp;
  rtp.seq = SeqNum(1);
  rtp.payload = payload;
  append(rtp);
  SpoolRecord future;
  future.kind = static_cast<SpoolRecordKind>(77);
  future.payload = payload;
  append(future);
  SpoolRecord report;
  report.kind = SpoolRecordKind::SenderReport;
  report.timestamp = RtpTimestamp(0xA0B0C0D0);
  report.ssrc = Ssrc(9);
  report.payload = ntp;
  append(report);
  rtp.seq = SeqNum(2);
  append(rtp);

  SpoolParser parser(bytes);
  ASSERT_TRUE(parser.header());
  EXPECT_EQ(parser.next()->seq, SeqNum(1));
  const auto sender_report = parser.next();
  ASSERT_TRUE(sender_report);
  EXPECT_EQ(sender_report->kind, SpoolRecordKind::SenderReport);
  EXPECT_EQ(sender_report->timestamp, RtpTimestamp(0xA0B0C0D0));
  EXPECT_EQ(spoolSenderReportNtp(*sender_report), 0x83AA7E8080000000ULL);
  EXPECT_EQ(parser.next()->seq, SeqNum(2));
  EXPECT_FALSE(parser.next());
  EXPECT_EQ(parser.endStatus(), SpoolDecodeStatus::Ok);
  EXPECT_EQ(parser.validBytes(), bytes.size());

  // decodeSpoolRecord itself still hands the unknown kind over, for readers that skip.
  const auto header_bytes = encodeSpoolHeader(sampleHeader())->size();
  const auto decoded =
      decodeSpoolRecord(std::span(bytes).subspan(header_bytes + spoolRecordBytes(2)));
  ASSERT_EQ(decoded.status, SpoolDecodeStatus::Ok);
  EXPECT_FALSE(isKnownSpoolRecordKind(decoded.value->kind));
  EXPECT_FALSE(spoolSenderReportNtp(*decoded.value));
}

}  // namespace
}  // namespace siprecd::media
