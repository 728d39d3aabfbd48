#pragma once

#include <cstdint>

#include "base/result.hpp"

namespace siprecd::media {

/// The process's RLIMIT_NOFILE around a raise.
struct OpenFileLimit {
  uint64_t soft_before = 0;  ///< soft limit found
  uint64_t soft = 0;         ///< soft limit now
  uint64_t hard = 0;         ///< hard limit (the ceiling without privileges)
};

/// Raises the soft open-file limit to the hard one (capped at /proc/sys/fs/nr_open when the
/// hard limit is unlimited). Descriptors are the receive engine's budget: each stream holds
/// its RTP socket, its RTCP socket unless rtcp-mux, and its spool file. Fails, saying why,
/// when the limits cannot be read or set (the soft limit then stays as it was). Affects the
/// whole process; call at start-up.
[[nodiscard]] Result<OpenFileLimit> raiseOpenFileLimit();

/// Descriptors the process has open now (entries of /proc/self/fd, the one used to list them
/// excluded), or -1 when they cannot be listed. Thread-safe.
int64_t openDescriptorCount();

}  // namespace siprecd::media
