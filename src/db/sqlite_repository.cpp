#include "db/sqlite_repository.hpp"

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
#include "db/sqlite_rows.hpp"

namespace siprecd::db {
namespace {

constexpr std::string_view kComponent = "db";
constexpr int kBusyTimeoutMs = 5000;
constexpr std::size_t kMaxBatch = 256;
constexpr std::size_t kMaxIdleReaders = 8;

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
    record.bind(3, sqlite_rows::nowMs());
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
