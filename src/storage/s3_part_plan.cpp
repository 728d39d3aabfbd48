#include "storage/s3_part_plan.hpp"

#include <algorithm>
#include <cerrno>
#include <span>

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "storage/file_io.hpp"
#include "storage/sha256.hpp"

namespace siprecd::storage {

bool useMultipartUpload(uint64_t size_bytes, uint64_t threshold_bytes) {
  return size_bytes >= threshold_bytes || size_bytes > kS3MaxSinglePutBytes;
}

Result<std::vector<S3Part>> planParts(uint64_t size_bytes, uint64_t part_size_bytes) {
  if (size_bytes > kS3MaxObjectBytes) {
    return fail(fmt::format("{} bytes exceed the S3 object limit of {} bytes", size_bytes,
                            kS3MaxObjectBytes));
  }
  uint64_t part = std::clamp(part_size_bytes, kS3MinPartBytes, kS3MaxPartBytes);
  if ((size_bytes + part - 1) / part > kS3MaxParts) {
    constexpr uint64_t kMiB = 1ULL << 20;
    const uint64_t needed = (size_bytes + kS3MaxParts - 1) / kS3MaxParts;
    part = (needed + kMiB - 1) / kMiB * kMiB;
  }
  std::vector<S3Part> parts;
  uint64_t offset = 0;
  uint32_t number = 1;
  do {
    const uint64_t size = std::min(part, size_bytes - offset);
    parts.push_back(S3Part{number++, offset, size});
    offset += size;
  } while (offset < size_bytes);
  return parts;
}

Result<PartDigests> digestParts(const std::filesystem::path& file,
                                const std::vector<S3Part>& parts) {
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    return fail(systemErrorMessage("cannot open", file));
  }
  PartDigests digests;
  Sha256 whole;
  std::vector<std::byte> buffer(kCopyBufferBytes);
  for (const S3Part& part : parts) {
    Sha256 piece;
    uint64_t left = part.size;
    while (left > 0) {
      const auto want = static_cast<std::size_t>(std::min<uint64_t>(left, buffer.size()));
      const ssize_t n = ::read(fd.get(), buffer.data(), want);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        return fail(systemErrorMessage("cannot read", file));
      }
      if (n == 0) {
        return fail(fmt::format("{} shrank while it was read", file.string()));
      }
      const std::span bytes(buffer.data(), static_cast<std::size_t>(n));
      whole.update(bytes);
      piece.update(bytes);
      left -= static_cast<uint64_t>(n);
      digests.file_size += static_cast<uint64_t>(n);
    }
    digests.part_sha256.push_back(piece.finishHex());
  }
  std::byte extra{};
  if (::read(fd.get(), &extra, 1) != 0) {
    return fail(fmt::format("{} is larger than planned", file.string()));
  }
  digests.file_sha256 = whole.finishHex();
  return digests;
}

}  // namespace siprecd::storage
