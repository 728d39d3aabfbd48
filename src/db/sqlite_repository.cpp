#include "db/sqlite_repository.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include "base/log.hpp"
#include "base/metrics.hpp"
#include "db/sqlite_migrations.hpp"

namespace siprecd::db {
namespace {

constexpr std::string_view kComponent = "db";
constexpr int kBusyTimeoutMs = 5000;
constexpr std::size_t kMaxBatch = 256;
constexpr std::size_t kMaxIdleReaders = 8;

constexpr const char* kRecordingColumns =
    "id, domain, state, call_id, from_uri, to_uri, request_uri, source, created_ms, "
    "started_ms, ended_ms, duration_ms, end_reason, error, metadata_xml, metadata_json, "
    "streams_json, audio_path, updated_ms";

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void bindOptional(SQLite::Statement& statement, int index, const std::optional<int64_t>& value) {
  if (value) {
    statement.bind(index, *value);
  } else {
    statement.bind(index);
  }
}

/// Binds the 19 columns of kRecordingColumns, in order, to parameters 1..19.
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
  statement.bind(19, updated_ms);
}

std::optional<int64_t> optionalColumn(const SQLite::Statement& statement, int index) {
  const SQLite::Column column = statement.getColumn(index);
  if (column.isNull()) {
    return std::nullopt;
  }
  return column.getInt64();
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
  r.updated_ms = s.getColumn(18).getInt64();
  return r;
}

/// Applies the migrations newer than the database's version. Returns the final version.
Result<int> migrate(SQLite::Database& db, const std::filesystem::path& file) {
  db.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
      "description TEXT NOT NULL, applied_ms INTEGER NOT NULL)");
  const auto migrations = sqliteMigrations();
  const int known = migrations.empty() ? 0 : migrations.back().version;
  int version = db.execAndGet("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").getInt();
  if (version > known) {
    return fail(
        fmt::format("database {}: schema version {} is newer than this siprecd "
                    "supports ({}); upgrade siprecd",
                    file.string(), version, known));
  }
  for (const auto& migration : migrations) {
    if (migration.version <= version) {
      continue;
    }
    SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
    // Another process may have migrated while we waited for the lock.
    const int current =
        db.execAndGet("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").getInt();
    if (current >= migration.version) {
      version = current;
      continue;
    }
    db.exec(std::string(migration.sql));
    SQLite::Statement record(
        db, "INSERT INTO schema_migrations (version, description, applied_ms) VALUES (?, ?, ?)");
    record.bind(1, migration.version);
    record.bind(2, std::string(migration.description));
    record.bind(3, nowMs());
    record.exec();
    transaction.commit();
    version = migration.version;
    log::info(kComponent, "database {}: applied migration {} ({})", file.string(),
              migration.version, migration.description);
  }
  return version;
}

}  // namespace

struct SqliteRepository::Impl {
  struct Item {
    std::string what;
    std::function<void(SQLite::Database&)> write;
    std::function<void()> callback;  // set for afterWrites() items
  };

  std::filesystem::path file;
  std::unique_ptr<SQLite::Database> writer_db;
  int schema_version = 0;

  mutable std::mutex mutex;
  std::condition_variable wake;
  std::condition_variable progress;
  std::deque<Item> queue;
  uint64_t enqueued = 0;
  uint64_t completed = 0;
  bool stopping = false;
  std::thread writer;

  std::mutex pool_mutex;
  std::vector<std::unique_ptr<SQLite::Database>> idle_readers;

  Counter& writes = metrics().counter("siprecd_db_writes_total", "State store writes committed");
  Counter& write_errors =
      metrics().counter("siprecd_db_write_errors_total", "State store writes that failed (logged)");
  Gauge& queue_depth =
      metrics().gauge("siprecd_db_write_queue", "State store writes queued and not yet done");
  log::RateLimiter error_limiter{5};

  void enqueue(Item item) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      queue.push_back(std::move(item));
      ++enqueued;
    }
    queue_depth.inc();
    wake.notify_one();
  }

  void reportError(std::string_view what, std::string_view message) {
    write_errors.inc();
    log::limited(error_limiter, log::Level::Error, kComponent, "database {}: {} failed: {}",
                 file.string(), what, message);
  }

  void runWriter() {
    for (;;) {
      std::vector<Item> batch;
      {
        std::unique_lock<std::mutex> lock(mutex);
        wake.wait(lock, [this] { return stopping || !queue.empty(); });
        if (queue.empty()) {
          return;
        }
        while (!queue.empty() && batch.size() < kMaxBatch) {
          const bool is_callback = static_cast<bool>(queue.front().callback);
          if (is_callback && !batch.empty()) {
            break;
          }
          batch.push_back(std::move(queue.front()));
          queue.pop_front();
          if (is_callback) {
            break;
          }
        }
      }
      if (batch.front().callback) {
        runCallback(batch.front());
      } else {
        applyBatch(batch);
      }
      queue_depth.add(-static_cast<double>(batch.size()));
      {
        std::lock_guard<std::mutex> lock(mutex);
        completed += batch.size();
      }
      progress.notify_all();
    }
  }

  void runCallback(Item& item) {
    try {
      item.callback();
    } catch (const std::exception& e) {
      log::error(kComponent, "afterWrites callback failed: {}", e.what());
    }
  }

  void applyBatch(std::vector<Item>& batch) {
    std::size_t succeeded = 0;
    try {
      SQLite::Transaction transaction(*writer_db);
      for (auto& item : batch) {
        try {
          writer_db->exec("SAVEPOINT write");
          item.write(*writer_db);
          writer_db->exec("RELEASE write");
          ++succeeded;
        } catch (const std::exception& e) {
          try {
            writer_db->exec("ROLLBACK TO write");
            writer_db->exec("RELEASE write");
          } catch (const std::exception&) {
            // The outer transaction's commit or rollback below settles the state.
          }
          reportError(item.what, e.what());
        }
      }
      transaction.commit();
      writes.inc(succeeded);
    } catch (const std::exception& e) {
      // BEGIN or COMMIT failed: nothing of the batch was stored.
      write_errors.inc(succeeded);
      reportError(fmt::format("a batch of {} writes", batch.size()), e.what());
    }
  }

  std::unique_ptr<SQLite::Database> acquireReader() {
    {
      std::lock_guard<std::mutex> lock(pool_mutex);
      if (!idle_readers.empty()) {
        auto reader = std::move(idle_readers.back());
        idle_readers.pop_back();
        return reader;
      }
    }
    return std::make_unique<SQLite::Database>(file, SQLite::OPEN_READONLY, kBusyTimeoutMs);
  }

  void releaseReader(std::unique_ptr<SQLite::Database> reader) {
    std::lock_guard<std::mutex> lock(pool_mutex);
    if (idle_readers.size() < kMaxIdleReaders) {
      idle_readers.push_back(std::move(reader));
    }
  }
};

SqliteRepository::SqliteRepository(Key /*key*/, std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {
  impl_->writer = std::thread([impl = impl_.get()] { impl->runWriter(); });
}

SqliteRepository::~SqliteRepository() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_one();
  impl_->writer.join();
}

Result<std::unique_ptr<SqliteRepository>> SqliteRepository::open(
    const std::filesystem::path& file) {
  auto impl = std::make_unique<Impl>();
  impl->file = file;
  try {
    if (file.has_parent_path()) {
      std::error_code ec;
      std::filesystem::create_directories(file.parent_path(), ec);
      if (ec) {
        return fail(fmt::format("database {}: cannot create directory {}: {}", file.string(),
                                file.parent_path().string(), ec.message()));
      }
    }
    impl->writer_db = std::make_unique<SQLite::Database>(
        file, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE, kBusyTimeoutMs);
    const std::string mode = impl->writer_db->execAndGet("PRAGMA journal_mode=WAL").getString();
    if (mode != "wal") {
      log::warn(kComponent, "database {}: WAL mode unavailable (journal_mode={})", file.string(),
                mode);
    }
    // With WAL, NORMAL survives process crashes; a power loss may lose the last commits.
    impl->writer_db->exec("PRAGMA synchronous=NORMAL");
    auto version = migrate(*impl->writer_db, file);
    if (!version) {
      return tl::unexpected(version.error());
    }
    impl->schema_version = *version;
  } catch (const std::exception& e) {
    return fail(fmt::format("database {}: {}", file.string(), e.what()));
  }
  return std::make_unique<SqliteRepository>(Key(), std::move(impl));
}

void SqliteRepository::insertRecording(RecordingRecord record) {
  std::string what = fmt::format("insert of recording {}", record.id);
  enqueueWrite(std::move(what), [record = std::move(record)](SQLite::Database& db) {
    SQLite::Statement insert(
        db, fmt::format("INSERT INTO recordings ({}) VALUES "
                        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        kRecordingColumns));
    bindRecording(insert, record, nowMs());
    insert.exec();
  });
}

void SqliteRepository::updateRecording(RecordingRecord record) {
  std::string what = fmt::format("update of recording {}", record.id);
  enqueueWrite(std::move(what), [record = std::move(record)](SQLite::Database& db) {
    SQLite::Statement upsert(
        db,
        fmt::format("INSERT INTO recordings ({}) VALUES "
                    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (id) DO UPDATE SET domain = excluded.domain, "
                    "state = excluded.state, call_id = excluded.call_id, "
                    "from_uri = excluded.from_uri, to_uri = excluded.to_uri, "
                    "request_uri = excluded.request_uri, source = excluded.source, "
                    "created_ms = excluded.created_ms, started_ms = excluded.started_ms, "
                    "ended_ms = excluded.ended_ms, duration_ms = excluded.duration_ms, "
                    "end_reason = excluded.end_reason, error = excluded.error, "
                    "metadata_xml = excluded.metadata_xml, metadata_json = excluded.metadata_json, "
                    "streams_json = excluded.streams_json, audio_path = excluded.audio_path, "
                    "updated_ms = excluded.updated_ms",
                    kRecordingColumns));
    bindRecording(upsert, record, nowMs());
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

void SqliteRepository::afterWrites(std::function<void()> callback) {
  impl_->enqueue(Impl::Item{"afterWrites callback", nullptr, std::move(callback)});
}

void SqliteRepository::enqueueWrite(std::string what,
                                    std::function<void(SQLite::Database&)> write) {
  impl_->enqueue(Impl::Item{std::move(what), std::move(write), nullptr});
}

Result<void> SqliteRepository::withReadConnection(
    std::string_view what, const std::function<void(SQLite::Database&)>& query) {
  std::unique_ptr<SQLite::Database> reader;
  try {
    reader = impl_->acquireReader();
    query(*reader);
  } catch (const std::exception& e) {
    if (reader) {
      impl_->releaseReader(std::move(reader));
    }
    return fail(fmt::format("database {}: {} failed: {}", impl_->file.string(), what, e.what()));
  }
  impl_->releaseReader(std::move(reader));
  return {};
}

Result<std::optional<RecordingRecord>> SqliteRepository::findRecording(std::string_view id) {
  std::optional<RecordingRecord> found;
  auto ok = withReadConnection("lookup of a recording", [&](SQLite::Database& db) {
    SQLite::Statement query(
        db, fmt::format("SELECT {} FROM recordings WHERE id = ?", kRecordingColumns));
    query.bind(1, std::string(id));
    if (query.executeStep()) {
      found = readRecording(query);
    }
  });
  if (!ok) {
    return tl::unexpected(ok.error());
  }
  return found;
}

Result<std::vector<RecordingRecord>> SqliteRepository::recordingsInState(std::string_view state) {
  std::vector<RecordingRecord> found;
  auto ok = withReadConnection("lookup of recordings by state", [&](SQLite::Database& db) {
    SQLite::Statement query(
        db, fmt::format("SELECT {} FROM recordings WHERE state = ? ORDER BY created_ms, id",
                        kRecordingColumns));
    query.bind(1, std::string(state));
    while (query.executeStep()) {
      found.push_back(readRecording(query));
    }
  });
  if (!ok) {
    return tl::unexpected(ok.error());
  }
  return found;
}

Result<std::vector<RecordingTransition>> SqliteRepository::transitions(
    std::string_view recording_id) {
  std::vector<RecordingTransition> found;
  auto ok = withReadConnection("lookup of transitions", [&](SQLite::Database& db) {
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
  if (!ok) {
    return tl::unexpected(ok.error());
  }
  return found;
}

void SqliteRepository::flush() {
  std::unique_lock<std::mutex> lock(impl_->mutex);
  const uint64_t target = impl_->enqueued;
  impl_->progress.wait(lock, [&] { return impl_->completed >= target; });
}

int SqliteRepository::schemaVersion() const {
  return impl_->schema_version;
}

std::size_t SqliteRepository::pendingWrites() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return static_cast<std::size_t>(impl_->enqueued - impl_->completed);
}

Result<std::unique_ptr<Repository>> openSqliteRepository(const std::filesystem::path& file) {
  auto repository = SqliteRepository::open(file);
  if (!repository) {
    return tl::unexpected(repository.error());
  }
  return std::unique_ptr<Repository>(std::move(*repository));
}

}  // namespace siprecd::db
