#include "media/spool_writer.hpp"

#include <csignal>
#include <filesystem>

#include <gtest/gtest.h>
#include <sys/resource.h>

#include "media_test_support.hpp"

namespace siprecd::media {
namespace {

using testing::readFile;
using testing::TempDir;

SpoolHeader header() {
  SpoolHeader spool_header;
  spool_header.recording_id = "rec";
  spool_header.codec_name = "PCMU";
  spool_header.clock_rate = 8000;
  return spool_header;
}

SpoolRecord recordWith(uint16_t seq, std::span<const std::byte> payload) {
  SpoolRecord record;
  record.arrival_epoch_us = 1'000'000 + seq * 20'000;
  record.seq = SeqNum(seq);
  record.timestamp = RtpTimestamp(seq * 160U);
  record.payload = payload;
  return record;
}

std::vector<SpoolRecord> parseAll(SpoolParser& parser) {
  std::vector<SpoolRecord> records;
  while (auto record = parser.next()) {
    records.push_back(*record);
  }
  return records;
}

TEST(SpoolWriter, WritesHeaderAtCreation) {
  TempDir dir;
  const auto path = dir.path() / "s.spool";
  auto writer = SpoolWriter::create(path, header(), 4096);
  ASSERT_TRUE(writer) << writer.error().message;
  const auto bytes = readFile(path);
  SpoolParser parser(bytes);
  ASSERT_TRUE(parser.header());
  EXPECT_EQ(*parser.header(), header());
  EXPECT_FALSE(parser.next());
  EXPECT_EQ(parser.endStatus(), SpoolDecodeStatus::Ok);
}

TEST(SpoolWriter, RoundTripsRecordsThroughBufferAndFlushes) {
  TempDir dir;
  const auto path = dir.path() / "s.spool";
  auto writer = SpoolWriter::create(path, header(), 4096);
  ASSERT_TRUE(writer);
  std::vector<std::byte> payload(160, std::byte{0x55});
  for (uint16_t seq = 0; seq < 100; ++seq) {  // ~19 KB: several buffer write-outs
    payload[0] = static_cast<std::byte>(seq);
    writer->append(recordWith(seq, payload));
  }
  ASSERT_TRUE(writer->finish());
  EXPECT_EQ(writer->stats().records_written, 100U);
  EXPECT_EQ(writer->stats().write_errors, 0U);
  const auto bytes = readFile(path);
  EXPECT_EQ(writer->stats().bytes_written, bytes.size());
  SpoolParser parser(bytes);
  const auto records = parseAll(parser);
  ASSERT_EQ(records.size(), 100U);
  EXPECT_EQ(parser.endStatus(), SpoolDecodeStatus::Ok);
  for (uint16_t seq = 0; seq < 100; ++seq) {
    EXPECT_EQ(records[seq].seq, SeqNum(seq));
    EXPECT_EQ(records[seq].timestamp, RtpTimestamp(seq * 160U));
    EXPECT_EQ(records[seq].arrival_epoch_us, 1'000'000 + seq * 20'000);
    ASSERT_EQ(records[seq].payload.size(), 160U);
    EXPECT_EQ(records[seq].payload[0], static_cast<std::byte>(seq));
  }
}

TEST(SpoolWriter, RecordLargerThanBufferIsWrittenDirectly) {
  TempDir dir;
  const auto path = dir.path() / "s.spool";
  auto writer = SpoolWriter::create(path, header(), 4096);
  ASSERT_TRUE(writer);
  const std::vector<std::byte> small(10, std::byte{1});
  std::vector<std::byte> large(10000);
  for (std::size_t i = 0; i < large.size(); ++i) {
    large[i] = static_cast<std::byte>(i * 7);
  }
  writer->append(recordWith(1, small));
  writer->append(recordWith(2, large));
  writer->append(recordWith(3, small));
  ASSERT_TRUE(writer->finish());
  const auto bytes = readFile(path);
  SpoolParser parser(bytes);
  const auto records = parseAll(parser);
  ASSERT_EQ(records.size(), 3U);
  EXPECT_EQ(records[1].seq, SeqNum(2));
  EXPECT_TRUE(
      std::equal(records[1].payload.begin(), records[1].payload.end(), large.begin(), large.end()));
  EXPECT_EQ(records[2].seq, SeqNum(3));
}

TEST(SpoolWriter, FlushMakesBufferedRecordsVisible) {
  TempDir dir;
  const auto path = dir.path() / "s.spool";
  auto writer = SpoolWriter::create(path, header(), 64 * 1024);
  ASSERT_TRUE(writer);
  const std::vector<std::byte> payload(160);
  writer->append(recordWith(1, payload));
  {
    const auto bytes = readFile(path);
    SpoolParser parser(bytes);
    EXPECT_FALSE(parser.next());
  }
  writer->flush();
  const auto bytes = readFile(path);
  SpoolParser parser(bytes);
  EXPECT_TRUE(parser.next());
}

TEST(SpoolWriter, EveryTruncationLeavesAReadablePrefix) {
  TempDir dir;
  const auto path = dir.path() / "s.spool";
  auto writer = SpoolWriter::create(path, header(), 4096);
  ASSERT_TRUE(writer);
  const std::vector<std::byte> payload(5, std::byte{9});
  for (uint16_t seq = 0; seq < 6; ++seq) {
    writer->append(recordWith(seq, payload));
  }
  ASSERT_TRUE(writer->finish());
  const auto whole = readFile(path);
  const std::size_t header_bytes = whole.size() - 6 * spoolRecordBytes(payload.size());
  for (std::size_t size = 0; size <= whole.size(); ++size) {
    const auto bytes = std::span(whole).first(size);
    SpoolParser parser(bytes);
    if (size < header_bytes) {
      EXPECT_FALSE(parser.header()) << size;
      EXPECT_EQ(parser.headerStatus(), SpoolDecodeStatus::Incomplete) << size;
      continue;
    }
    const auto records = parseAll(parser);
    const std::size_t expected = (size - header_bytes) / spoolRecordBytes(payload.size());
    ASSERT_EQ(records.size(), expected) << size;
    for (std::size_t i = 0; i < records.size(); ++i) {
      EXPECT_EQ(records[i].seq, SeqNum(static_cast<uint16_t>(i)));
    }
    const bool at_boundary = (size - header_bytes) % spoolRecordBytes(payload.size()) == 0;
    EXPECT_EQ(parser.endStatus(),
              at_boundary ? SpoolDecodeStatus::Ok : SpoolDecodeStatus::Incomplete)
        << size;
  }
}

TEST(SpoolWriter, RefusesExistingFileAndMissingDirectory) {
  TempDir dir;
  const auto path = dir.path() / "s.spool";
  ASSERT_TRUE(SpoolWriter::create(path, header(), 4096));
  const auto again = SpoolWriter::create(path, header(), 4096);
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find(path.string()), std::string::npos);
  EXPECT_FALSE(SpoolWriter::create(dir.path() / "missing" / "s.spool", header(), 4096));
}

/// Lowers the soft file-size limit so that writes fail with EFBIG, as on a full disk.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    previous_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    getrlimit(RLIMIT_FSIZE, &previous_);
    rlimit limited = previous_;
    limited.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &limited);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &previous_);
    std::signal(SIGXFSZ, previous_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  rlimit previous_{};
  void (*previous_handler_)(int) = nullptr;
};

TEST(SpoolWriter, WriteErrorsAreCountedAndLeaveWholeRecords) {
  TempDir dir;
  const auto path = dir.path() / "s.spool";
  auto writer = SpoolWriter::create(path, header(), 4096);
  ASSERT_TRUE(writer);
  const std::vector<std::byte> payload(160, std::byte{0x11});
  {
    FileSizeLimit limit(3000);
    for (uint16_t seq = 0; seq < 200; ++seq) {
      writer->append(recordWith(seq, payload));
    }
    writer->flush();
  }
  EXPECT_GT(writer->stats().write_errors, 0U);
  EXPECT_GT(writer->stats().records_dropped, 0U);
  EXPECT_EQ(writer->stats().records_written + writer->stats().records_dropped, 200U);
  // Space is back: later records are appended after the last whole one.
  writer->append(recordWith(1000, payload));
  const auto finished = writer->finish();
  EXPECT_FALSE(finished);  // reports the earlier loss
  const auto bytes = readFile(path);
  SpoolParser parser(bytes);
  const auto records = parseAll(parser);
  EXPECT_EQ(parser.endStatus(), SpoolDecodeStatus::Ok);
  ASSERT_EQ(records.size(), writer->stats().records_written);
  EXPECT_EQ(records.back().seq, SeqNum(1000));
}

}  // namespace
}  // namespace siprecd::media
