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
  /// Pauses (PAUSERECORDING..RESUMERECORDING) as a JSON array of {"from": ms, "to": ms}
  /// (epoch ms; "to" absent while still paused). "" means none.
  std::string pauses_json;
  /// The assurance report (per-stream quality, DESIGN.md §2 RECORDINGREADY) as JSON.
  std::string assurance_json;
  /// The latest completed store: {"destination","location","format","size","sha256"}.
  std::string stored_json;
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

/// One event in the outbox (DESIGN.md §2 "Callbacks and events"). Delivered in `sequence`
/// order per recording, at least once.
struct OutboxEvent {
  int64_t sequence = 0;  ///< assigned by the store on insert (increasing); ignored on input
  std::string event_id;  ///< unique (UUID)
  std::string domain;
  std::string recording_id;
  std::string name;  ///< the body's `method`, e.g. "RECORDINGSTARTED"
  std::string body;  ///< the JSON body exactly as delivered (signed as is)
  int64_t created_ms = 0;
  std::string status = "pending";  ///< pending | delivered | dead
  int attempts = 0;
  int64_t next_attempt_ms = 0;  ///< not before this (epoch ms)
  std::string last_error;
  std::optional<int64_t> delivered_ms;

  bool operator==(const OutboxEvent&) const = default;
};

/// The outcome of a command, kept for idempotent repeats (same domain, recording, method and
/// Idempotency-Key header return the first reply).
struct CommandResult {
  std::string domain;
  std::string recording_id;
  std::string method;           ///< e.g. "STORERECORDING"
  std::string idempotency_key;  ///< the header's value (never empty here)
  int status = 200;             ///< HTTP status of the first reply
  std::string body;             ///< its JSON body
  int64_t created_ms = 0;

  bool operator==(const CommandResult&) const = default;
};

/// A page request over a domain's recordings, newest (created_ms, then id) first.
struct RecordingQuery {
  std::string domain;
  std::optional<std::string> state;
  std::optional<int64_t> created_from_ms;  ///< inclusive
  std::optional<int64_t> created_to_ms;    ///< exclusive
  /// Case-insensitive (ASCII) substring of from_uri, to_uri or metadata_json (participant
  /// AoR/name); taken literally (no wildcards).
  std::string participant;
  std::string cursor;      ///< "" for the first page; next_cursor of the previous page
  std::size_t limit = 50;  ///< 1..1000 (clamped)
};

struct RecordingPage {
  std::vector<RecordingRecord> items;
  std::string next_cursor;  ///< "" when this is the last page
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

  /// Lists recordings (see RecordingQuery); fails on a malformed cursor (code 400).
  virtual Result<RecordingPage> listRecordings(const RecordingQuery& query) = 0;
  /// Recordings created before `created_before_ms` that still hold siprecd's copy (any
  /// state but deleted, declined, cancelled), oldest first, at most `limit`: the retention
  /// janitor's input.
  virtual Result<std::vector<RecordingRecord>> recordingsCreatedBefore(int64_t created_before_ms,
                                                                       std::size_t limit) = 0;

  /// Queues the insertion of an outbox event (ordered after every write queued before it,
  /// so a state change queued first is persisted before its event).
  virtual void insertEvent(OutboxEvent event) = 0;
  /// Queues an update of an event's delivery fields (status, attempts, next_attempt_ms,
  /// last_error, delivered_ms), matched by event_id.
  virtual void updateEventDelivery(const OutboxEvent& event) = 0;
  /// Pending events whose next_attempt_ms <= `due_by_ms`, in sequence order, at most
  /// `limit`; for each recording only its oldest pending event (later ones wait for it, even
  /// when it is not due yet; a dead event no longer holds them back).
  virtual Result<std::vector<OutboxEvent>> dueEvents(int64_t due_by_ms, std::size_t limit) = 0;
  /// Every event of a recording in sequence order (the read API shows delivery status).
  virtual Result<std::vector<OutboxEvent>> eventsForRecording(std::string_view recording_id) = 0;
  /// Dead events of a domain, newest first, at most `limit`.
  virtual Result<std::vector<OutboxEvent>> deadEvents(std::string_view domain,
                                                      std::size_t limit) = 0;
  /// Number of pending events (metric siprecd_events_pending).
  virtual Result<int64_t> pendingEventCount() = 0;

  /// Events whose sequence is above `after_sequence`, whatever their delivery status (a
  /// publisher such as NATS keeps its own position instead of a status), in sequence order,
  /// at most `limit`. A store must never make an event visible below a sequence it has
  /// already returned (SQLite: one writer and AUTOINCREMENT), so a cursor misses nothing.
  virtual Result<std::vector<OutboxEvent>> eventsAfter(int64_t after_sequence,
                                                       std::size_t limit) = 0;
  /// The sequence of the last event `publisher` (e.g. "nats") has passed on; 0 before its
  /// first save.
  virtual Result<int64_t> publisherCursor(std::string_view publisher) = 0;
  /// Queues moving `publisher`'s cursor to `sequence`; a cursor never moves backwards.
  virtual void savePublisherCursor(std::string publisher, int64_t sequence) = 0;

  /// The stored reply of a command, if any (synchronous read).
  virtual Result<std::optional<CommandResult>> findCommandResult(std::string_view domain,
                                                                 std::string_view recording_id,
                                                                 std::string_view method,
                                                                 std::string_view key) = 0;
  /// Queues saving a command's reply; a second save with the same four keys is ignored.
  virtual void saveCommandResult(CommandResult result) = 0;

  /// Queues the removal of history nobody waits for any more: events no longer pending
  /// (delivered, dead, skipped...) and command results, created before `created_before_ms`
  /// (pending events are always kept).
  /// For the retention janitor, so the outbox and idempotency tables stay bounded.
  virtual void purgeHistory(int64_t created_before_ms) = 0;

  /// Blocks until every write queued before the call is done (shutdown, tests). Not from
  /// an afterWrites() callback.
  virtual void flush() = 0;
};

/// Opens the default store, SQLite at `file` (see SqliteRepository::open in
/// db/sqlite_repository.hpp): creates it and its directory, applies migrations.
Result<std::unique_ptr<Repository>> openSqliteRepository(const std::filesystem::path& file);

}  // namespace siprecd::db
