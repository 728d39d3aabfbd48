#include "storage/file_destination.hpp"

#include <cerrno>
#include <system_error>
#include <vector>

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/random.hpp"
#include "base/strings.hpp"
#include "storage/file_io.hpp"
#include "storage/key_template.hpp"
#include "storage/sha256.hpp"

namespace siprecd::storage {
namespace {

constexpr int kDirectoryFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

std::string failure(std::string_view key, std::string_view what) {
  return fmt::format("file destination, key '{}': {}", key, what);
}

std::string systemFailure(std::string_view key, std::string_view what, std::string_view name) {
  const int error = errno;
  return failure(key, fmt::format("{} '{}': {}", what, name, std::strerror(error)));
}

/// Opens (creating when missing) the root directory. The root may itself be a link.
Result<UniqueFd> openRoot(const std::filesystem::path& root, unsigned dir_mode) {
  UniqueFd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd && errno == ENOENT) {
    std::error_code error;
    if (std::filesystem::create_directories(root, error)) {
      std::filesystem::permissions(root, static_cast<std::filesystem::perms>(dir_mode), error);
    }
    if (error) {
      return fail(fmt::format("file destination: cannot create root {}: {}", root.string(),
                              error.message()));
    }
    fd.reset(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  }
  if (!fd) {
    return fail("file destination: " + systemErrorMessage("cannot open root", root));
  }
  return fd;
}

/// Writes all of `bytes` to `fd`.
bool writeAll(int fd, const std::byte* bytes, std::size_t size) {
  std::size_t written = 0;
  while (written < size) {
    const ssize_t n = ::write(fd, bytes + written, size - written);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    written += static_cast<std::size_t>(n);
  }
  return true;
}

/// Removes the temporary file unless released (after the rename).
class TemporaryName {
 public:
  TemporaryName(int directory, std::string name) : directory_(directory), name_(std::move(name)) {}
  ~TemporaryName() {
    if (!name_.empty()) {
      ::unlinkat(directory_, name_.c_str(), 0);
    }
  }
  TemporaryName(const TemporaryName&) = delete;
  TemporaryName& operator=(const TemporaryName&) = delete;
  const std::string& name() const { return name_; }
  void release() { name_.clear(); }

 private:
  int directory_;
  std::string name_;
};

}  // namespace

std::string fileUrl(const std::filesystem::path& path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string url = "file://";
  for (char c : path.string()) {
    const auto byte = static_cast<unsigned char>(c);
    const bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
    if (plain) {
      url.push_back(c);
    } else {
      url.push_back('%');
      url.push_back(kHex[byte >> 4]);
      url.push_back(kHex[byte & 0x0f]);
    }
  }
  return url;
}

FileDestination::FileDestination(FileDestinationSettings settings)
    : settings_(std::move(settings)) {
  std::error_code ignored;
  auto absolute = std::filesystem::absolute(settings_.root, ignored);
  if (!absolute.empty()) {
    settings_.root = absolute.lexically_normal();
  }
}

Result<StoredObject> FileDestination::put(const std::filesystem::path& file, std::string_view key,
                                          std::string_view /*content_type*/) {
  if (auto checked = checkKey(key); !checked) {
    return fail(failure(key, checked.error().message), 400);
  }
  UniqueFd source(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!source) {
    return fail(failure(key, systemErrorMessage("cannot open", file)));
  }
  auto root = openRoot(settings_.root, settings_.dir_mode);
  if (!root) {
    return tl::unexpected(root.error());
  }

  // Walk the key's directories one component at a time, never following a link. Each
  // directory that gains an entry (a created subdirectory, then the file) is fsynced.
  const std::vector<std::string_view> segments = split(key, '/');
  std::vector<UniqueFd> chain;
  chain.push_back(std::move(*root));
  std::vector<int> to_sync;
  for (std::size_t i = 0; i + 1 < segments.size(); ++i) {
    const std::string name(segments[i]);
    const int parent = chain.back().get();
    UniqueFd next(::openat(parent, name.c_str(), kDirectoryFlags));
    if (!next && errno == ENOENT) {
      if (::mkdirat(parent, name.c_str(), settings_.dir_mode) == 0) {
        next.reset(::openat(parent, name.c_str(), kDirectoryFlags));
        if (next && ::fchmod(next.get(), settings_.dir_mode) != 0) {
          return fail(systemFailure(key, "cannot set the mode of directory", name));
        }
        to_sync.push_back(parent);
      } else if (errno == EEXIST) {  // created by a concurrent put
        next.reset(::openat(parent, name.c_str(), kDirectoryFlags));
      } else {
        return fail(systemFailure(key, "cannot create directory", name));
      }
    }
    if (!next) {
      if (errno == ELOOP || errno == ENOTDIR) {
        return fail(failure(key, fmt::format("'{}' is a symbolic link or not a directory (links "
                                             "below the root are never followed)",
                                             name)));
      }
      return fail(systemFailure(key, "cannot open directory", name));
    }
    chain.push_back(std::move(next));
  }
  const int directory = chain.back().get();
  const std::string name(segments.back());
  TemporaryName temporary(directory,
                          fmt::format(".{}.tmp-{}", name.substr(0, 200), randomToken(8)));
  UniqueFd target(::openat(directory, temporary.name().c_str(),
                           O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                           settings_.file_mode));
  if (!target) {
    temporary.release();  // nothing was created
    return fail(systemFailure(key, "cannot create", temporary.name()));
  }
  if (::fchmod(target.get(), settings_.file_mode) != 0) {
    return fail(systemFailure(key, "cannot set the mode of", temporary.name()));
  }

  Sha256 sha;
  StoredObject stored;
  std::vector<std::byte> buffer(kCopyBufferBytes);
  for (;;) {
    const ssize_t n = ::read(source.get(), buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return fail(failure(key, systemErrorMessage("cannot read", file)));
    }
    if (n == 0) {
      break;
    }
    const auto size = static_cast<std::size_t>(n);
    sha.update(std::span(buffer.data(), size));
    if (!writeAll(target.get(), buffer.data(), size)) {
      return fail(systemFailure(key, "cannot write", temporary.name()));
    }
    stored.size += size;
  }
  if (::fsync(target.get()) != 0) {
    return fail(systemFailure(key, "cannot fsync", temporary.name()));
  }
  if (target.close() != 0) {
    return fail(systemFailure(key, "cannot close", temporary.name()));
  }
  if (::renameat(directory, temporary.name().c_str(), directory, name.c_str()) != 0) {
    return fail(systemFailure(key, "cannot rename the temporary file to", name));
  }
  temporary.release();
  to_sync.push_back(directory);
  for (int fd : to_sync) {
    if (::fsync(fd) != 0) {
      return fail(systemFailure(key, "cannot fsync the directory of", name));
    }
  }
  stored.sha256 = sha.finishHex();
  stored.location = fileUrl(settings_.root / std::filesystem::path(std::string(key)));
  return stored;
}

}  // namespace siprecd::storage
