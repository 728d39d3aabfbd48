#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <vector>

#include "base/result.hpp"
#include "media/rtp_spool_format.hpp"
#include "media/unique_fd.hpp"

namespace siprecd::media {

/// Counters of one spool file. Write errors (disk full, I/O error) never stop the stream:
/// the records of a failed write are dropped, the file is cut back to its last whole
/// record, and the next write tries again.
struct SpoolWriterStats {
  uint64_t records_written = 0;  ///< records that reached the file (write(2) succeeded)
  uint64_t records_dropped = 0;  ///< records lost to write errors
  uint64_t write_errors = 0;     ///< failed write(2), ftruncate or fdatasync calls
  uint64_t bytes_written = 0;    ///< file size of the valid content, header included
};

/// Appends spool records (media/rtp_spool_format.hpp) to a new file through a user-space
/// buffer written with one pwritev(2) when full or on flush(). Lives on one thread (the
/// stream's media thread, then the closing thread it is moved to). Move-only; destroying
/// an unfinished writer flushes it and closes the file without fdatasync.
class SpoolWriter {
 public:
  /// Creates `path` (which must not exist; its directory must) with mode 0640 and writes
  /// the header. `buffer_bytes` is allocated here, once. Fails naming the path when the
  /// file cannot be created or the header written (the partial file is then removed).
  [[nodiscard]] static Result<SpoolWriter> create(const std::filesystem::path& path,
                                                  const SpoolHeader& header,
                                                  std::size_t buffer_bytes);

  SpoolWriter(SpoolWriter&& other) noexcept = default;
  SpoolWriter& operator=(SpoolWriter&& other) noexcept;
  SpoolWriter(const SpoolWriter&) = delete;
  SpoolWriter& operator=(const SpoolWriter&) = delete;
  ~SpoolWriter();

  /// Buffers one record; writes the buffer out first when the record does not fit, and
  /// writes a record larger than the whole buffer directly. No allocation. Requires
  /// record.payload.size() <= kSpoolMaxPayloadBytes and an unfinished writer.
  void append(const SpoolRecord& record);
  /// Writes the buffered records to the file (no fdatasync). Failures are counted.
  void flush();
  /// Flushes, fdatasyncs and closes the file. Fails (after closing) when any write or the
  /// sync failed during the writer's life. Blocking: call off the media thread. Once.
  [[nodiscard]] Result<void> finish();

  const SpoolWriterStats& stats() const { return stats_; }
  const std::filesystem::path& path() const { return path_; }
  bool finished() const { return !fd_.valid(); }

 private:
  SpoolWriter(std::filesystem::path path, UniqueFd fd, std::size_t header_bytes,
              std::size_t buffer_bytes);

  /// Writes `parts` at the end of the valid content; on failure cuts the file back and
  /// counts the error. Returns whether everything was written.
  bool writeAt(std::span<const std::span<const std::byte>> parts);

  std::filesystem::path path_;
  UniqueFd fd_;
  std::vector<std::byte> buffer_;
  std::size_t buffered_bytes_ = 0;
  uint64_t buffered_records_ = 0;
  SpoolWriterStats stats_;
};

}  // namespace siprecd::media
