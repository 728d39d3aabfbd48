#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "media/rtp_spool_format.hpp"

namespace siprecd::media {

/// Counters of one spool file. Write errors (cannot create the file, disk full, I/O error)
/// never stop the stream: the records of a failed write are dropped, the file is cut back
/// to its last whole record, and the next write tries again (to create the file, if that
/// is what failed).
struct SpoolWriterStats {
  uint64_t records_written = 0;  ///< records that reached the file (write(2) succeeded)
  uint64_t records_dropped = 0;  ///< records lost to write errors
  /// Failed file creations (mkdir, open or header write), write(2), ftruncate, fdatasync
  /// (periodic ones included) or the directory's fsync.
  uint64_t write_errors = 0;
  uint64_t bytes_written = 0;  ///< file size of the valid content, header included; 0 until created
};

/// Settings of a spool writer (the engine fills them from MediaSettings).
struct SpoolWriterSettings {
  /// User-space buffer; a full buffer is written at once. At least 4096 is used.
  std::size_t buffer_bytes = 32 * 1024;
  /// How often periodicFlush() writes the buffer out and hands out a sync of the file (and,
  /// the first time after its creation, of its directory): the most a crash of the process
  /// may lose; a crash of the machine may lose up to the sync's delay more (the media
  /// thread batches the syncs of an interval: about two intervals). At least 1 ms is used.
  std::chrono::milliseconds flush_interval{1000};
};

/// A pending sync of a spool file (its data, and its directory entry after the file was
/// created), made by SpoolWriter::periodicFlush() on the media thread and run, blocking,
/// on another thread (SpoolCloser::submitSyncs). It holds no descriptor while it waits: it
/// refers to the writer's file weakly, so a queued sync costs no descriptor and a file the
/// writer closed meanwhile (finish() syncs it anyway) is skipped. Failures count as the
/// writer's write errors. Move-only.
class SpoolSync {
 public:
  /// Shared between a writer and its sync jobs (thread-safe).
  struct State {
    explicit State(std::filesystem::path dir) : directory(std::move(dir)) {}
    const std::filesystem::path directory;      ///< "" when the spool path has no parent
    std::atomic<bool> in_flight{false};         ///< a job exists that has not finished
    std::atomic<bool> directory_synced{false};  ///< the directory entry is durable
    std::atomic<uint64_t> errors{0};            ///< failed fdatasync/fsync/syncfs calls
  };

  /// `file`: the writer's open file; `device`: the st_dev of its file system.
  SpoolSync(std::weak_ptr<const UniqueFd> file, uint64_t device, std::shared_ptr<State> state,
            bool sync_directory);
  SpoolSync(SpoolSync&&) noexcept = default;
  /// Releases this sync's claim (as its destruction would), then takes `other`'s.
  SpoolSync& operator=(SpoolSync&& other) noexcept;
  SpoolSync(const SpoolSync&) = delete;
  SpoolSync& operator=(const SpoolSync&) = delete;
  ~SpoolSync();

  /// fdatasync(2)s the file, then, if asked, fsync(2)s the directory. Blocking; once.
  void run();
  /// Runs many syncs at once (each once): where two or more of them have files on the same
  /// file system, one syncfs(2) of it makes all their data and directory entries durable
  /// (one journal commit instead of one per file); a file alone on its file system gets
  /// run(). A failed syncfs counts an error against every sync it covered. Blocking.
  static void runBatch(std::span<SpoolSync> syncs);

 private:
  /// Marks the job done (and its directory synced when `directory_synced`).
  void complete(bool directory_synced);

  std::weak_ptr<const UniqueFd> file_;
  uint64_t device_ = 0;
  std::shared_ptr<State> state_;
  bool sync_directory_ = false;
};

/// Appends spool records (media/rtp_spool_format.hpp) to a file through a user-space buffer
/// written with one pwritev(2) when full or on flush(). The file is created lazily, by the
/// first write that has records to write, so that a stream that never receives a packet
/// costs no file-system call at all. Lives on one thread (the stream's media thread, then
/// the closing thread it is moved to). Move-only; destroying or move-assigning over an
/// unfinished writer that holds buffered records flushes them (creating the file if needed)
/// and closes the file without fdatasync.
class SpoolWriter {
 public:
  /// Prepares a writer for `path` without touching the file system: encodes the header and
  /// allocates the buffer of `buffer_bytes` (at least 4096) once. Fails only when the
  /// header cannot be encoded (a string longer than kSpoolMaxStringBytes, a payload type
  /// above 127). Never blocks; callable from the SIP thread.
  ///
  /// The first write with records to write (flush() or write-out of a full buffer, or a
  /// record larger than the buffer) creates the parent directory if missing (one level,
  /// mode 0750), then `path` with O_CREAT|O_EXCL and mode 0640, and writes the header
  /// before the records. A creation failure (path exists, parent missing or not a
  /// directory, permissions, disk full) counts one write error and drops those records like
  /// any other write error, leaving no file; the next write with records tries again.
  [[nodiscard]] static Result<SpoolWriter> create(const std::filesystem::path& path,
                                                  const SpoolHeader& header,
                                                  const SpoolWriterSettings& settings);
  /// create() with default settings but `buffer_bytes`.
  [[nodiscard]] static Result<SpoolWriter> create(const std::filesystem::path& path,
                                                  const SpoolHeader& header,
                                                  std::size_t buffer_bytes);
  /// A writer appending to an already open, empty file `file` instead of creating `path`
  /// (which only names it in messages): the header goes out with the first records. A
  /// seam for tests (e.g. /dev/full, whose writes fail with ENOSPC) and tools. Fails as
  /// create() does, or when `file` is not open.
  [[nodiscard]] static Result<SpoolWriter> adopt(UniqueFd file, const std::filesystem::path& path,
                                                 const SpoolHeader& header,
                                                 const SpoolWriterSettings& settings);

  SpoolWriter(SpoolWriter&& other) noexcept;
  SpoolWriter& operator=(SpoolWriter&& other) noexcept;
  SpoolWriter(const SpoolWriter&) = delete;
  SpoolWriter& operator=(const SpoolWriter&) = delete;
  ~SpoolWriter();

  /// Buffers one record; writes the buffer out first when the record does not fit, and
  /// writes a record larger than the whole buffer directly. Either write may create the
  /// file (blocking mkdir/open, once). No allocation. Requires
  /// record.payload.size() <= kSpoolMaxPayloadBytes and an unfinished writer.
  void append(const SpoolRecord& record);
  /// Writes the buffered records to the file, creating it first if needed (no fdatasync).
  /// Does nothing when no record is buffered. Failures are counted (see SpoolWriterStats).
  void flush();
  /// The periodic durability step, called often (e.g. each media-loop turn) with the steady
  /// time: once settings.flush_interval has passed since the previous step (the first call
  /// only starts the period), flushes, and returns a SpoolSync to run off this thread when
  /// the file holds data not yet synced (or its directory entry is not yet synced) and no
  /// earlier sync of this writer is still pending. No blocking call, no descriptor.
  [[nodiscard]] std::optional<SpoolSync> periodicFlush(std::chrono::steady_clock::time_point now);
  /// Flushes, then, if the file was created, fdatasyncs it, fsyncs its directory (unless a
  /// periodic sync already did) and closes it. A writer that never had a record to write
  /// creates nothing and succeeds. Fails (after closing) when any
  /// creation, write or the sync failed during the writer's life. Blocking: call off the
  /// media thread. Once; afterwards finished() is true.
  [[nodiscard]] Result<void> finish();

  /// The counters (sync failures reported by SpoolSync jobs included).
  SpoolWriterStats stats() const;
  const std::filesystem::path& path() const { return path_; }
  /// Whether finish() was called (or this writer was moved from).
  bool finished() const { return finished_; }

 private:
  SpoolWriter(std::filesystem::path path, std::vector<std::byte> header,
              const SpoolWriterSettings& settings);

  /// Creates the directory and the file (unless open) and writes the header (unless
  /// written). On failure counts a write error, leaves no created file behind and returns
  /// false.
  bool ensureFile();
  /// fsyncs the spool's directory (blocking); false on failure.
  bool syncDirectory() const;
  /// Takes `file` as the open file and notes its file system.
  void setFile(UniqueFd file);
  int fd() const { return file_ ? file_->get() : -1; }
  /// Writes `parts` at the end of the valid content of the open file; on failure cuts the
  /// file back and counts the error. Returns whether everything was written.
  bool writeAt(std::span<const std::span<const std::byte>> parts);

  std::filesystem::path path_;
  std::filesystem::path directory_;  ///< parent of path_ ("" when path_ has none)
  std::vector<std::byte> header_;    ///< encoded header, written when the file is created
  std::chrono::milliseconds flush_interval_;
  /// The open file (null until created). Shared only so that queued SpoolSync jobs can
  /// refer to it weakly; the writer alone writes it and closes it (by dropping it).
  std::shared_ptr<const UniqueFd> file_;
  uint64_t device_ = 0;  ///< st_dev of the open file's file system
  bool header_written_ = false;
  bool adopted_ = false;  ///< the file came from adopt(): never created, unlinked or mkdir'd
  std::optional<std::chrono::steady_clock::time_point> next_periodic_flush_;
  uint64_t synced_bytes_ = 0;  ///< bytes_written when the last sync was handed out
  std::shared_ptr<SpoolSync::State> sync_state_;
  std::vector<std::byte> buffer_;
  std::size_t buffered_bytes_ = 0;
  uint64_t buffered_records_ = 0;
  bool finished_ = false;
  SpoolWriterStats stats_;
};

}  // namespace siprecd::media
