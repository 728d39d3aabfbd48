#include "media/spool_writer.hpp"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <future>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include "media/open_file_limit.hpp"
#include "media/spool_closer.hpp"
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

TEST(SpoolWriter, CreateTouchesNoFileAndFinishWithoutRecordsCreatesNothing) {
  TempDir dir;
  const auto path = dir.path() / "session" / "s.spool";
  auto writer = SpoolWriter::create(path, header(), 4096);
  ASSERT_TRUE(writer) << writer.error().message;
  EXPECT_FALSE(std::filesystem::exists(path.parent_path()));
  writer->flush();
  EXPECT_FALSE(std::filesystem::exists(path.parent_path()));
  EXPECT_FALSE(writer->finished());
  const auto finished = writer->finish();
  EXPECT_TRUE(finished) << finished.error().message;
  EXPECT_TRUE(writer->finished());
  EXPECT_FALSE(std::filesystem::exists(path.parent_path()));
  EXPECT_EQ(writer->stats().bytes_written, 0U);
  EXPECT_EQ(writer->stats().write_errors, 0U);
}

TEST(SpoolWriter, FirstFlushCreatesDirectoryAndFileWithHeader) {
  TempDir dir;
  const auto path = dir.path() / "session" / "s.spool";
  auto writer = SpoolWriter::create(path, header(), 4096);
  ASSERT_TRUE(writer);
  const std::vector<std::byte> payload(160, std::byte{0x42});
  writer->append(recordWith(7, payload));
  EXPECT_FALSE(std::filesystem::exists(path));
  writer->flush();
  ASSERT_TRUE(std::filesystem::is_directory(path.parent_path()));
  ASSERT_TRUE(std::filesystem::is_regular_file(path));
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                std::filesystem::perms::group_read);
  const auto bytes = readFile(path);
  EXPECT_EQ(writer->stats().bytes_written, bytes.size());
  SpoolParser parser(bytes);
  ASSERT_TRUE(parser.header());
  EXPECT_EQ(*parser.header(), header());
  const auto records = parseAll(parser);
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].seq, SeqNum(7));
  EXPECT_EQ(parser.endStatus(), SpoolDecodeStatus::Ok);
  EXPECT_TRUE(writer->finish());
}

TEST(SpoolWriter, LargeDirectRecordCreatesTheFile) {
  TempDir dir;
  const auto path = dir.path() / "s.spool";
  auto writer = SpoolWriter::create(path, header(), 4096);
  ASSERT_TRUE(writer);
  const std::vector<std::byte> large(10000, std::byte{3});
  writer->append(recordWith(1, large));
  const auto bytes = readFile(path);
  SpoolParser parser(bytes);
  ASSERT_TRUE(parser.header());
  const auto records = parseAll(parser);
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].payload.size(), large.size());
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
  EXPECT_FALSE(std::filesystem::exists(path));
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

TEST(SpoolWriter, CreateFailsOnlyOnAnInvalidHeader) {
  TempDir dir;
  SpoolHeader bad = header();
  bad.label = std::string(kSpoolMaxStringBytes + 1, 'x');
  const auto path = dir.path() / "s.spool";
  const auto refused = SpoolWriter::create(path, bad, 4096);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find(path.string()), std::string::npos);
  // A path whose directory is missing (or whose file exists) is accepted: files come later.
  EXPECT_TRUE(SpoolWriter::create(dir.path() / "a" / "b" / "s.spool", header(), 4096));
}

TEST(SpoolWriter, NeverOverwritesAnExistingFile) {
  TempDir dir;
  const auto path = dir.path() / "s.spool";
  auto first = SpoolWriter::create(path, header(), 4096);
  auto second = SpoolWriter::create(path, header(), 4096);
  ASSERT_TRUE(first);
  ASSERT_TRUE(second);
  const std::vector<std::byte> payload(20, std::byte{1});
  first->append(recordWith(1, payload));
  first->flush();
  const auto before = readFile(path);
  second->append(recordWith(2, payload));
  second->flush();
  EXPECT_EQ(second->stats().write_errors, 1U);
  EXPECT_EQ(second->stats().records_dropped, 1U);
  EXPECT_EQ(readFile(path), before);
  const auto finished = second->finish();
  ASSERT_FALSE(finished);
  EXPECT_NE(finished.error().message.find(path.string()), std::string::npos);
  EXPECT_TRUE(first->finish());
}

TEST(SpoolWriter, CreationFailureDropsRecordsAndALaterFlushRetries) {
  TempDir dir;
  const auto obstacle = dir.path() / "session";
  { std::ofstream(obstacle) << "a regular file where the directory should be"; }
  const auto path = obstacle / "s.spool";
  auto writer = SpoolWriter::create(path, header(), 4096);
  ASSERT_TRUE(writer);
  const std::vector<std::byte> payload(160, std::byte{0x11});
  writer->append(recordWith(1, payload));
  writer->append(recordWith(2, payload));
  writer->flush();
  EXPECT_EQ(writer->stats().write_errors, 1U);
  EXPECT_EQ(writer->stats().records_dropped, 2U);
  EXPECT_EQ(writer->stats().records_written, 0U);
  EXPECT_EQ(writer->stats().bytes_written, 0U);

  std::filesystem::remove(obstacle);
  writer->append(recordWith(3, payload));
  writer->flush();
  EXPECT_EQ(writer->stats().write_errors, 1U);
  EXPECT_EQ(writer->stats().records_written, 1U);
  EXPECT_FALSE(writer->finish());  // reports the earlier loss
  const auto bytes = readFile(path);
  SpoolParser parser(bytes);
  ASSERT_TRUE(parser.header());
  const auto records = parseAll(parser);
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].seq, SeqNum(3));
  EXPECT_EQ(parser.endStatus(), SpoolDecodeStatus::Ok);
}

TEST(SpoolWriter, DestructionWritesBufferedRecordsOnlyWhenThereAreSome) {
  TempDir dir;
  const auto empty_path = dir.path() / "empty.spool";
  const auto full_path = dir.path() / "full.spool";
  {
    auto empty = SpoolWriter::create(empty_path, header(), 4096);
    auto full = SpoolWriter::create(full_path, header(), 4096);
    ASSERT_TRUE(empty);
    ASSERT_TRUE(full);
    full->append(recordWith(5, std::vector<std::byte>(10)));
    SpoolWriter moved = std::move(*full);  // the moved-from writer must not write
    EXPECT_TRUE(full->finished());
    EXPECT_FALSE(moved.finished());
  }
  EXPECT_FALSE(std::filesystem::exists(empty_path));
  const auto bytes = readFile(full_path);
  SpoolParser parser(bytes);
  const auto records = parseAll(parser);
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].seq, SeqNum(5));
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

using std::chrono::milliseconds;
using std::chrono::steady_clock;

SpoolWriterSettings everySecond() {
  SpoolWriterSettings settings;
  settings.buffer_bytes = 4096;
  settings.flush_interval = milliseconds(1000);
  return settings;
}

TEST(SpoolWriterPeriodicFlush, FlushesOncePerIntervalAndHandsOutASync) {
  TempDir dir;
  const auto path = dir.path() / "session" / "p.spool";
  auto writer = SpoolWriter::create(path, header(), everySecond());
  ASSERT_TRUE(writer);
  const std::vector<std::byte> payload(160, std::byte{0x42});
  const steady_clock::time_point t0{};
  EXPECT_FALSE(writer->periodicFlush(t0));  // starts the period
  writer->append(recordWith(1, payload));
  EXPECT_FALSE(writer->periodicFlush(t0 + milliseconds(999)));
  EXPECT_FALSE(std::filesystem::exists(path));
  auto sync = writer->periodicFlush(t0 + milliseconds(1000));
  ASSERT_TRUE(std::filesystem::exists(path));  // flushed
  EXPECT_EQ(writer->stats().records_written, 1U);
  ASSERT_TRUE(sync);
  // While that sync is pending no other is handed out, even with new data.
  writer->append(recordWith(2, payload));
  EXPECT_FALSE(writer->periodicFlush(t0 + milliseconds(2000)));
  EXPECT_EQ(writer->stats().records_written, 2U);
  sync->run();
  EXPECT_EQ(writer->stats().write_errors, 0U);
  // Data written since the last sync: the next period syncs again.
  auto next = writer->periodicFlush(t0 + milliseconds(3000));
  ASSERT_TRUE(next);
  next->run();
  // Nothing new: no sync.
  EXPECT_FALSE(writer->periodicFlush(t0 + milliseconds(4000)));
  EXPECT_TRUE(writer->finish());
  EXPECT_FALSE(writer->periodicFlush(t0 + milliseconds(5000)));
}

TEST(SpoolWriterPeriodicFlush, NoFileNoSync) {
  TempDir dir;
  auto writer = SpoolWriter::create(dir.path() / "n.spool", header(), everySecond());
  ASSERT_TRUE(writer);
  const steady_clock::time_point t0{};
  EXPECT_FALSE(writer->periodicFlush(t0));
  EXPECT_FALSE(writer->periodicFlush(t0 + milliseconds(1000)));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "n.spool"));
}

TEST(SpoolWriterPeriodicFlush, ADroppedSyncDoesNotBlockLaterOnes) {
  TempDir dir;
  auto writer = SpoolWriter::create(dir.path() / "d.spool", header(), everySecond());
  ASSERT_TRUE(writer);
  const std::vector<std::byte> payload(10, std::byte{1});
  const steady_clock::time_point t0{};
  EXPECT_FALSE(writer->periodicFlush(t0));
  writer->append(recordWith(1, payload));
  {
    auto dropped = writer->periodicFlush(t0 + milliseconds(1000));
    ASSERT_TRUE(dropped);
  }
  writer->append(recordWith(2, payload));
  EXPECT_TRUE(writer->periodicFlush(t0 + milliseconds(2000)));
}

TEST(SpoolWriterPeriodicFlush, SyncsRunOnTheCloserThread) {
  TempDir dir;
  auto writer = SpoolWriter::create(dir.path() / "c.spool", header(), everySecond());
  ASSERT_TRUE(writer);
  const std::vector<std::byte> payload(10, std::byte{1});
  const steady_clock::time_point t0{};
  EXPECT_FALSE(writer->periodicFlush(t0));
  writer->append(recordWith(1, payload));
  auto sync = writer->periodicFlush(t0 + milliseconds(1000));
  ASSERT_TRUE(sync);
  std::promise<SpoolWriterStats> closed;
  {
    SpoolCloser closer;
    closer.start();
    closer.submitSync(std::move(*sync));
    closer.submit(std::move(*writer), [&closed](const SpoolWriterStats& stats, Result<void> done) {
      EXPECT_TRUE(done);
      closed.set_value(stats);
    });
  }
  const SpoolWriterStats stats = closed.get_future().get();
  EXPECT_EQ(stats.write_errors, 0U);
  EXPECT_EQ(stats.records_written, 1U);
}

TEST(SpoolWriterPeriodicFlush, ACloserThatIsNotRunningDropsSyncs) {
  TempDir dir;
  auto writer = SpoolWriter::create(dir.path() / "s.spool", header(), everySecond());
  ASSERT_TRUE(writer);
  const std::vector<std::byte> payload(10, std::byte{1});
  const steady_clock::time_point t0{};
  EXPECT_FALSE(writer->periodicFlush(t0));
  writer->append(recordWith(1, payload));
  auto sync = writer->periodicFlush(t0 + milliseconds(1000));
  ASSERT_TRUE(sync);
  SpoolCloser stopped;
  stopped.submitSync(std::move(*sync));
  writer->append(recordWith(2, payload));
  EXPECT_TRUE(writer->periodicFlush(t0 + milliseconds(2000)));  // not left "in flight"
}

// The descriptor budget counts one descriptor per spool (MediaEngine::descriptorsPerStream):
// a sync waiting for the closer thread must not hold another.
TEST(SpoolWriterPeriodicFlush, AQueuedSyncHoldsNoDescriptorAndSkipsAClosedFile) {
  TempDir dir;
  auto writer = SpoolWriter::create(dir.path() / "f.spool", header(), everySecond());
  ASSERT_TRUE(writer);
  const std::vector<std::byte> payload(10, std::byte{1});
  const steady_clock::time_point t0{};
  const int64_t before = openDescriptorCount();
  ASSERT_GE(before, 0);
  EXPECT_FALSE(writer->periodicFlush(t0));
  writer->append(recordWith(1, payload));
  auto sync = writer->periodicFlush(t0 + milliseconds(1000));
  ASSERT_TRUE(sync);
  EXPECT_EQ(openDescriptorCount() - before, 1);  // the spool file alone
  ASSERT_TRUE(writer->finish());
  EXPECT_EQ(openDescriptorCount(), before);  // closed although a sync still refers to it
  sync->run();
  EXPECT_EQ(writer->stats().write_errors, 0U);
  EXPECT_EQ(openDescriptorCount(), before);
}

TEST(SpoolWriterPeriodicFlush, ABatchSyncsEveryFileOfAFileSystemWithoutDescriptors) {
  TempDir dir;
  std::vector<SpoolWriter> writers;
  for (const char* name : {"a.spool", "b.spool", "c.spool"}) {
    auto writer = SpoolWriter::create(dir.path() / "session" / name, header(), everySecond());
    ASSERT_TRUE(writer);
    writers.push_back(std::move(*writer));
  }
  const std::vector<std::byte> payload(10, std::byte{1});
  const steady_clock::time_point t0{};
  const int64_t before = openDescriptorCount();
  std::vector<SpoolSync> syncs;
  for (SpoolWriter& writer : writers) {
    EXPECT_FALSE(writer.periodicFlush(t0));
    writer.append(recordWith(1, payload));
    auto sync = writer.periodicFlush(t0 + milliseconds(1000));
    ASSERT_TRUE(sync);
    syncs.push_back(std::move(*sync));
  }
  EXPECT_EQ(openDescriptorCount() - before, 3);
  ASSERT_TRUE(writers[2].finish());  // one of them closes before the batch runs
  SpoolSync::runBatch(syncs);
  EXPECT_EQ(openDescriptorCount() - before, 2);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(writers[i].stats().write_errors, 0U);
    // Data and directory entry synced, nothing pending: no new sync without new data.
    EXPECT_FALSE(writers[i].periodicFlush(t0 + milliseconds(2000)));
    writers[i].append(recordWith(2, payload));
    EXPECT_TRUE(writers[i].periodicFlush(t0 + milliseconds(3000)));
    EXPECT_TRUE(writers[i].finish());
  }
  EXPECT_EQ(openDescriptorCount(), before);
}

TEST(SpoolWriterPeriodicFlush, SyncBatchesRunOnTheCloserThread) {
  TempDir dir;
  auto first = SpoolWriter::create(dir.path() / "1.spool", header(), everySecond());
  auto second = SpoolWriter::create(dir.path() / "2.spool", header(), everySecond());
  ASSERT_TRUE(first && second);
  const std::vector<std::byte> payload(10, std::byte{1});
  const steady_clock::time_point t0{};
  std::vector<SpoolSync> syncs;
  for (SpoolWriter* writer : {&*first, &*second}) {
    EXPECT_FALSE(writer->periodicFlush(t0));
    writer->append(recordWith(1, payload));
    auto sync = writer->periodicFlush(t0 + milliseconds(1000));
    ASSERT_TRUE(sync);
    syncs.push_back(std::move(*sync));
  }
  {
    SpoolCloser closer;
    closer.start();
    closer.submitSyncs(std::move(syncs));
  }  // stop() runs the queued batch
  for (SpoolWriter* writer : {&*first, &*second}) {
    writer->append(recordWith(2, payload));
    EXPECT_TRUE(writer->periodicFlush(t0 + milliseconds(2000)));  // the batch completed
    EXPECT_TRUE(writer->finish());
  }
}

TEST(SpoolWriterAdopt, WritesTheHeaderFirstIntoTheGivenFile) {
  TempDir dir;
  const auto path = dir.path() / "adopted.spool";
  UniqueFd file(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640));
  ASSERT_TRUE(file.valid());
  auto writer = SpoolWriter::adopt(std::move(file), path, header(), everySecond());
  ASSERT_TRUE(writer) << writer.error().message;
  const std::vector<std::byte> payload(3, std::byte{7});
  writer->append(recordWith(5, payload));
  ASSERT_TRUE(writer->finish());
  const auto bytes = readFile(path);
  SpoolParser parser(bytes);
  ASSERT_TRUE(parser.header());
  EXPECT_EQ(*parser.header(), header());
  const auto records = parseAll(parser);
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].seq, SeqNum(5));
  EXPECT_FALSE(SpoolWriter::adopt(UniqueFd(), path, header(), everySecond()));
}

TEST(SpoolWriterAdopt, DiskFullIsCountedNeverFatal) {
  UniqueFd full(::open("/dev/full", O_WRONLY | O_CLOEXEC));
  ASSERT_TRUE(full.valid());
  auto writer = SpoolWriter::adopt(std::move(full), "/dev/full", header(), everySecond());
  ASSERT_TRUE(writer);
  const std::vector<std::byte> payload(160, std::byte{1});
  for (uint16_t seq = 0; seq < 100; ++seq) {
    writer->append(recordWith(seq, payload));
  }
  writer->flush();
  const SpoolWriterStats stats = writer->stats();
  EXPECT_EQ(stats.records_written, 0U);
  EXPECT_EQ(stats.records_dropped, 100U);
  EXPECT_GT(stats.write_errors, 0U);
  const auto finished = writer->finish();
  ASSERT_FALSE(finished);
  EXPECT_NE(finished.error().message.find("/dev/full"), std::string::npos);
}

}  // namespace
}  // namespace siprecd::media
