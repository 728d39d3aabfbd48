#pragma once

#include <utility>

#include <unistd.h>

namespace siprecd {

/// Owns a POSIX file descriptor and closes it on destruction. Move-only; -1 means none.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset(std::exchange(other.fd_, -1));
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }
  /// Closes the held descriptor (if any) and takes `fd`; close() errors are ignored.
  void reset(int fd = -1) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = fd;
  }
  /// Closes now and returns close()'s result (0 when none was held), for writers that must
  /// report a failed close (NFS, quota: data lost at close time).
  int close() { return fd_ >= 0 ? ::close(std::exchange(fd_, -1)) : 0; }
  /// Gives up ownership without closing.
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_ = -1;
};

}  // namespace siprecd
