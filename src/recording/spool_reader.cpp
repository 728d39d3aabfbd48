#include "recording/spool_reader.hpp"

#include <cerrno>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <unistd.h>

namespace siprecd::recording {

namespace {

constexpr std::size_t kInitialBufferBytes =
    2 * media::spoolRecordBytes(media::kSpoolMaxPayloadBytes);

}  // namespace

Result<SpoolReader> SpoolReader::open(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return fail("cannot open spool " + path.string() + ": " + std::strerror(errno));
  }
  return readHeader(SpoolReader(path, std::move(fd)));
}

Result<std::optional<SpoolReader>> SpoolReader::openIfPresent(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) {
      return std::optional<SpoolReader>();
    }
    return fail("cannot open spool " + path.string() + ": " + std::strerror(errno));
  }
  auto reader = readHeader(SpoolReader(path, std::move(fd)));
  if (!reader) {
    return tl::unexpected(reader.error());
  }
  return std::optional<SpoolReader>(std::move(*reader));
}

Result<SpoolReader> SpoolReader::readHeader(SpoolReader reader) {
  const std::filesystem::path& path = reader.path_;
  while (true) {
    const auto bytes = std::span<const std::byte>(reader.buffer_)
                           .subspan(reader.begin_, reader.end_bytes_ - reader.begin_);
    auto decoded = media::decodeSpoolHeader(bytes);
    if (decoded.status == media::SpoolDecodeStatus::Ok) {
      reader.header_ = std::move(decoded.value);
      reader.begin_ += decoded.bytes;
      reader.consumed_offset_ += decoded.bytes;
      return reader;
    }
    if (decoded.status == media::SpoolDecodeStatus::Corrupt) {
      return fail("spool " + path.string() + ": " + decoded.error);
    }
    if (!reader.fill(decoded.bytes)) {
      if (reader.end_ == SpoolEnd::ReadError) {
        return fail("cannot read spool " + path.string() + ": " + std::strerror(errno));
      }
      reader.done_ = true;
      reader.end_ = bytes.empty() ? SpoolEnd::Clean : SpoolEnd::TornTail;
      return reader;
    }
  }
}

SpoolReader::SpoolReader(std::filesystem::path path, UniqueFd fd)
    : path_(std::move(path)), fd_(std::move(fd)), buffer_(kInitialBufferBytes) {}

std::optional<media::SpoolRecord> SpoolReader::next() {
  while (!done_) {
    const auto bytes = std::span<const std::byte>(buffer_).subspan(begin_, end_bytes_ - begin_);
    if (bytes.empty() && eof_) {
      break;
    }
    auto decoded = media::decodeSpoolRecord(bytes);
    if (decoded.status == media::SpoolDecodeStatus::Ok) {
      last_payload_offset_ = consumed_offset_ + media::kSpoolRecordPrefixBytes;
      begin_ += decoded.bytes;
      consumed_offset_ += decoded.bytes;
      return decoded.value;
    }
    if (decoded.status == media::SpoolDecodeStatus::Corrupt) {
      end_ = SpoolEnd::Corrupt;
      done_ = true;
      break;
    }
    if (!fill(decoded.bytes)) {
      if (end_ != SpoolEnd::ReadError) {
        end_ = bytes.empty() ? SpoolEnd::Clean : SpoolEnd::TornTail;
      }
      done_ = true;
    }
  }
  done_ = true;
  return std::nullopt;
}

bool SpoolReader::fill(std::size_t needed) {
  if (eof_) {
    return false;
  }
  // Keep the unconsumed bytes, moved to the front.
  const std::size_t kept = end_bytes_ - begin_;
  if (begin_ != 0 && kept != 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, kept);
  }
  begin_ = 0;
  end_bytes_ = kept;
  if (needed > buffer_.size()) {
    buffer_.resize(needed);
  }
  const std::size_t before = end_bytes_;
  while (end_bytes_ < buffer_.size()) {
    const ssize_t got = ::read(fd_.get(), buffer_.data() + end_bytes_, buffer_.size() - end_bytes_);
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got < 0) {
      end_ = SpoolEnd::ReadError;
      eof_ = true;
      return false;
    }
    if (got == 0) {
      eof_ = true;
      break;
    }
    end_bytes_ += static_cast<std::size_t>(got);
  }
  return end_bytes_ > before;
}

Result<SpoolContents> readSpool(const std::filesystem::path& path) {
  auto reader = SpoolReader::open(path);
  if (!reader) {
    return tl::unexpected(reader.error());
  }
  SpoolContents contents;
  contents.header = reader->header();
  while (auto record = reader->next()) {
    StoredSpoolRecord stored;
    stored.arrival_epoch_us = record->arrival_epoch_us;
    stored.seq = record->seq;
    stored.timestamp = record->timestamp;
    stored.ssrc = record->ssrc;
    stored.payload_type = record->payload_type;
    stored.marker = record->marker;
    stored.kind = record->kind;
    stored.payload.assign(record->payload.begin(), record->payload.end());
    contents.records.push_back(std::move(stored));
  }
  contents.end = reader->end();
  contents.valid_bytes = reader->validBytes();
  return contents;
}

}  // namespace siprecd::recording
