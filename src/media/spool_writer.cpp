#include "media/spool_writer.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

namespace siprecd::media {

namespace {

constexpr std::size_t kMaxParts = 3;

std::string errnoText(const char* what, const std::filesystem::path& path) {
  return std::string(what) + " " + path.string() + ": " + std::strerror(errno);
}

}  // namespace

Result<SpoolWriter> SpoolWriter::create(const std::filesystem::path& path,
                                        const SpoolHeader& header, std::size_t buffer_bytes) {
  auto encoded = encodeSpoolHeader(header);
  if (!encoded) {
    return tl::unexpected(
        Error{"spool " + path.string() + ": " + encoded.error().message, encoded.error().code});
  }
  return SpoolWriter(path, std::move(*encoded), std::max<std::size_t>(buffer_bytes, 4096));
}

SpoolWriter::SpoolWriter(std::filesystem::path path, std::vector<std::byte> header,
                         std::size_t buffer_bytes)
    : path_(std::move(path)),
      directory_(path_.parent_path()),
      header_(std::move(header)),
      buffer_(buffer_bytes) {}

SpoolWriter::SpoolWriter(SpoolWriter&& other) noexcept
    : path_(std::move(other.path_)),
      directory_(std::move(other.directory_)),
      header_(std::move(other.header_)),
      fd_(std::move(other.fd_)),
      buffer_(std::move(other.buffer_)),
      buffered_bytes_(std::exchange(other.buffered_bytes_, 0)),
      buffered_records_(std::exchange(other.buffered_records_, 0)),
      finished_(std::exchange(other.finished_, true)),
      stats_(other.stats_) {}

SpoolWriter& SpoolWriter::operator=(SpoolWriter&& other) noexcept {
  if (this != &other) {
    if (buffered_records_ != 0 && !finished_) {
      flush();
    }
    path_ = std::move(other.path_);
    directory_ = std::move(other.directory_);
    header_ = std::move(other.header_);
    fd_ = std::move(other.fd_);
    buffer_ = std::move(other.buffer_);
    buffered_bytes_ = std::exchange(other.buffered_bytes_, 0);
    buffered_records_ = std::exchange(other.buffered_records_, 0);
    finished_ = std::exchange(other.finished_, true);
    stats_ = other.stats_;
  }
  return *this;
}

SpoolWriter::~SpoolWriter() {
  if (buffered_records_ != 0 && !finished_) {
    flush();
  }
}

void SpoolWriter::append(const SpoolRecord& record) {
  const std::size_t record_bytes = spoolRecordBytes(record.payload.size());
  if (record_bytes > buffer_.size() - buffered_bytes_) {
    flush();
  }
  if (record_bytes <= buffer_.size()) {
    encodeSpoolRecord(record, std::span(buffer_).subspan(buffered_bytes_, record_bytes));
    buffered_bytes_ += record_bytes;
    ++buffered_records_;
    return;
  }
  // Larger than the whole buffer (the buffer is empty now): prefix, payload and CRC are
  // written straight from the caller's bytes.
  std::array<std::byte, kSpoolRecordPrefixBytes> prefix{};
  encodeSpoolRecordPrefix(record, prefix);
  std::array<std::byte, kSpoolRecordCrcBytes> crc{};
  const uint32_t value = crc32(record.payload, crc32(prefix));
  for (std::size_t i = 0; i < crc.size(); ++i) {
    crc[i] = static_cast<std::byte>(value >> (24 - 8 * i));
  }
  const std::array<std::span<const std::byte>, 3> parts = {
      std::span<const std::byte>(prefix), record.payload, std::span<const std::byte>(crc)};
  if (ensureFile() && writeAt(parts)) {
    ++stats_.records_written;
  } else {
    ++stats_.records_dropped;
  }
}

void SpoolWriter::flush() {
  if (buffered_bytes_ == 0) {
    return;
  }
  const std::array<std::span<const std::byte>, 1> parts = {
      std::span<const std::byte>(buffer_).first(buffered_bytes_)};
  if (ensureFile() && writeAt(parts)) {
    stats_.records_written += buffered_records_;
  } else {
    stats_.records_dropped += buffered_records_;
  }
  buffered_bytes_ = 0;
  buffered_records_ = 0;
}

Result<void> SpoolWriter::finish() {
  flush();
  finished_ = true;
  bool sync_failed = false;
  if (fd_.valid() && ::fdatasync(fd_.get()) != 0) {
    ++stats_.write_errors;
    sync_failed = true;
  }
  const std::string sync_error = sync_failed ? errnoText("cannot fdatasync spool", path_) : "";
  fd_.reset();
  if (sync_failed) {
    return fail(sync_error);
  }
  if (stats_.write_errors != 0) {
    return fail("spool " + path_.string() + " lost " + std::to_string(stats_.records_dropped) +
                " records to " + std::to_string(stats_.write_errors) + " write errors");
  }
  return {};
}

bool SpoolWriter::ensureFile() {
  if (fd_.valid()) {
    return true;
  }
  // Most streams of a session share the directory: try the file first, and create the
  // directory only when it is missing.
  UniqueFd fd(::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640));
  if (!fd.valid() && errno == ENOENT && !directory_.empty()) {
    if (::mkdir(directory_.c_str(), 0750) != 0 && errno != EEXIST) {
      ++stats_.write_errors;
      return false;
    }
    fd.reset(::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640));
  }
  if (!fd.valid()) {
    ++stats_.write_errors;
    return false;
  }
  fd_ = std::move(fd);
  stats_.bytes_written = 0;
  const std::array<std::span<const std::byte>, 1> parts = {std::span<const std::byte>(header_)};
  if (!writeAt(parts)) {
    // Leave no headerless file behind, so that the next attempt can create it afresh.
    fd_.reset();
    ::unlink(path_.c_str());
    return false;
  }
  return true;
}

bool SpoolWriter::writeAt(std::span<const std::span<const std::byte>> parts) {
  std::array<iovec, kMaxParts> iov{};
  std::size_t count = 0;
  std::size_t total = 0;
  for (const auto& part : parts) {
    if (!part.empty() && count < kMaxParts) {
      // pwritev only reads through iov_base; the cast drops const for the C interface.
      iov[count++] = iovec{const_cast<std::byte*>(part.data()), part.size()};
      total += part.size();
    }
  }
  std::size_t done = 0;
  std::size_t first = 0;
  while (done < total) {
    const ssize_t written = ::pwritev(fd_.get(), &iov[first], static_cast<int>(count - first),
                                      static_cast<off_t>(stats_.bytes_written + done));
    if (written < 0 && errno == EINTR) {
      continue;
    }
    if (written <= 0) {
      ++stats_.write_errors;
      // Cut back to the last whole record so that later records stay readable.
      if (::ftruncate(fd_.get(), static_cast<off_t>(stats_.bytes_written)) != 0) {
        ++stats_.write_errors;
      }
      return false;
    }
    done += static_cast<std::size_t>(written);
    std::size_t advance = static_cast<std::size_t>(written);
    while (first < count && advance >= iov[first].iov_len) {
      advance -= iov[first].iov_len;
      ++first;
    }
    if (first < count) {
      iov[first].iov_base = static_cast<std::byte*>(iov[first].iov_base) + advance;
      iov[first].iov_len -= advance;
    }
  }
  stats_.bytes_written += total;
  return true;
}

}  // namespace siprecd::media
