#include "recording/spool_reader.hpp"

#include <fstream>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "recording_test_support.hpp"

namespace siprecd::recording {
namespace {

using testing::SpoolBuilder;
using testing::TempDir;

std::vector<char> fileBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<char>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void writeBytes(const std::filesystem::path& path, const std::vector<char>& bytes,
                std::size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(size));
}

std::vector<std::byte> payloadFor(uint16_t seq, std::size_t size) {
  std::vector<std::byte> payload(size);
  for (std::size_t i = 0; i < size; ++i) {
    payload[i] = static_cast<std::byte>(seq * 31 + i);
  }
  return payload;
}

TEST(SpoolReader, ReadsBackWhatTheWriterWrote) {
  TempDir dir;
  const auto path = dir.path() / "s.spool";
  SpoolBuilder builder(path, "PCMA", 8);
  for (uint16_t seq = 0; seq < 50; ++seq) {
    builder.add(1000 + seq, seq, seq * 160U, 77, seq % 5 == 0 ? 101 : 8, payloadFor(seq, 160));
  }
  builder.finish();
  const auto contents = readSpool(path);
  ASSERT_TRUE(contents) << contents.error().message;
  ASSERT_TRUE(contents->header);
  EXPECT_EQ(contents->header->codec_name, "PCMA");
  EXPECT_EQ(contents->header->payload_type, 8);
  EXPECT_EQ(contents->end, SpoolEnd::Clean);
  ASSERT_EQ(contents->records.size(), 50U);
  for (uint16_t seq = 0; seq < 50; ++seq) {
    const auto& record = contents->records[seq];
    EXPECT_EQ(record.seq, media::SeqNum(seq));
    EXPECT_EQ(record.arrival_epoch_us, 1000 + seq);
    EXPECT_EQ(record.payload_type, seq % 5 == 0 ? 101 : 8);
    EXPECT_EQ(record.payload, payloadFor(seq, 160));
  }
  EXPECT_EQ(contents->valid_bytes, std::filesystem::file_size(path));
}

TEST(SpoolReader, ReturnsSenderReportAndUnknownRecordKindsForCallersToSkip) {
  TempDir dir;
  const auto path = dir.path() / "s.spool";
  SpoolBuilder builder(path, "PCMU", 0);
  builder.add(1000, 1, 160, 77, 0, payloadFor(1, 160));
  builder.addSenderReport(1500, 77, 200, 0x0102030405060708ULL);
  builder.add(2000, 2, 320, 77, 0, payloadFor(2, 160));
  builder.finish();
  const auto contents = readSpool(path);
  ASSERT_TRUE(contents) << contents.error().message;
  ASSERT_EQ(contents->records.size(), 3U);
  EXPECT_EQ(contents->records[0].kind, media::SpoolRecordKind::Rtp);
  const auto& report = contents->records[1];
  EXPECT_EQ(report.kind, media::SpoolRecordKind::SenderReport);
  EXPECT_EQ(report.timestamp, media::RtpTimestamp(200));
  EXPECT_EQ(report.ssrc, media::Ssrc(77));
  const std::vector<std::byte> ntp{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4},
                                   std::byte{5}, std::byte{6}, std::byte{7}, std::byte{8}};
  EXPECT_EQ(report.payload, ntp);
  EXPECT_EQ(contents->records[2].kind, media::SpoolRecordKind::Rtp);
  EXPECT_EQ(contents->end, SpoolEnd::Clean);
}

TEST(SpoolReader, ReadsMaximalRecordsAcrossBufferRefills) {
  TempDir dir;
  const auto path = dir.path() / "s.spool";
  SpoolBuilder builder(path, "PCMU", 0);
  for (uint16_t seq = 0; seq < 5; ++seq) {
    builder.add(seq, seq, 0, 1, 0, payloadFor(seq, media::kSpoolMaxPayloadBytes - seq));
  }
  builder.finish();
  const auto contents = readSpool(path);
  ASSERT_TRUE(contents);
  ASSERT_EQ(contents->records.size(), 5U);
  EXPECT_EQ(contents->records[4].payload, payloadFor(4, media::kSpoolMaxPayloadBytes - 4));
}

TEST(SpoolReader, PayloadOffsetPointsIntoTheFile) {
  TempDir dir;
  const auto path = dir.path() / "s.spool";
  SpoolBuilder builder(path, "PCMU", 0);
  builder.add(1, 1, 0, 1, 0, payloadFor(1, 20)).add(2, 2, 0, 1, 0, payloadFor(2, 30));
  builder.finish();
  auto reader = SpoolReader::open(path);
  ASSERT_TRUE(reader);
  ASSERT_TRUE(reader->next());
  ASSERT_TRUE(reader->next());
  std::vector<std::byte> read_back(30);
  const int fd = ::open(path.c_str(), O_RDONLY);
  ASSERT_EQ(::pread(fd, read_back.data(), 30, static_cast<off_t>(reader->lastPayloadOffset())), 30);
  ::close(fd);
  EXPECT_EQ(read_back, payloadFor(2, 30));
  EXPECT_FALSE(reader->next());
  EXPECT_EQ(reader->end(), SpoolEnd::Clean);
}

TEST(SpoolReader, EveryTruncationGivesAPrefixAndNeverFails) {
  TempDir dir;
  const auto full_path = dir.path() / "full.spool";
  SpoolBuilder builder(full_path, "PCMU", 0);
  for (uint16_t seq = 0; seq < 4; ++seq) {
    builder.add(seq, seq, seq * 8U, 1, 0, payloadFor(seq, 8));
  }
  builder.finish();
  const auto whole = fileBytes(full_path);
  const std::size_t record_bytes = media::spoolRecordBytes(8);
  const std::size_t header_bytes = whole.size() - 4 * record_bytes;
  const auto cut_path = dir.path() / "cut.spool";
  for (std::size_t size = 0; size <= whole.size(); ++size) {
    writeBytes(cut_path, whole, size);
    const auto contents = readSpool(cut_path);
    ASSERT_TRUE(contents) << size << ": " << contents.error().message;
    if (size < header_bytes) {
      EXPECT_FALSE(contents->header) << size;
      EXPECT_TRUE(contents->records.empty());
      EXPECT_EQ(contents->end, size == 0 ? SpoolEnd::Clean : SpoolEnd::TornTail) << size;
      continue;
    }
    ASSERT_TRUE(contents->header) << size;
    const std::size_t complete = (size - header_bytes) / record_bytes;
    ASSERT_EQ(contents->records.size(), complete) << size;
    for (std::size_t i = 0; i < complete; ++i) {
      EXPECT_EQ(contents->records[i].payload, payloadFor(static_cast<uint16_t>(i), 8));
    }
    const bool at_boundary = (size - header_bytes) % record_bytes == 0;
    EXPECT_EQ(contents->end, at_boundary ? SpoolEnd::Clean : SpoolEnd::TornTail) << size;
    EXPECT_EQ(contents->valid_bytes, header_bytes + complete * record_bytes);
  }
}

TEST(SpoolReader, StopsAtCorruptRecord) {
  TempDir dir;
  const auto path = dir.path() / "s.spool";
  SpoolBuilder builder(path, "PCMU", 0);
  for (uint16_t seq = 0; seq < 3; ++seq) {
    builder.add(seq, seq, 0, 1, 0, payloadFor(seq, 8));
  }
  builder.finish();
  auto bytes = fileBytes(path);
  bytes[bytes.size() - 2 * media::spoolRecordBytes(8) + 30] ^= 0x40;  // inside record 1
  writeBytes(path, bytes, bytes.size());
  const auto contents = readSpool(path);
  ASSERT_TRUE(contents);
  EXPECT_EQ(contents->records.size(), 1U);
  EXPECT_EQ(contents->end, SpoolEnd::Corrupt);
}

TEST(SpoolReader, FailsOnMissingFileOrForeignContent) {
  TempDir dir;
  const auto missing = readSpool(dir.path() / "nope.spool");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("nope.spool"), std::string::npos);
  const auto foreign = dir.path() / "foreign.spool";
  writeBytes(foreign, std::vector<char>(64, 'R'), 64);
  EXPECT_FALSE(readSpool(foreign));
}

TEST(SpoolReader, OpenIfPresentTellsMissingFromUnreadable) {
  TempDir dir;
  const auto missing = SpoolReader::openIfPresent(dir.path() / "nope.spool");
  ASSERT_TRUE(missing) << missing.error().message;
  EXPECT_FALSE(*missing);
  const auto missing_directory = SpoolReader::openIfPresent(dir.path() / "no-dir" / "s.spool");
  ASSERT_TRUE(missing_directory);
  EXPECT_FALSE(*missing_directory);

  const auto path = dir.path() / "s.spool";
  SpoolBuilder(path, "PCMU", 0).add(1000, 1, 160, 7, 0, payloadFor(1, 160)).finish();
  auto present = SpoolReader::openIfPresent(path);
  ASSERT_TRUE(present);
  ASSERT_TRUE(*present);
  ASSERT_TRUE((*present)->header());
  EXPECT_EQ((*present)->header()->codec_name, "PCMU");
  const auto record = (*present)->next();
  ASSERT_TRUE(record);
  EXPECT_EQ(record->seq, media::SeqNum(1));

  const auto foreign = dir.path() / "foreign.spool";
  writeBytes(foreign, std::vector<char>(64, 'R'), 64);
  EXPECT_FALSE(SpoolReader::openIfPresent(foreign));
  const auto under_file = SpoolReader::openIfPresent(path / "child.spool");
  ASSERT_FALSE(under_file);  // ENOTDIR is an error, not "missing"
  EXPECT_NE(under_file.error().message.find("child.spool"), std::string::npos);
}

}  // namespace
}  // namespace siprecd::recording
