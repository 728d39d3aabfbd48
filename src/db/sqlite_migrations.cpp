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

constexpr std::array<SqliteMigration, 1> kMigrations{{
    {1, "recordings and their state history", kRecordings},
}};

}  // namespace

std::span<const SqliteMigration> sqliteMigrations() {
  return kMigrations;
}

}  // namespace siprecd::db
