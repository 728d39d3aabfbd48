#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <vector>

#include "base/result.hpp"
#include "media/rtp_spool_format.hpp"
#include "media/unique_fd.hpp"

namespace siprecd::media {

/// Counters of one spool file. Write errors (cannot create the file, disk full, I/O error)
/// never stop the stream: the records of a failed write are dropped, the file is cut back
/// to its last whole record, and the next write tries again (to create the file, if that
/// is what failed).
struct SpoolWriterStats {
  uint64_t records_written = 0;  ///< records that reached the file (write(2) succeeded)
  uint64_t records_dropped = 0;  ///< records lost to write errors
  /// Failed file creations (mkdir, open or header write), write(2), ftruncate or fdatasync.
  uint64_t write_errors = 0;
  uint64_t bytes_written = 0;  ///< file size of the valid content, header included; 0 until created
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
                                                  std::size_t buffer_bytes);

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
  /// Flushes, then, if the file was created, fdatasyncs and closes it. A writer that never
  /// had a record to write creates nothing and succeeds. Fails (after closing) when any
  /// creation, write or the sync failed during the writer's life. Blocking: call off the
  /// media thread. Once; afterwards finished() is true.
  [[nodiscard]] Result<void> finish();

  const SpoolWriterStats& stats() const { return stats_; }
  const std::filesystem::path& path() const { return path_; }
  /// Whether finish() was called (or this writer was moved from).
  bool finished() const { return finished_; }

 private:
  SpoolWriter(std::filesystem::path path, std::vector<std::byte> header, std::size_t buffer_bytes);

  /// Creates the directory and the file and writes the header, unless the file is open.
  /// On failure counts a write error, leaves no file behind and returns false.
  bool ensureFile();
  /// Writes `parts` at the end of the valid content of the open file; on failure cuts the
  /// file back and counts the error. Returns whether everything was written.
  bool writeAt(std::span<const std::span<const std::byte>> parts);

  std::filesystem::path path_;
  std::filesystem::path directory_;  ///< parent of path_ ("" when path_ has none)
  std::vector<std::byte> header_;    ///< encoded header, written when the file is created
  UniqueFd fd_;
  std::vector<std::byte> buffer_;
  std::size_t buffered_bytes_ = 0;
  uint64_t buffered_records_ = 0;
  bool finished_ = false;
  SpoolWriterStats stats_;
};

}  // namespace siprecd::media
