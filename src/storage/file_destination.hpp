#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "storage/destination.hpp"

namespace siprecd::storage {

struct FileDestinationSettings {
  /// Root directory (made absolute at construction; created with dir_mode when missing).
  /// The root itself may be a symbolic link (the operator's choice); nothing below it is
  /// followed.
  std::filesystem::path root;
  unsigned file_mode = 0640;  ///< permissions of stored files (exactly, regardless of umask)
  unsigned dir_mode = 0750;   ///< permissions of directories it creates
};

/// A directory on local or mounted storage (DESIGN.md §2 `file`). put() copies the file to
/// root/key: every directory below the root is opened with openat(O_NOFOLLOW | O_DIRECTORY)
/// one component at a time (created with mkdirat when missing), so neither ".." nor a
/// symbolic link planted inside the root can lead outside it; the copy is written to a
/// temporary name in the target directory (O_EXCL | O_NOFOLLOW), its SHA-256 computed on the
/// way, fsynced, renamed over the key (renameat replaces a link at the key instead of
/// following it) and the directory fsynced, so the key shows either the old or the complete
/// new content. Location: "file://" + the absolute path, percent-encoded. Thread-safe
/// (no mutable state); blocking.
class FileDestination final : public Destination {
 public:
  explicit FileDestination(FileDestinationSettings settings);

  std::string_view kind() const override { return "file"; }
  /// Fails (naming the key and the system error) when the key is unsafe (checkKey), a
  /// component below the root is a symbolic link or not a directory, or any I/O fails; the
  /// temporary file is removed on failure.
  Result<StoredObject> put(const std::filesystem::path& file, std::string_view key,
                           std::string_view content_type) override;

  const std::filesystem::path& root() const { return settings_.root; }

 private:
  FileDestinationSettings settings_;
};

/// "file://" + `path` with every byte outside RFC 3986 unreserved characters and '/'
/// percent-encoded (RFC 8089).
std::string fileUrl(const std::filesystem::path& path);

}  // namespace siprecd::storage
