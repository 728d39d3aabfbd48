#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

/// The state store: recordings and their state history. The SIP thread writes through it
/// without ever blocking; the HTTP and worker threads read from it.
namespace siprecd::db {

/// One row of `recordings`. Times are epoch milliseconds.
struct RecordingRecord {
  std::string id;
  std::string domain;
  std::string state;  // offered, recording, paused, ready, storing, stored, deleted, ...
  std::string call_id;
  std::string from_uri;
  std::string to_uri;
  std::string request_uri;
  std::string source;  // the SRC's address, e.g. "udp:10.0.0.1:5060"
  int64_t created_ms = 0;
  std::optional<int64_t> started_ms;
  std::optional<int64_t> ended_ms;
  std::optional<int64_t> duration_ms;
  std::string end_reason;
  std::string error;
  std::string metadata_xml;   // RFC 7865 metadata as received
  std::string metadata_json;  // its JSON view
  std::string streams_json;
  std::string audio_path;
  /// Set by the store on every write; ignored on input.
  int64_t updated_ms = 0;

  bool operator==(const RecordingRecord&) const = default;
};

/// One entry of a recording's state history.
struct RecordingTransition {
  std::string recording_id;
  std::string state;
  int64_t at_ms = 0;
  std::string detail;

  bool operator==(const RecordingTransition&) const = default;
};

/// Writes are asynchronous: they return at once, are applied in call order (across all
/// write methods) on the store's own writer thread, and their failures are logged and
/// counted (siprecd_db_write_errors_total), never reported to the caller. Reads are
/// synchronous and see every write that completed before they started (use flush() to
/// wait for queued ones); they may block briefly, so never read on the SIP or media
/// threads. All methods are thread-safe.
class Repository {
 public:
  virtual ~Repository() = default;

  /// Queues the insertion of a new recording (an existing id is a write error).
  virtual void insertRecording(RecordingRecord record) = 0;
  /// Queues a full-row upsert of `record`.
  virtual void updateRecording(RecordingRecord record) = 0;
  /// Queues the append of a state-history entry.
  virtual void recordTransition(std::string recording_id, std::string state, int64_t at_ms,
                                std::string detail) = 0;
  /// Runs `callback` on the writer thread once every write queued before it has been
  /// committed (or has failed): "persisted, now announce it". The callback must be quick
  /// and must not call flush().
  virtual void afterWrites(std::function<void()> callback) = 0;

  /// The recording, or nullopt when unknown; an error when the database fails.
  virtual Result<std::optional<RecordingRecord>> findRecording(std::string_view id) = 0;
  /// Recordings in `state`, oldest (created_ms) first.
  virtual Result<std::vector<RecordingRecord>> recordingsInState(std::string_view state) = 0;
  /// The recording's state history in the order it was recorded.
  virtual Result<std::vector<RecordingTransition>> transitions(std::string_view recording_id) = 0;

  /// Blocks until every write queued before the call is done (shutdown, tests). Not from
  /// an afterWrites() callback.
  virtual void flush() = 0;
};

/// Opens the default store, SQLite at `file` (see SqliteRepository::open in
/// db/sqlite_repository.hpp): creates it and its directory, applies migrations.
Result<std::unique_ptr<Repository>> openSqliteRepository(const std::filesystem::path& file);

}  // namespace siprecd::db
