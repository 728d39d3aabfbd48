#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.hpp"

/// Where STORERECORDING puts a rendered recording (DESIGN.md §2 "Destinations").
namespace siprecd::storage {

/// What a completed store reports (RECORDINGSTORED).
struct StoredObject {
  std::string location;  ///< "file:///srv/rec/a.wav", "s3://bucket/key", the URL without query
  uint64_t size = 0;     ///< bytes
  std::string sha256;    ///< lower-case hex of the content
};

/// Labels stored with an object where the kind supports them (S3 object tags), in order:
/// {{"domain", "acme"}, {"recordingId", "..."}}.
using ObjectTags = std::vector<std::pair<std::string, std::string>>;

/// One configured destination. Blocking: called on the worker pool. Thread-safe.
class Destination {
 public:
  virtual ~Destination() = default;
  /// "file", "s3" or "http".
  virtual std::string_view kind() const = 0;
  /// Stores the local `file` under `key` (a relative path/object key already expanded from
  /// the template and checked by the caller; for `http` the pre-signed URL). Fails with a
  /// message naming the destination and the cause (e.g. the S3 error code); never leaves a
  /// partial object visible under `key`.
  virtual Result<StoredObject> put(const std::filesystem::path& file, std::string_view key,
                                   std::string_view content_type) = 0;
  /// put() that also attaches `tags` where the kind keeps them (s3); the default ignores
  /// them and calls put().
  virtual Result<StoredObject> putTagged(const std::filesystem::path& file, std::string_view key,
                                         std::string_view content_type, const ObjectTags& tags) {
    (void)tags;
    return put(file, key, content_type);
  }
};

}  // namespace siprecd::storage
