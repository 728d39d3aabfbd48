#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

#include "base/result.hpp"

namespace siprecd::storage {

/// An incremental SHA-256 (OpenSSL EVP). One owner thread; not copyable.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::span<const std::byte> bytes);
  /// The digest of everything added, as lower-case hex; the object is spent afterwards.
  std::string finishHex();

 private:
  struct Context;
  std::unique_ptr<Context> context_;
};

/// SHA-256 of a whole file as lower-case hex, with its size in bytes. Blocking.
struct FileDigest {
  std::string sha256;
  uint64_t size = 0;
};
/// Fails naming the file and the system error.
Result<FileDigest> sha256OfFile(const std::filesystem::path& file);

}  // namespace siprecd::storage
