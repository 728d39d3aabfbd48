#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "db/sqlite_repository.hpp"
#include "support/temp_dir.hpp"

namespace siprecd::db {

/// A fresh database file (in a nested directory the store must create) per test, and sample
/// rows. Shared by the db tests.
class SqliteRepositoryTest : public testing::Test {
 protected:
  std::unique_ptr<SqliteRepository> open() {
    auto repository = SqliteRepository::open(file_);
    EXPECT_TRUE(repository) << (repository ? "" : repository.error().message);
    return repository ? std::move(*repository) : nullptr;
  }

  static RecordingRecord sample(std::string id, int64_t created_ms = 1000) {
    RecordingRecord record;
    record.id = std::move(id);
    record.domain = "acme";
    record.state = "offered";
    record.call_id = "call-1@src.example";
    record.from_uri = "sip:alice@example.com";
    record.to_uri = "sip:bob@example.com";
    record.request_uri = "sip:srs@rec.example";
    record.source = "10.0.0.1:5060";
    record.created_ms = created_ms;
    record.metadata_xml = "<recording xmlns='urn:ietf:params:xml:ns:recording:1'/>";
    record.metadata_json = R"({"participants":[]})";
    return record;
  }

  static OutboxEvent sampleEvent(std::string event_id, std::string recording_id,
                                 int64_t next_attempt_ms = 0, std::string domain = "acme") {
    OutboxEvent event;
    event.event_id = std::move(event_id);
    event.domain = std::move(domain);
    event.recording_id = std::move(recording_id);
    event.name = "RECORDINGSTARTED";
    event.body = R"({"method":"RECORDINGSTARTED","eventId":")" + event.event_id + R"("})";
    event.created_ms = 1000;
    event.next_attempt_ms = next_attempt_ms;
    return event;
  }

  test_support::TempDir dir_;
  std::filesystem::path file_ = dir_.path() / "nested" / "siprecd.db";
};

}  // namespace siprecd::db
