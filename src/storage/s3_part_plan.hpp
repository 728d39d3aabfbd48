#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "base/result.hpp"

/// How an object is cut into multipart-upload parts (S3 user guide, "Amazon S3 multipart
/// upload limits").
namespace siprecd::storage {

inline constexpr uint64_t kS3MinPartBytes = 5ULL << 20;       ///< except the last part
inline constexpr uint64_t kS3MaxPartBytes = 5ULL << 30;       ///< 5 GiB
inline constexpr uint64_t kS3MaxSinglePutBytes = 5ULL << 30;  ///< 5 GiB
inline constexpr uint64_t kS3MaxObjectBytes = 5ULL << 40;     ///< 5 TiB
inline constexpr uint32_t kS3MaxParts = 10'000;

/// One part: S3 numbers them from 1.
struct S3Part {
  uint32_t number = 1;
  uint64_t offset = 0;  ///< bytes into the file
  uint64_t size = 0;    ///< bytes
};

/// Whether an object of `size_bytes` goes up as a multipart upload: at or above
/// `threshold_bytes`, or beyond what one PUT may carry.
bool useMultipartUpload(uint64_t size_bytes, uint64_t threshold_bytes);

/// Cuts `size_bytes` into parts of `part_size_bytes` (raised to kS3MinPartBytes, and raised
/// further, in whole MiB, when more than kS3MaxParts parts would be needed); the last part
/// takes the rest. An empty object is one empty part. Fails when the object exceeds
/// kS3MaxObjectBytes.
Result<std::vector<S3Part>> planParts(uint64_t size_bytes, uint64_t part_size_bytes);

/// SHA-256 digests (lower-case hex) of a whole file and of each of its parts.
struct PartDigests {
  std::string file_sha256;
  uint64_t file_size = 0;
  std::vector<std::string> part_sha256;  ///< one per part, in order
};

/// Reads `file` once, hashing the whole and each of `parts` (which must tile the file in
/// order, as planParts() makes them). Fails naming the file on an I/O error or when the
/// file's size differs from the plan's. Blocking.
Result<PartDigests> digestParts(const std::filesystem::path& file,
                                const std::vector<S3Part>& parts);

}  // namespace siprecd::storage
