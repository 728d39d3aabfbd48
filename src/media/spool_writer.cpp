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

SpoolSync::SpoolSync(std::weak_ptr<const UniqueFd> file, uint64_t device,
                     std::shared_ptr<State> state, bool sync_directory)
    : file_(std::move(file)),
      device_(device),
      state_(std::move(state)),
      sync_directory_(sync_directory) {}

SpoolSync& SpoolSync::operator=(SpoolSync&& other) noexcept {
  if (this != &other) {
    if (state_) {
      state_->in_flight.store(false);
    }
    file_ = std::move(other.file_);
    device_ = other.device_;
    state_ = std::move(other.state_);
    sync_directory_ = other.sync_directory_;
  }
  return *this;
}

SpoolSync::~SpoolSync() {
  if (state_) {
    state_->in_flight.store(false);
  }
}

void SpoolSync::complete(bool directory_synced) {
  if (directory_synced) {
    state_->directory_synced.store(true);
  }
  state_->in_flight.store(false);
  state_.reset();
  file_.reset();
}

void SpoolSync::run() {
  if (!state_) {
    return;
  }
  // Held only while syncing, so that the writer may close the file meanwhile.
  const std::shared_ptr<const UniqueFd> file = file_.lock();
  if (!file) {
    complete(false);  // closed by the writer, whose finish() synced it
    return;
  }
  if (::fdatasync(file->get()) != 0) {
    state_->errors.fetch_add(1);
  }
  bool directory_synced = false;
  if (sync_directory_) {
    const std::filesystem::path& directory = state_->directory;
    UniqueFd dir(
        ::open(directory.empty() ? "." : directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    directory_synced = dir.valid() && ::fsync(dir.get()) == 0;
    if (!directory_synced) {
      state_->errors.fetch_add(1);
    }
  }
  complete(directory_synced);
}

void SpoolSync::runBatch(std::span<SpoolSync> syncs) {
  // Group by file system; a group is synced by the first of its files still open.
  std::sort(syncs.begin(), syncs.end(),
            [](const SpoolSync& a, const SpoolSync& b) { return a.device_ < b.device_; });
  std::size_t first = 0;
  while (first < syncs.size()) {
    std::size_t end = first + 1;
    while (end < syncs.size() && syncs[end].device_ == syncs[first].device_) {
      ++end;
    }
    const auto group = syncs.subspan(first, end - first);
    first = end;
    if (group.size() == 1) {
      group.front().run();
      continue;
    }
    std::shared_ptr<const UniqueFd> file;
    for (const SpoolSync& sync : group) {
      if (sync.state_ && (file = sync.file_.lock())) {
        break;
      }
    }
    // syncfs(2) writes back the file system's dirty data and metadata (directory entries
    // included) and, since Linux 5.8, reports writeback errors of the file system.
    const bool any_open = file != nullptr;
    const bool synced = any_open && ::syncfs(file->get()) == 0;
    file.reset();
    for (SpoolSync& sync : group) {
      if (!sync.state_) {
        continue;
      }
      if (any_open && !synced) {
        sync.state_->errors.fetch_add(1);
      }
      sync.complete(synced);
    }
  }
}

Result<SpoolWriter> SpoolWriter::create(const std::filesystem::path& path,
                                        const SpoolHeader& header,
                                        const SpoolWriterSettings& settings) {
  auto encoded = encodeSpoolHeader(header);
  if (!encoded) {
    return tl::unexpected(
        Error{"spool " + path.string() + ": " + encoded.error().message, encoded.error().code});
  }
  return SpoolWriter(path, std::move(*encoded), settings);
}

Result<SpoolWriter> SpoolWriter::create(const std::filesystem::path& path,
                                        const SpoolHeader& header, std::size_t buffer_bytes) {
  SpoolWriterSettings settings;
  settings.buffer_bytes = buffer_bytes;
  return create(path, header, settings);
}

Result<SpoolWriter> SpoolWriter::adopt(UniqueFd file, const std::filesystem::path& path,
                                       const SpoolHeader& header,
                                       const SpoolWriterSettings& settings) {
  if (!file.valid()) {
    return fail("spool " + path.string() + ": no open file to adopt");
  }
  auto writer = create(path, header, settings);
  if (writer) {
    writer->setFile(std::move(file));
    writer->adopted_ = true;
  }
  return writer;
}

SpoolWriter::SpoolWriter(std::filesystem::path path, std::vector<std::byte> header,
                         const SpoolWriterSettings& settings)
    : path_(std::move(path)),
      directory_(path_.parent_path()),
      header_(std::move(header)),
      flush_interval_(std::max(settings.flush_interval, std::chrono::milliseconds(1))),
      sync_state_(std::make_shared<SpoolSync::State>(directory_)),
      buffer_(std::max<std::size_t>(settings.buffer_bytes, 4096)) {}

SpoolWriter::SpoolWriter(SpoolWriter&& other) noexcept
    : path_(std::move(other.path_)),
      directory_(std::move(other.directory_)),
      header_(std::move(other.header_)),
      flush_interval_(other.flush_interval_),
      file_(std::move(other.file_)),
      device_(other.device_),
      header_written_(other.header_written_),
      adopted_(other.adopted_),
      next_periodic_flush_(other.next_periodic_flush_),
      synced_bytes_(other.synced_bytes_),
      sync_state_(std::move(other.sync_state_)),
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
    flush_interval_ = other.flush_interval_;
    file_ = std::move(other.file_);
    device_ = other.device_;
    header_written_ = other.header_written_;
    adopted_ = other.adopted_;
    next_periodic_flush_ = other.next_periodic_flush_;
    synced_bytes_ = other.synced_bytes_;
    sync_state_ = std::move(other.sync_state_);
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

std::optional<SpoolSync> SpoolWriter::periodicFlush(std::chrono::steady_clock::time_point now) {
  if (finished_ || !sync_state_) {
    return std::nullopt;
  }
  if (!next_periodic_flush_) {
    next_periodic_flush_ = now + flush_interval_;
    return std::nullopt;
  }
  if (now < *next_periodic_flush_) {
    return std::nullopt;
  }
  next_periodic_flush_ = now + flush_interval_;
  flush();
  if (!file_ || !header_written_ || sync_state_->in_flight.load()) {
    return std::nullopt;
  }
  const bool sync_directory = !adopted_ && !sync_state_->directory_synced.load();
  if (stats_.bytes_written == synced_bytes_ && !sync_directory) {
    return std::nullopt;
  }
  synced_bytes_ = stats_.bytes_written;
  sync_state_->in_flight.store(true);
  return SpoolSync(file_, device_, sync_state_, sync_directory);
}

Result<void> SpoolWriter::finish() {
  flush();
  finished_ = true;
  std::string sync_error;
  if (file_) {
    if (::fdatasync(fd()) != 0) {
      ++stats_.write_errors;
      sync_error = errnoText("cannot fdatasync spool", path_);
    } else if (!adopted_ && header_written_ && sync_state_ &&
               !sync_state_->directory_synced.load()) {
      if (syncDirectory()) {
        sync_state_->directory_synced.store(true);
      } else {
        ++stats_.write_errors;
        sync_error = errnoText("cannot fsync spool directory of", path_);
      }
    }
  }
  file_.reset();
  if (!sync_error.empty()) {
    return fail(sync_error);
  }
  const SpoolWriterStats totals = stats();
  if (totals.write_errors != 0) {
    return fail("spool " + path_.string() + " lost " + std::to_string(totals.records_dropped) +
                " records to " + std::to_string(totals.write_errors) + " write errors");
  }
  return {};
}

SpoolWriterStats SpoolWriter::stats() const {
  SpoolWriterStats totals = stats_;
  if (sync_state_) {
    totals.write_errors += sync_state_->errors.load();
  }
  return totals;
}

bool SpoolWriter::syncDirectory() const {
  UniqueFd dir(
      ::open(directory_.empty() ? "." : directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  return dir.valid() && ::fsync(dir.get()) == 0;
}

void SpoolWriter::setFile(UniqueFd file) {
  struct stat status {};
  device_ = ::fstat(file.get(), &status) == 0 ? static_cast<uint64_t>(status.st_dev) : 0;
  file_ = std::make_shared<const UniqueFd>(std::move(file));
}

bool SpoolWriter::ensureFile() {
  if (file_ && header_written_) {
    return true;
  }
  if (adopted_) {
    const std::array<std::span<const std::byte>, 1> parts = {std::span<const std::byte>(header_)};
    header_written_ = file_ && writeAt(parts);
    return header_written_;
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
  setFile(std::move(fd));
  stats_.bytes_written = 0;
  const std::array<std::span<const std::byte>, 1> parts = {std::span<const std::byte>(header_)};
  if (!writeAt(parts)) {
    // Leave no headerless file behind, so that the next attempt can create it afresh.
    file_.reset();
    ::unlink(path_.c_str());
    return false;
  }
  header_written_ = true;
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
    const ssize_t written = ::pwritev(fd(), &iov[first], static_cast<int>(count - first),
                                      static_cast<off_t>(stats_.bytes_written + done));
    if (written < 0 && errno == EINTR) {
      continue;
    }
    if (written <= 0) {
      ++stats_.write_errors;
      // Cut back to the last whole record so that later records stay readable.
      if (::ftruncate(fd(), static_cast<off_t>(stats_.bytes_written)) != 0) {
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
