#include "db/sqlite_repository.hpp"

#include <atomic>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include "base/metrics.hpp"
#include "db/sqlite_migrations.hpp"
#include "db/sqlite_repository_fixture.hpp"

namespace siprecd::db {
namespace {

TEST_F(SqliteRepositoryTest, CreatesTheFileWithWalAndAppliesMigrations) {
  auto repository = open();
  ASSERT_TRUE(repository);
  EXPECT_TRUE(std::filesystem::exists(file_));
  EXPECT_EQ(repository->schemaVersion(), sqliteMigrations().back().version);
  SQLite::Database db(file_, SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("PRAGMA journal_mode").getString(), "wal");
  EXPECT_EQ(db.execAndGet("SELECT COUNT(*) FROM schema_migrations").getInt(),
            static_cast<int>(sqliteMigrations().size()));
  EXPECT_TRUE(db.tableExists("recordings"));
  EXPECT_TRUE(db.tableExists("recording_transitions"));
  EXPECT_TRUE(db.tableExists("events"));
  EXPECT_TRUE(db.tableExists("command_results"));
}

TEST_F(SqliteRepositoryTest, ReopeningKeepsDataAndAppliesNoMigrationTwice) {
  {
    auto repository = open();
    repository->insertRecording(sample("r1"));
  }
  auto again = open();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->schemaVersion(), sqliteMigrations().back().version);
  const auto found = again->findRecording("r1");
  ASSERT_TRUE(found);
  EXPECT_TRUE(found->has_value());
  SQLite::Database db(file_, SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("SELECT COUNT(*) FROM schema_migrations").getInt(),
            static_cast<int>(sqliteMigrations().size()));
}

TEST_F(SqliteRepositoryTest, RefusesASchemaNewerThanItKnows) {
  open().reset();
  {
    SQLite::Database db(file_, SQLite::OPEN_READWRITE);
    db.exec("INSERT INTO schema_migrations VALUES (999, 'from the future', 0)");
  }
  const auto repository = SqliteRepository::open(file_);
  ASSERT_FALSE(repository);
  EXPECT_NE(repository.error().message.find("999"), std::string::npos);
  EXPECT_NE(repository.error().message.find(file_.string()), std::string::npos);
}

TEST_F(SqliteRepositoryTest, OpenFailureNamesTheFile) {
  const auto repository = SqliteRepository::open("/proc/siprecd-cannot/siprecd.db");
  ASSERT_FALSE(repository);
  EXPECT_NE(repository.error().message.find("/proc/siprecd-cannot/siprecd.db"), std::string::npos);
}

TEST_F(SqliteRepositoryTest, InsertThenFindRoundTripsEveryField) {
  auto repository = open();
  RecordingRecord record = sample("r1");
  record.started_ms = 2000;
  record.streams_json = R"([{"label":"1"}])";
  record.audio_path = "/data/r1.wav";
  record.pauses_json = R"([{"from":2500,"to":3000},{"from":4000}])";
  record.assurance_json = R"({"streams":[{"label":"1","lost":0}]})";
  record.stored_json = R"({"destination":"s3","sha256":"00"})";
  repository->insertRecording(record);
  repository->flush();
  const auto found = repository->findRecording("r1");
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_TRUE(found->has_value());
  RecordingRecord stored = **found;
  EXPECT_GT(stored.updated_ms, 0);
  stored.updated_ms = 0;
  EXPECT_EQ(stored, record);
  EXPECT_FALSE(stored.ended_ms.has_value());
  const auto missing = repository->findRecording("nope");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
}

TEST_F(SqliteRepositoryTest, UpdateReplacesTheWholeRowAndUpsertsUnknownIds) {
  auto repository = open();
  RecordingRecord record = sample("r1");
  repository->insertRecording(record);
  record.state = "ready";
  record.started_ms = 2000;
  record.ended_ms = 62000;
  record.duration_ms = 60000;
  record.end_reason = "bye";
  record.metadata_xml.clear();
  record.pauses_json = R"([{"from":2500,"to":3000}])";
  record.assurance_json = R"({"streams":[]})";
  record.stored_json = R"({"destination":"archive"})";
  repository->updateRecording(record);
  repository->updateRecording(sample("r2"));
  repository->flush();
  auto stored = repository->findRecording("r1").value().value();
  stored.updated_ms = 0;
  EXPECT_EQ(stored, record);
  EXPECT_TRUE(repository->findRecording("r2").value().has_value());
}

TEST_F(SqliteRepositoryTest, AsyncWritesApplyInCallOrder) {
  auto repository = open();
  RecordingRecord record = sample("r1");
  repository->insertRecording(record);
  for (int i = 0; i < 500; ++i) {
    record.state = "state-" + std::to_string(i);
    record.duration_ms = i;
    repository->updateRecording(record);
    repository->recordTransition("r1", record.state, i, "");
  }
  repository->flush();
  EXPECT_EQ(repository->pendingWrites(), 0u);
  const auto stored = repository->findRecording("r1").value().value();
  EXPECT_EQ(stored.state, "state-499");
  EXPECT_EQ(stored.duration_ms, 499);
  const auto history = repository->transitions("r1").value();
  ASSERT_EQ(history.size(), 500u);
  for (int i = 0; i < 500; ++i) {
    EXPECT_EQ(history[static_cast<std::size_t>(i)].at_ms, i);
  }
}

TEST_F(SqliteRepositoryTest, TransitionsKeepTheStateHistoryPerRecording) {
  auto repository = open();
  repository->insertRecording(sample("r1"));
  repository->recordTransition("r1", "offered", 1000, "INVITE from 10.0.0.1");
  repository->recordTransition("r2", "offered", 1001, "");
  repository->recordTransition("r1", "recording", 1500, "");
  repository->recordTransition("r1", "ready", 9000, "BYE");
  repository->flush();
  const auto history = repository->transitions("r1");
  ASSERT_TRUE(history);
  EXPECT_EQ(*history,
            (std::vector<RecordingTransition>{{"r1", "offered", 1000, "INVITE from 10.0.0.1"},
                                              {"r1", "recording", 1500, ""},
                                              {"r1", "ready", 9000, "BYE"}}));
  EXPECT_TRUE(repository->transitions("unknown").value().empty());
}

TEST_F(SqliteRepositoryTest, RecordingsInStateAreOldestFirst) {
  auto repository = open();
  RecordingRecord late = sample("late", 3000);
  RecordingRecord early = sample("early", 1000);
  RecordingRecord other = sample("other", 2000);
  late.state = early.state = "recording";
  other.state = "ready";
  repository->insertRecording(late);
  repository->insertRecording(early);
  repository->insertRecording(other);
  repository->flush();
  const auto recording = repository->recordingsInState("recording");
  ASSERT_TRUE(recording);
  ASSERT_EQ(recording->size(), 2u);
  EXPECT_EQ((*recording)[0].id, "early");
  EXPECT_EQ((*recording)[1].id, "late");
  EXPECT_EQ(repository->recordingsInState("ready").value().size(), 1u);
  EXPECT_TRUE(repository->recordingsInState("stored").value().empty());
}

TEST_F(SqliteRepositoryTest, FailedWriteIsCountedAndLaterWritesStillApply) {
  auto repository = open();
  Counter& errors =
      metrics().counter("siprecd_db_write_errors_total", "State store writes that failed (logged)");
  const uint64_t before = errors.value();
  repository->insertRecording(sample("r1"));
  RecordingRecord duplicate = sample("r1");
  duplicate.state = "should-not-win";
  repository->insertRecording(duplicate);
  repository->recordTransition("r1", "recording", 5, "");
  repository->flush();
  EXPECT_EQ(errors.value(), before + 1);
  EXPECT_EQ(repository->findRecording("r1").value().value().state, "offered");
  EXPECT_EQ(repository->transitions("r1").value().size(), 1u);
}

TEST_F(SqliteRepositoryTest, AfterWritesRunsOnceEarlierWritesAreReadable) {
  auto repository = open();
  std::promise<bool> visible;
  SqliteRepository* raw = repository.get();
  repository->insertRecording(sample("r1"));
  repository->afterWrites([raw, &visible] {
    const auto found = raw->findRecording("r1");
    visible.set_value(found && found->has_value());
  });
  auto future = visible.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_TRUE(future.get());
}

TEST_F(SqliteRepositoryTest, WritesNeverBlockTheCallerAndFlushWaits) {
  auto repository = open();
  std::promise<void> release;
  auto released = release.get_future().share();
  repository->afterWrites([released] { released.wait(); });
  // The writer is held up; queueing must still return at once.
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) {
    repository->insertRecording(sample("r" + std::to_string(i)));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_GE(repository->pendingWrites(), 100u);
  release.set_value();
  repository->flush();
  EXPECT_EQ(repository->pendingWrites(), 0u);
  EXPECT_TRUE(repository->findRecording("r99").value().has_value());
}

TEST_F(SqliteRepositoryTest, ConcurrentReadersSeeConsistentRowsWhileWriting) {
  auto repository = open();
  for (int i = 0; i < 50; ++i) {
    repository->insertRecording(sample("r" + std::to_string(i), i));
  }
  repository->flush();
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    RecordingRecord record = sample("r0", 0);
    for (int i = 0; i < 300 && !stop; ++i) {
      record.state = (i % 2 == 0) ? "recording" : "paused";
      repository->updateRecording(record);
    }
    repository->flush();
  });
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        const auto found = repository->findRecording("r" + std::to_string(i % 50));
        if (!found || !found->has_value()) {
          ++failures;
        }
        const auto listed = repository->recordingsInState("offered");
        if (!listed || listed->size() < 49) {
          ++failures;
        }
      }
    });
  }
  for (auto& reader : readers) {
    reader.join();
  }
  stop = true;
  writer.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(SqliteRepositoryTest, FactoryReturnsTheInterface) {
  auto repository = openSqliteRepository(file_);
  ASSERT_TRUE(repository) << repository.error().message;
  (*repository)->insertRecording(sample("r1"));
  (*repository)->flush();
  EXPECT_TRUE((*repository)->findRecording("r1").value().has_value());
}

TEST_F(SqliteRepositoryTest, DestructionFinishesQueuedWrites) {
  {
    auto repository = open();
    for (int i = 0; i < 200; ++i) {
      repository->insertRecording(sample("r" + std::to_string(i)));
    }
  }
  auto again = open();
  EXPECT_TRUE(again->findRecording("r199").value().has_value());
}

TEST(SqliteMigrations, VersionsAreConsecutiveFromOne) {
  int expected = 1;
  for (const auto& migration : sqliteMigrations()) {
    EXPECT_EQ(migration.version, expected++);
    EXPECT_FALSE(migration.sql.empty());
  }
}

}  // namespace
}  // namespace siprecd::db
