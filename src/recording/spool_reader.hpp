#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "media/rtp_spool_format.hpp"

namespace siprecd::recording {

/// Why reading a spool stopped.
enum class SpoolEnd {
  Clean,      ///< at a record boundary at the end of the file
  TornTail,   ///< the file ends inside a record (a crash while writing)
  Corrupt,    ///< a record failed its CRC
  ReadError,  ///< read(2) failed
};

/// Reads a spool file (media/rtp_spool_format.hpp) front to back: the header, then each
/// valid record, stopping at the first torn or corrupt one. Memory stays bounded (one
/// buffer of about two maximal records). One thread at a time; move-only.
class SpoolReader {
 public:
  /// Opens `path` and reads its header. Fails, naming the path, when the file cannot be
  /// opened or read or its header is corrupt (magic, version, size, CRC). A file that ends
  /// inside its header (a crash right after creation) opens with no header and no records.
  [[nodiscard]] static Result<SpoolReader> open(const std::filesystem::path& path);

  /// As open(), but a `path` that does not exist (ENOENT: the file or its directory is
  /// missing) gives nullopt instead of an error: the spool writer creates the file only
  /// when the stream's first packet is written, so a missing spool is a stream that
  /// received no packet. Every other failure is an error as in open().
  [[nodiscard]] static Result<std::optional<SpoolReader>> openIfPresent(
      const std::filesystem::path& path);

  const std::optional<media::SpoolHeader>& header() const { return header_; }

  /// The next valid record, or nullopt at the end of the valid records (see end()). The
  /// record's payload views an internal buffer, valid until the next call. Records of every
  /// kind are returned (RTP, RTCP sender reports, kinds newer than this build): callers
  /// check `kind` and skip what they do not handle.
  std::optional<media::SpoolRecord> next();

  /// After next() returned nullopt: why the records ended.
  SpoolEnd end() const { return end_; }
  /// File offset of the payload of the record last returned by next() (for pread).
  uint64_t lastPayloadOffset() const { return last_payload_offset_; }
  /// Bytes of the header and the records returned so far.
  uint64_t validBytes() const { return consumed_offset_; }

 private:
  SpoolReader(std::filesystem::path path, UniqueFd fd);

  /// Reads the header of the freshly opened file (see open()).
  [[nodiscard]] static Result<SpoolReader> readHeader(SpoolReader reader);

  /// Reads more of the file after the unconsumed bytes, growing the buffer to `needed`.
  /// False at end of file or on error (end_ then says which).
  bool fill(std::size_t needed);

  std::filesystem::path path_;
  UniqueFd fd_;
  std::vector<std::byte> buffer_;
  std::size_t begin_ = 0;         ///< first unconsumed byte in buffer_
  std::size_t end_bytes_ = 0;     ///< bytes read into buffer_
  uint64_t consumed_offset_ = 0;  ///< file offset of buffer_[begin_]
  uint64_t last_payload_offset_ = 0;
  bool eof_ = false;
  bool done_ = false;
  SpoolEnd end_ = SpoolEnd::Clean;
  std::optional<media::SpoolHeader> header_;
};

/// A record with its payload copied.
struct StoredSpoolRecord {
  int64_t arrival_epoch_us = 0;
  media::SeqNum seq;
  media::RtpTimestamp timestamp;
  media::Ssrc ssrc;
  uint8_t payload_type = 0;
  bool marker = false;
  media::SpoolRecordKind kind = media::SpoolRecordKind::Rtp;
  std::vector<std::byte> payload;
};

/// A whole spool in memory (for small spools, tests and tools; the renderer streams).
struct SpoolContents {
  std::optional<media::SpoolHeader> header;
  std::vector<StoredSpoolRecord> records;
  SpoolEnd end = SpoolEnd::Clean;
  uint64_t valid_bytes = 0;
};

/// Reads every valid record of `path`; fails as SpoolReader::open does (a missing file is
/// an error here; see SpoolReader::openIfPresent).
[[nodiscard]] Result<SpoolContents> readSpool(const std::filesystem::path& path);

}  // namespace siprecd::recording
