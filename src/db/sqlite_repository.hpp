#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "db/repository.hpp"

namespace SQLite {
class Database;
}

namespace siprecd::db {

/// The default Repository: one SQLite file in WAL mode. Writes run on the repository's
/// own writer thread, batched into transactions (each write in a savepoint, so one
/// failing write does not undo the others); reads use a small pool of read-only
/// connections, so HTTP and worker threads read concurrently with the writer. Since a batch
/// commits as one transaction and batches commit in queue order, a reader never sees a
/// write before every write queued ahead of it has been applied (or has failed): an event
/// never shows up before the state change queued ahead of it.
/// The write queue is unbounded (writes never block); watch siprecd_db_write_queue.
class SqliteRepository final : public Repository {
 public:
  /// Opens or creates `file` (creating its directory), applies the pending migrations and
  /// starts the writer thread. Fails naming the file when it cannot be opened or migrated,
  /// or when its schema is newer than this program knows.
  static Result<std::unique_ptr<SqliteRepository>> open(const std::filesystem::path& file);

  /// Finishes the queued writes, then stops the writer thread.
  ~SqliteRepository() override;
  SqliteRepository(const SqliteRepository&) = delete;
  SqliteRepository& operator=(const SqliteRepository&) = delete;

  void insertRecording(RecordingRecord record) override;
  void updateRecording(RecordingRecord record) override;
  void recordTransition(std::string recording_id, std::string state, int64_t at_ms,
                        std::string detail) override;
  void afterWrites(std::function<void()> callback) override;
  Result<std::optional<RecordingRecord>> findRecording(std::string_view id) override;
  Result<std::vector<RecordingRecord>> recordingsInState(std::string_view state) override;
  Result<std::vector<RecordingTransition>> transitions(std::string_view recording_id) override;
  Result<RecordingPage> listRecordings(const RecordingQuery& query) override;
  Result<std::vector<RecordingRecord>> recordingsCreatedBefore(int64_t created_before_ms,
                                                               std::size_t limit) override;
  void insertEvent(OutboxEvent event) override;
  void updateEventDelivery(const OutboxEvent& event) override;
  Result<std::vector<OutboxEvent>> dueEvents(int64_t due_by_ms, std::size_t limit) override;
  Result<std::vector<OutboxEvent>> eventsForRecording(std::string_view recording_id) override;
  Result<std::vector<OutboxEvent>> deadEvents(std::string_view domain, std::size_t limit) override;
  Result<int64_t> pendingEventCount() override;
  Result<std::vector<OutboxEvent>> eventsAfter(int64_t after_sequence, std::size_t limit) override;
  Result<int64_t> publisherCursor(std::string_view publisher) override;
  void savePublisherCursor(std::string publisher, int64_t sequence) override;
  Result<std::optional<CommandResult>> findCommandResult(std::string_view domain,
                                                         std::string_view recording_id,
                                                         std::string_view method,
                                                         std::string_view key) override;
  void saveCommandResult(CommandResult result) override;
  void purgeHistory(int64_t created_before_ms) override;
  void flush() override;

  /// Building blocks of the methods above (sqlite_repository_*.cpp) and of further tables:
  /// queues `write` like the methods above (`what` names it in logs; an exception from it
  /// is a counted write error) ...
  void enqueueWrite(std::string what, std::function<void(SQLite::Database&)> write);
  /// ... and runs `query` now on a read connection, turning exceptions into an error
  /// naming `what`.
  Result<void> withReadConnection(std::string_view what,
                                  const std::function<void(SQLite::Database&)>& query);
  /// ... or runs `query(db, value)` there and returns the T it filled.
  template <typename T, typename Query>
  Result<T> readWith(std::string_view what, Query&& query) {
    T value{};
    auto ok = withReadConnection(what, [&](SQLite::Database& db) { query(db, value); });
    if (!ok) {
      return tl::unexpected(ok.error());
    }
    return value;
  }

  /// The schema version after open (the highest migration applied).
  int schemaVersion() const;
  /// Writes queued and not yet done.
  std::size_t pendingWrites() const;

  struct Impl;
  /// Only open() can construct (the key is private).
  class Key {
    friend class SqliteRepository;
    Key() = default;
  };
  SqliteRepository(Key key, std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace siprecd::db
