#include "db/sqlite_migrations.hpp"

#include <array>

namespace siprecd::db {
namespace {

constexpr std::string_view kRecordings = R"sql(
CREATE TABLE recordings (
  id            TEXT PRIMARY KEY,
  domain        TEXT NOT NULL,
  state         TEXT NOT NULL,
  call_id       TEXT NOT NULL DEFAULT '',
  from_uri      TEXT NOT NULL DEFAULT '',
  to_uri        TEXT NOT NULL DEFAULT '',
  request_uri   TEXT NOT NULL DEFAULT '',
  source        TEXT NOT NULL DEFAULT '',
  created_ms    INTEGER NOT NULL,
  started_ms    INTEGER,
  ended_ms      INTEGER,
  duration_ms   INTEGER,
  end_reason    TEXT NOT NULL DEFAULT '',
  error         TEXT NOT NULL DEFAULT '',
  metadata_xml  TEXT NOT NULL DEFAULT '',
  metadata_json TEXT NOT NULL DEFAULT '',
  streams_json  TEXT NOT NULL DEFAULT '',
  audio_path    TEXT NOT NULL DEFAULT '',
  updated_ms    INTEGER NOT NULL
);
CREATE INDEX recordings_state ON recordings (state);
CREATE INDEX recordings_created ON recordings (created_ms);
CREATE TABLE recording_transitions (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  recording_id TEXT NOT NULL,
  state        TEXT NOT NULL,
  at_ms        INTEGER NOT NULL,
  detail       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX recording_transitions_recording ON recording_transitions (recording_id, seq);
)sql";

// Version 2: recording columns for pauses, assurance and the latest store; the event outbox;
// command replies kept for idempotent repeats; indexes for listing and the janitor.
constexpr std::string_view kOutbox = R"sql(
ALTER TABLE recordings ADD COLUMN pauses_json TEXT NOT NULL DEFAULT '';
ALTER TABLE recordings ADD COLUMN assurance_json TEXT NOT NULL DEFAULT '';
ALTER TABLE recordings ADD COLUMN stored_json TEXT NOT NULL DEFAULT '';
CREATE INDEX recordings_domain_created ON recordings (domain, created_ms, id);
CREATE INDEX recordings_retained ON recordings (created_ms, id)
  WHERE state NOT IN ('deleted', 'declined', 'cancelled');
CREATE TABLE events (
  sequence        INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id        TEXT NOT NULL UNIQUE,
  domain          TEXT NOT NULL,
  recording_id    TEXT NOT NULL,
  name            TEXT NOT NULL,
  body            TEXT NOT NULL,
  created_ms      INTEGER NOT NULL,
  status          TEXT NOT NULL DEFAULT 'pending',
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms INTEGER NOT NULL DEFAULT 0,
  last_error      TEXT NOT NULL DEFAULT '',
  delivered_ms    INTEGER
);
CREATE INDEX events_due ON events (status, next_attempt_ms, recording_id);
CREATE INDEX events_recording ON events (recording_id, status, sequence);
CREATE INDEX events_dead ON events (domain, sequence) WHERE status = 'dead';
CREATE INDEX events_created ON events (created_ms);
CREATE TABLE command_results (
  domain          TEXT NOT NULL,
  recording_id    TEXT NOT NULL,
  method          TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  status          INTEGER NOT NULL,
  body            TEXT NOT NULL,
  created_ms      INTEGER NOT NULL,
  PRIMARY KEY (domain, recording_id, method, idempotency_key)
) WITHOUT ROWID;
CREATE INDEX command_results_created ON command_results (created_ms);
)sql";

// Version 3: the position of each publisher that reads the outbox by sequence (NATS) rather
// than by delivery status.
constexpr std::string_view kPublisherCursors = R"sql(
CREATE TABLE publisher_cursors (
  publisher  TEXT PRIMARY KEY,
  sequence   INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

constexpr std::array<SqliteMigration, 3> kMigrations{{
    {1, "recordings and their state history", kRecordings},
    {2, "outbox events, command results, recording pauses/assurance/stored", kOutbox},
    {3, "publisher cursors over the outbox", kPublisherCursors},
}};

}  // namespace

std::span<const SqliteMigration> sqliteMigrations() {
  return kMigrations;
}

}  // namespace siprecd::db
