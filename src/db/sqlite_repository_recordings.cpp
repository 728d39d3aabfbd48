// SqliteRepository: recordings, their state history and listings (the writer thread, the
// queue and the connections live in sqlite_repository.cpp).
#include <algorithm>
#include <utility>

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include "base/strings.hpp"
#include "db/recording_cursor.hpp"
#include "db/sqlite_repository.hpp"
#include "db/sqlite_rows.hpp"

namespace siprecd::db {
namespace {

constexpr std::size_t kMaxPageSize = 1000;

}  // namespace

void SqliteRepository::insertRecording(RecordingRecord record) {
  std::string what = fmt::format("insert of recording {}", record.id);
  enqueueWrite(std::move(what), [record = std::move(record)](SQLite::Database& db) {
    SQLite::Statement insert(
        db, fmt::format("INSERT INTO recordings ({}) VALUES ({})", sqlite_rows::kRecordingColumns,
                        sqlite_rows::kRecordingPlaceholders));
    sqlite_rows::bindRecording(insert, record, sqlite_rows::nowMs());
    insert.exec();
  });
}

void SqliteRepository::updateRecording(RecordingRecord record) {
  std::string what = fmt::format("update of recording {}", record.id);
  enqueueWrite(std::move(what), [record = std::move(record)](SQLite::Database& db) {
    SQLite::Statement upsert(
        db,
        fmt::format("INSERT INTO recordings ({}) VALUES ({}) "
                    "ON CONFLICT (id) DO UPDATE SET domain = excluded.domain, "
                    "state = excluded.state, call_id = excluded.call_id, "
                    "from_uri = excluded.from_uri, to_uri = excluded.to_uri, "
                    "request_uri = excluded.request_uri, source = excluded.source, "
                    "created_ms = excluded.created_ms, started_ms = excluded.started_ms, "
                    "ended_ms = excluded.ended_ms, duration_ms = excluded.duration_ms, "
                    "end_reason = excluded.end_reason, error = excluded.error, "
                    "metadata_xml = excluded.metadata_xml, metadata_json = excluded.metadata_json, "
                    "streams_json = excluded.streams_json, audio_path = excluded.audio_path, "
                    "pauses_json = excluded.pauses_json, "
                    "assurance_json = excluded.assurance_json, "
                    "stored_json = excluded.stored_json, updated_ms = excluded.updated_ms",
                    sqlite_rows::kRecordingColumns, sqlite_rows::kRecordingPlaceholders));
    sqlite_rows::bindRecording(upsert, record, sqlite_rows::nowMs());
    upsert.exec();
  });
}

void SqliteRepository::recordTransition(std::string recording_id, std::string state, int64_t at_ms,
                                        std::string detail) {
  std::string what = fmt::format("transition of recording {} to {}", recording_id, state);
  enqueueWrite(std::move(what), [recording_id = std::move(recording_id), state = std::move(state),
                                 at_ms, detail = std::move(detail)](SQLite::Database& db) {
    SQLite::Statement insert(db,
                             "INSERT INTO recording_transitions (recording_id, state, at_ms, "
                             "detail) VALUES (?, ?, ?, ?)");
    insert.bind(1, recording_id);
    insert.bind(2, state);
    insert.bind(3, at_ms);
    insert.bind(4, detail);
    insert.exec();
  });
}

Result<std::optional<RecordingRecord>> SqliteRepository::findRecording(std::string_view id) {
  using Found = std::optional<RecordingRecord>;
  return readWith<Found>("lookup of a recording", [&](SQLite::Database& db, Found& found) {
    SQLite::Statement query(
        db, fmt::format("SELECT {} FROM recordings WHERE id = ?", sqlite_rows::kRecordingColumns));
    query.bind(1, std::string(id));
    if (query.executeStep()) {
      found = sqlite_rows::readRecording(query);
    }
  });
}

using Recordings = std::vector<RecordingRecord>;

Result<Recordings> SqliteRepository::recordingsInState(std::string_view state) {
  return readWith<Recordings>(
      "lookup of recordings by state", [&](SQLite::Database& db, Recordings& found) {
        SQLite::Statement query(
            db, fmt::format("SELECT {} FROM recordings WHERE state = ? ORDER BY created_ms, id",
                            sqlite_rows::kRecordingColumns));
        query.bind(1, std::string(state));
        found = sqlite_rows::readRecordings(query);
      });
}

Result<std::vector<RecordingTransition>> SqliteRepository::transitions(
    std::string_view recording_id) {
  using Transitions = std::vector<RecordingTransition>;
  return readWith<Transitions>(
      "lookup of transitions", [&](SQLite::Database& db, Transitions& found) {
        SQLite::Statement query(db,
                                "SELECT recording_id, state, at_ms, detail FROM "
                                "recording_transitions WHERE recording_id = ? ORDER BY seq");
        query.bind(1, std::string(recording_id));
        while (query.executeStep()) {
          found.push_back(
              RecordingTransition{query.getColumn(0).getString(), query.getColumn(1).getString(),
                                  query.getColumn(2).getInt64(), query.getColumn(3).getString()});
        }
      });
}

Result<RecordingPage> SqliteRepository::listRecordings(const RecordingQuery& query) {
  std::optional<RecordingCursor> cursor;
  if (!query.cursor.empty()) {
    auto decoded = decodeRecordingCursor(query.cursor);
    if (!decoded) {
      return tl::unexpected(decoded.error());
    }
    cursor = std::move(*decoded);
  }
  const std::size_t limit = std::clamp<std::size_t>(query.limit, 1, kMaxPageSize);
  RecordingPage page;
  auto ok = withReadConnection("listing of recordings", [&](SQLite::Database& db) {
    SQLite::Statement select(db, sqlite_rows::listRecordingsSql(query, cursor.has_value()));
    select.bind(":domain", query.domain);
    if (query.state) {
      select.bind(":state", *query.state);
    }
    if (query.created_from_ms) {
      select.bind(":created_from", *query.created_from_ms);
    }
    if (query.created_to_ms) {
      select.bind(":created_to", *query.created_to_ms);
    }
    if (!query.participant.empty()) {
      // SQLite's lower() folds ASCII only, like toLower().
      select.bind(":participant", toLower(query.participant));
    }
    if (cursor) {
      select.bind(":cursor_created", cursor->created_ms);
      select.bind(":cursor_id", cursor->id);
    }
    // One row more than asked tells whether another page follows.
    select.bind(":limit", static_cast<int64_t>(limit + 1));
    while (select.executeStep()) {
      page.items.push_back(sqlite_rows::readRecording(select));
    }
  });
  if (!ok) {
    return tl::unexpected(ok.error());
  }
  if (page.items.size() > limit) {
    page.items.resize(limit);
    const RecordingRecord& last = page.items.back();
    page.next_cursor = encodeRecordingCursor(RecordingCursor{last.created_ms, last.id});
  }
  return page;
}

Result<Recordings> SqliteRepository::recordingsCreatedBefore(int64_t created_before_ms,
                                                             std::size_t limit) {
  return readWith<Recordings>(
      "lookup of recordings past retention", [&](SQLite::Database& db, Recordings& found) {
        SQLite::Statement select(db, sqlite_rows::recordingsCreatedBeforeSql());
        select.bind(1, created_before_ms);
        select.bind(2, sqlite_rows::sqlLimit(limit));
        found = sqlite_rows::readRecordings(select);
      });
}

}  // namespace siprecd::db
