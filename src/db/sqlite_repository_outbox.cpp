// SqliteRepository: the event outbox, its publisher cursors and the command results kept for
// idempotency (the writer thread, the queue and the connections live in sqlite_repository.cpp).
#include <stdexcept>
#include <utility>

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include "db/sqlite_repository.hpp"
#include "db/sqlite_rows.hpp"

namespace siprecd::db {

void SqliteRepository::insertEvent(OutboxEvent event) {
  std::string what = fmt::format("insert of event {} ({}) of recording {}", event.event_id,
                                 event.name, event.recording_id);
  enqueueWrite(std::move(what), [event = std::move(event)](SQLite::Database& db) {
    SQLite::Statement insert(
        db,
        "INSERT INTO events (event_id, domain, recording_id, name, body, created_ms, status, "
        "attempts, next_attempt_ms, last_error, delivered_ms) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    insert.bind(1, event.event_id);
    insert.bind(2, event.domain);
    insert.bind(3, event.recording_id);
    insert.bind(4, event.name);
    insert.bind(5, event.body);
    insert.bind(6, event.created_ms);
    insert.bind(7, event.status);
    insert.bind(8, event.attempts);
    insert.bind(9, event.next_attempt_ms);
    insert.bind(10, event.last_error);
    sqlite_rows::bindOptional(insert, 11, event.delivered_ms);
    insert.exec();
  });
}

void SqliteRepository::updateEventDelivery(const OutboxEvent& event) {
  std::string what = fmt::format("delivery update of event {} to {}", event.event_id, event.status);
  enqueueWrite(
      std::move(what), [event_id = event.event_id, status = event.status, attempts = event.attempts,
                        next_attempt_ms = event.next_attempt_ms, last_error = event.last_error,
                        delivered_ms = event.delivered_ms](SQLite::Database& db) {
        SQLite::Statement update(db,
                                 "UPDATE events SET status = ?, attempts = ?, next_attempt_ms = ?, "
                                 "last_error = ?, delivered_ms = ? WHERE event_id = ?");
        update.bind(1, status);
        update.bind(2, attempts);
        update.bind(3, next_attempt_ms);
        update.bind(4, last_error);
        sqlite_rows::bindOptional(update, 5, delivered_ms);
        update.bind(6, event_id);
        if (update.exec() == 0) {
          throw std::runtime_error("no such event");
        }
      });
}

using Events = std::vector<OutboxEvent>;

Result<Events> SqliteRepository::dueEvents(int64_t due_by_ms, std::size_t limit) {
  return readWith<Events>("lookup of due events", [&](SQLite::Database& db, Events& found) {
    SQLite::Statement select(db, sqlite_rows::dueEventsSql());
    select.bind(1, due_by_ms);
    select.bind(2, sqlite_rows::sqlLimit(limit));
    found = sqlite_rows::readEvents(select);
  });
}

Result<Events> SqliteRepository::eventsForRecording(std::string_view recording_id) {
  return readWith<Events>(
      "lookup of a recording's events", [&](SQLite::Database& db, Events& found) {
        SQLite::Statement select(
            db, fmt::format("SELECT {} FROM events WHERE recording_id = ? ORDER BY sequence",
                            sqlite_rows::kEventColumns));
        select.bind(1, std::string(recording_id));
        found = sqlite_rows::readEvents(select);
      });
}

Result<Events> SqliteRepository::deadEvents(std::string_view domain, std::size_t limit) {
  return readWith<Events>("lookup of dead events", [&](SQLite::Database& db, Events& found) {
    // The status term matches the partial index events_dead word for word.
    SQLite::Statement select(
        db, fmt::format("SELECT {} FROM events WHERE status = 'dead' AND domain = ? "
                        "ORDER BY sequence DESC LIMIT ?",
                        sqlite_rows::kEventColumns));
    select.bind(1, std::string(domain));
    select.bind(2, sqlite_rows::sqlLimit(limit));
    found = sqlite_rows::readEvents(select);
  });
}

Result<int64_t> SqliteRepository::pendingEventCount() {
  return readWith<int64_t>("count of pending events", [](SQLite::Database& db, int64_t& count) {
    count = db.execAndGet("SELECT COUNT(*) FROM events WHERE status = 'pending'").getInt64();
  });
}

Result<Events> SqliteRepository::eventsAfter(int64_t after_sequence, std::size_t limit) {
  return readWith<Events>(
      "lookup of events after a cursor", [&](SQLite::Database& db, Events& found) {
        SQLite::Statement select(
            db, fmt::format("SELECT {} FROM events WHERE sequence > ? ORDER BY sequence LIMIT ?",
                            sqlite_rows::kEventColumns));
        select.bind(1, after_sequence);
        select.bind(2, sqlite_rows::sqlLimit(limit));
        found = sqlite_rows::readEvents(select);
      });
}

Result<int64_t> SqliteRepository::publisherCursor(std::string_view publisher) {
  return readWith<int64_t>(
      "lookup of a publisher cursor", [&](SQLite::Database& db, int64_t& sequence) {
        SQLite::Statement select(db, "SELECT sequence FROM publisher_cursors WHERE publisher = ?");
        select.bind(1, std::string(publisher));
        if (select.executeStep()) {
          sequence = select.getColumn(0).getInt64();
        }
      });
}

void SqliteRepository::savePublisherCursor(std::string publisher, int64_t sequence) {
  std::string what = fmt::format("save of the {} cursor at {}", publisher, sequence);
  enqueueWrite(std::move(what), [publisher = std::move(publisher), sequence](SQLite::Database& db) {
    SQLite::Statement upsert(
        db,
        "INSERT INTO publisher_cursors (publisher, sequence, updated_ms) VALUES (?, ?, ?) "
        "ON CONFLICT (publisher) DO UPDATE SET sequence = MAX(sequence, excluded.sequence), "
        "updated_ms = excluded.updated_ms");
    upsert.bind(1, publisher);
    upsert.bind(2, sequence);
    upsert.bind(3, sqlite_rows::nowMs());
    upsert.exec();
  });
}

Result<std::optional<CommandResult>> SqliteRepository::findCommandResult(
    std::string_view domain, std::string_view recording_id, std::string_view method,
    std::string_view key) {
  using Found = std::optional<CommandResult>;
  return readWith<Found>("lookup of a command result", [&](SQLite::Database& db, Found& found) {
    SQLite::Statement select(db,
                             "SELECT domain, recording_id, method, idempotency_key, status, body, "
                             "created_ms FROM command_results WHERE domain = ? AND "
                             "recording_id = ? AND method = ? AND idempotency_key = ?");
    select.bind(1, std::string(domain));
    select.bind(2, std::string(recording_id));
    select.bind(3, std::string(method));
    select.bind(4, std::string(key));
    if (select.executeStep()) {
      found = CommandResult{select.getColumn(0).getString(), select.getColumn(1).getString(),
                            select.getColumn(2).getString(), select.getColumn(3).getString(),
                            select.getColumn(4).getInt(),    select.getColumn(5).getString(),
                            select.getColumn(6).getInt64()};
    }
  });
}

void SqliteRepository::saveCommandResult(CommandResult result) {
  std::string what =
      fmt::format("save of the {} result for recording {}", result.method, result.recording_id);
  enqueueWrite(std::move(what), [result = std::move(result)](SQLite::Database& db) {
    // The first reply wins: a repeat (or a race between two identical requests) is ignored.
    SQLite::Statement insert(db,
                             "INSERT INTO command_results (domain, recording_id, method, "
                             "idempotency_key, status, body, created_ms) VALUES (?, ?, ?, ?, ?, "
                             "?, ?) ON CONFLICT DO NOTHING");
    insert.bind(1, result.domain);
    insert.bind(2, result.recording_id);
    insert.bind(3, result.method);
    insert.bind(4, result.idempotency_key);
    insert.bind(5, result.status);
    insert.bind(6, result.body);
    insert.bind(7, result.created_ms);
    insert.exec();
  });
}

void SqliteRepository::purgeHistory(int64_t created_before_ms) {
  enqueueWrite(fmt::format("purge of history created before {}", created_before_ms),
               [created_before_ms](SQLite::Database& db) {
                 // Every status but pending is final (delivered, dead, skipped, ...).
                 SQLite::Statement events(
                     db, "DELETE FROM events WHERE status <> 'pending' AND created_ms < ?");
                 events.bind(1, created_before_ms);
                 events.exec();
                 SQLite::Statement results(db, "DELETE FROM command_results WHERE created_ms < ?");
                 results.bind(1, created_before_ms);
                 results.exec();
               });
}

}  // namespace siprecd::db
