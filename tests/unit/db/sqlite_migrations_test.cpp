#include "db/sqlite_migrations.hpp"

#include <filesystem>
#include <string>

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include "db/sqlite_repository_fixture.hpp"

namespace siprecd::db {
namespace {

/// Builds a database exactly as siprecd with schema version 1 left it, with one recording
/// and its history.
void createVersion1Database(const std::filesystem::path& file) {
  std::filesystem::create_directories(file.parent_path());
  SQLite::Database db(file, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  db.exec("PRAGMA journal_mode=WAL");
  db.exec(
      "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
      "applied_ms INTEGER NOT NULL)");
  const SqliteMigration& v1 = sqliteMigrations()[0];
  ASSERT_EQ(v1.version, 1);
  db.exec(std::string(v1.sql));
  db.exec("INSERT INTO schema_migrations VALUES (1, 'recordings and their state history', 77)");
  db.exec(
      "INSERT INTO recordings (id, domain, state, call_id, from_uri, to_uri, created_ms, "
      "started_ms, ended_ms, duration_ms, end_reason, metadata_json, audio_path, updated_ms) "
      "VALUES ('old-1', 'acme', 'ready', 'c1@src', 'sip:alice@example.com', "
      "'sip:bob@example.com', 1000, 1100, 61100, 60000, 'bye', '{\"participants\":[]}', "
      "'/data/old-1.wav', 61200)");
  db.exec(
      "INSERT INTO recording_transitions (recording_id, state, at_ms, detail) VALUES "
      "('old-1', 'recording', 1100, ''), ('old-1', 'ready', 61100, 'BYE')");
}

TEST_F(SqliteRepositoryTest, Version1DatabaseMigratesInPlaceKeepingItsData) {
  createVersion1Database(file_);
  auto repository = open();
  ASSERT_TRUE(repository);
  EXPECT_EQ(repository->schemaVersion(), 3);

  const auto old = repository->findRecording("old-1");
  ASSERT_TRUE(old) << old.error().message;
  ASSERT_TRUE(old->has_value());
  const RecordingRecord& record = **old;
  EXPECT_EQ(record.state, "ready");
  EXPECT_EQ(record.from_uri, "sip:alice@example.com");
  EXPECT_EQ(record.duration_ms, 60000);
  EXPECT_EQ(record.audio_path, "/data/old-1.wav");
  EXPECT_EQ(record.updated_ms, 61200);
  EXPECT_EQ(record.pauses_json, "");
  EXPECT_EQ(record.assurance_json, "");
  EXPECT_EQ(record.stored_json, "");
  EXPECT_EQ(repository->transitions("old-1").value().size(), 2u);

  // The new columns and tables work on the migrated file.
  RecordingRecord updated = record;
  updated.state = "stored";
  updated.stored_json = R"({"destination":"s3"})";
  repository->updateRecording(updated);
  repository->insertEvent(sampleEvent("e1", "old-1"));
  repository->saveCommandResult(
      CommandResult{"acme", "old-1", "STORERECORDING", "k", 200, "{}", 5});
  repository->flush();
  EXPECT_EQ(repository->findRecording("old-1").value()->stored_json, updated.stored_json);
  EXPECT_EQ(repository->dueEvents(0, 10).value().size(), 1u);
  EXPECT_TRUE(repository->findCommandResult("acme", "old-1", "STORERECORDING", "k").value());
  repository->savePublisherCursor("nats", 1);
  repository->flush();
  EXPECT_EQ(repository->publisherCursor("nats").value(), 1);
  RecordingQuery query;
  query.domain = "acme";
  EXPECT_EQ(repository->listRecordings(query).value().items.size(), 1u);
  repository.reset();

  SQLite::Database db(file_, SQLite::OPEN_READONLY);
  SQLite::Statement versions(db, "SELECT version, applied_ms FROM schema_migrations ORDER BY 1");
  ASSERT_TRUE(versions.executeStep());
  EXPECT_EQ(versions.getColumn(0).getInt(), 1);
  EXPECT_EQ(versions.getColumn(1).getInt64(), 77);  // history of version 1 untouched
  ASSERT_TRUE(versions.executeStep());
  EXPECT_EQ(versions.getColumn(0).getInt(), 2);
  ASSERT_TRUE(versions.executeStep());
  EXPECT_EQ(versions.getColumn(0).getInt(), 3);
  EXPECT_FALSE(versions.executeStep());
  EXPECT_EQ(db.execAndGet("PRAGMA integrity_check").getString(), "ok");
}

TEST_F(SqliteRepositoryTest, FailedMigrationLeavesTheDatabaseAtItsVersion) {
  createVersion1Database(file_);
  {
    // A column the migration adds already exists: version 2 cannot apply.
    SQLite::Database db(file_, SQLite::OPEN_READWRITE);
    db.exec("ALTER TABLE recordings ADD COLUMN stored_json TEXT");
  }
  const auto repository = SqliteRepository::open(file_);
  ASSERT_FALSE(repository);
  EXPECT_NE(repository.error().message.find(file_.string()), std::string::npos);
  SQLite::Database db(file_, SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("SELECT MAX(version) FROM schema_migrations").getInt(), 1);
  EXPECT_FALSE(db.tableExists("events"));
  EXPECT_EQ(db.execAndGet("SELECT COUNT(*) FROM recordings").getInt(), 1);
}

TEST(SqliteMigrations, Version2AddsTheOutboxAndIdempotencyTables) {
  const auto migrations = sqliteMigrations();
  ASSERT_GE(migrations.size(), 2u);
  EXPECT_EQ(migrations[1].version, 2);
  for (const std::string_view part :
       {"CREATE TABLE events", "AUTOINCREMENT", "CREATE TABLE command_results",
        "PRIMARY KEY (domain, recording_id, method, idempotency_key)", "pauses_json",
        "assurance_json", "stored_json"}) {
    EXPECT_NE(migrations[1].sql.find(part), std::string_view::npos) << part;
  }
}

TEST(SqliteMigrations, Version3AddsPublisherCursors) {
  const auto migrations = sqliteMigrations();
  ASSERT_GE(migrations.size(), 3u);
  EXPECT_EQ(migrations[2].version, 3);
  EXPECT_NE(migrations[2].sql.find("CREATE TABLE publisher_cursors"), std::string_view::npos);
}

}  // namespace
}  // namespace siprecd::db
