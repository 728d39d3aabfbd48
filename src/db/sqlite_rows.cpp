#include "db/sqlite_rows.hpp"

#include <algorithm>
#include <chrono>
#include <limits>

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

namespace siprecd::db::sqlite_rows {

const char* const kRecordingColumns =
    "id, domain, state, call_id, from_uri, to_uri, request_uri, source, created_ms, "
    "started_ms, ended_ms, duration_ms, end_reason, error, metadata_xml, metadata_json, "
    "streams_json, audio_path, pauses_json, assurance_json, stored_json, updated_ms";
const char* const kRecordingPlaceholders =
    "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?";

const char* const kEventColumns =
    "sequence, event_id, domain, recording_id, name, body, created_ms, status, attempts, "
    "next_attempt_ms, last_error, delivered_ms";

namespace {

std::optional<int64_t> optionalColumn(const SQLite::Statement& statement, int index) {
  const SQLite::Column column = statement.getColumn(index);
  if (column.isNull()) {
    return std::nullopt;
  }
  return column.getInt64();
}

}  // namespace

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t sqlLimit(std::size_t limit) {
  constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<int64_t>::max());
  return static_cast<int64_t>(std::min(limit, kMax));
}

void bindOptional(SQLite::Statement& statement, int index, const std::optional<int64_t>& value) {
  if (value) {
    statement.bind(index, *value);
  } else {
    statement.bind(index);
  }
}

void bindRecording(SQLite::Statement& statement, const RecordingRecord& r, int64_t updated_ms) {
  statement.bind(1, r.id);
  statement.bind(2, r.domain);
  statement.bind(3, r.state);
  statement.bind(4, r.call_id);
  statement.bind(5, r.from_uri);
  statement.bind(6, r.to_uri);
  statement.bind(7, r.request_uri);
  statement.bind(8, r.source);
  statement.bind(9, r.created_ms);
  bindOptional(statement, 10, r.started_ms);
  bindOptional(statement, 11, r.ended_ms);
  bindOptional(statement, 12, r.duration_ms);
  statement.bind(13, r.end_reason);
  statement.bind(14, r.error);
  statement.bind(15, r.metadata_xml);
  statement.bind(16, r.metadata_json);
  statement.bind(17, r.streams_json);
  statement.bind(18, r.audio_path);
  statement.bind(19, r.pauses_json);
  statement.bind(20, r.assurance_json);
  statement.bind(21, r.stored_json);
  statement.bind(22, updated_ms);
}

RecordingRecord readRecording(const SQLite::Statement& s) {
  RecordingRecord r;
  r.id = s.getColumn(0).getString();
  r.domain = s.getColumn(1).getString();
  r.state = s.getColumn(2).getString();
  r.call_id = s.getColumn(3).getString();
  r.from_uri = s.getColumn(4).getString();
  r.to_uri = s.getColumn(5).getString();
  r.request_uri = s.getColumn(6).getString();
  r.source = s.getColumn(7).getString();
  r.created_ms = s.getColumn(8).getInt64();
  r.started_ms = optionalColumn(s, 9);
  r.ended_ms = optionalColumn(s, 10);
  r.duration_ms = optionalColumn(s, 11);
  r.end_reason = s.getColumn(12).getString();
  r.error = s.getColumn(13).getString();
  r.metadata_xml = s.getColumn(14).getString();
  r.metadata_json = s.getColumn(15).getString();
  r.streams_json = s.getColumn(16).getString();
  r.audio_path = s.getColumn(17).getString();
  r.pauses_json = s.getColumn(18).getString();
  r.assurance_json = s.getColumn(19).getString();
  r.stored_json = s.getColumn(20).getString();
  r.updated_ms = s.getColumn(21).getInt64();
  return r;
}

OutboxEvent readEvent(const SQLite::Statement& s) {
  OutboxEvent e;
  e.sequence = s.getColumn(0).getInt64();
  e.event_id = s.getColumn(1).getString();
  e.domain = s.getColumn(2).getString();
  e.recording_id = s.getColumn(3).getString();
  e.name = s.getColumn(4).getString();
  e.body = s.getColumn(5).getString();
  e.created_ms = s.getColumn(6).getInt64();
  e.status = s.getColumn(7).getString();
  e.attempts = s.getColumn(8).getInt();
  e.next_attempt_ms = s.getColumn(9).getInt64();
  e.last_error = s.getColumn(10).getString();
  e.delivered_ms = optionalColumn(s, 11);
  return e;
}

std::vector<RecordingRecord> readRecordings(SQLite::Statement& statement) {
  std::vector<RecordingRecord> rows;
  while (statement.executeStep()) {
    rows.push_back(readRecording(statement));
  }
  return rows;
}

std::vector<OutboxEvent> readEvents(SQLite::Statement& statement) {
  std::vector<OutboxEvent> rows;
  while (statement.executeStep()) {
    rows.push_back(readEvent(statement));
  }
  return rows;
}

std::string dueEventsSql() {
  // The inner query touches indexes only: a range of the covering index events_due (status,
  // next_attempt_ms, recording_id) and, per candidate, one seek in events_recording
  // (recording_id, status, sequence) for an older pending event of the same recording. A
  // recording whose oldest pending event is not due yet has no row: its later events must
  // not overtake it. Only the sequence numbers are sorted; the rows (bodies) are read last.
  return fmt::format(
      "SELECT {} FROM events WHERE sequence IN ("
      "SELECT e.sequence FROM events AS e "
      "WHERE e.status = 'pending' AND e.next_attempt_ms <= ?1 "
      "AND NOT EXISTS (SELECT 1 FROM events AS earlier "
      "WHERE earlier.recording_id = e.recording_id AND earlier.status = 'pending' "
      "AND earlier.sequence < e.sequence) "
      "ORDER BY e.sequence LIMIT ?2) "
      "ORDER BY sequence",
      kEventColumns);
}

std::string recordingsCreatedBeforeSql() {
  // The state term matches the partial index recordings_retained word for word.
  return fmt::format(
      "SELECT {} FROM recordings "
      "WHERE state NOT IN ('deleted', 'declined', 'cancelled') AND created_ms < ?1 "
      "ORDER BY created_ms, id LIMIT ?2",
      kRecordingColumns);
}

std::string listRecordingsSql(const RecordingQuery& query, bool with_cursor) {
  std::string sql =
      fmt::format("SELECT {} FROM recordings WHERE domain = :domain", kRecordingColumns);
  if (query.state) {
    sql += " AND state = :state";
  }
  if (query.created_from_ms) {
    sql += " AND created_ms >= :created_from";
  }
  if (query.created_to_ms) {
    sql += " AND created_ms < :created_to";
  }
  if (!query.participant.empty()) {
    sql +=
        " AND (instr(lower(from_uri), :participant) > 0 OR instr(lower(to_uri), :participant) > 0"
        " OR instr(lower(metadata_json), :participant) > 0)";
  }
  if (with_cursor) {
    sql += " AND (created_ms, id) < (:cursor_created, :cursor_id)";
  }
  sql += " ORDER BY created_ms DESC, id DESC LIMIT :limit";
  return sql;
}

}  // namespace siprecd::db::sqlite_rows
