#pragma once

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>

#include "base/unique_fd.hpp"

/// Small helpers of the storage module's file handling (UniqueFd comes from base).
namespace siprecd::storage {

/// Buffer size of file copies and digests.
inline constexpr std::size_t kCopyBufferBytes = 1 << 20;

/// "<what> <path>: <strerror(errno)>"; call right after the failing system call.
inline std::string systemErrorMessage(std::string_view what, const std::filesystem::path& path) {
  const int error = errno;
  return std::string(what) + " " + path.string() + ": " + std::strerror(error);
}

}  // namespace siprecd::storage
