#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/repository.hpp"

namespace SQLite {
class Statement;
}

/// Row mapping and statement text shared by the SqliteRepository sources (internal to db/;
/// exposed in a header so tests can check the query plans of the statements that matter).
namespace siprecd::db::sqlite_rows {

/// Wall-clock epoch milliseconds (the store's `updated_ms`).
int64_t nowMs();

/// A size_t limit as an SQL LIMIT value (saturating).
int64_t sqlLimit(std::size_t limit);

/// Binds `value` or NULL to parameter `index`.
void bindOptional(SQLite::Statement& statement, int index, const std::optional<int64_t>& value);

/// The `recordings` columns in the order bindRecording() binds and readRecording() reads them.
extern const char* const kRecordingColumns;
/// "?, ?, ..." with one placeholder per recording column.
extern const char* const kRecordingPlaceholders;
/// Binds every column of `record` to parameters 1..N, with `updated_ms` for updated_ms.
void bindRecording(SQLite::Statement& statement, const RecordingRecord& record, int64_t updated_ms);
/// Reads a row selected with kRecordingColumns.
RecordingRecord readRecording(const SQLite::Statement& statement);
/// Steps `statement` to the end, reading every row with readRecording().
std::vector<RecordingRecord> readRecordings(SQLite::Statement& statement);

/// The `events` columns in the order readEvent() reads them.
extern const char* const kEventColumns;
OutboxEvent readEvent(const SQLite::Statement& statement);
/// Steps `statement` to the end, reading every row with readEvent().
std::vector<OutboxEvent> readEvents(SQLite::Statement& statement);

/// dueEvents(): parameters 1 = due_by_ms, 2 = limit.
std::string dueEventsSql();
/// recordingsCreatedBefore(): parameters 1 = created_before_ms, 2 = limit.
std::string recordingsCreatedBeforeSql();
/// listRecordings() for the filters present in `query` (named parameters :domain, :state,
/// :created_from, :created_to, :participant, :cursor_created, :cursor_id, :limit; the cursor
/// ones only when `with_cursor`).
std::string listRecordingsSql(const RecordingQuery& query, bool with_cursor);

}  // namespace siprecd::db::sqlite_rows
