#pragma once

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

#include <unistd.h>

namespace siprecd::storage {

/// Owns a POSIX file descriptor (closed on destruction). Movable, not copyable.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset(std::exchange(other.fd_, -1));
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  /// Closes the descriptor now, returning close()'s result (0 when none was open).
  int close() { return fd_ >= 0 ? ::close(std::exchange(fd_, -1)) : 0; }
  void reset(int fd = -1) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

/// Buffer size of file copies and digests.
inline constexpr std::size_t kCopyBufferBytes = 1 << 20;

/// "<what> <path>: <strerror(errno)>"; call right after the failing system call.
inline std::string systemErrorMessage(std::string_view what, const std::filesystem::path& path) {
  const int error = errno;
  return std::string(what) + " " + path.string() + ": " + std::strerror(error);
}

}  // namespace siprecd::storage
