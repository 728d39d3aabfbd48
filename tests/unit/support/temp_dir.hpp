#pragma once

#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "base/random.hpp"

// Not `siprecd::testing`: unqualified `testing::Test` inside siprecd would then find it.
namespace siprecd::test_support {

/// A fresh directory under the system temp dir, removed with its contents at the end of
/// the test. Shared by every unit-test binary.
class TempDir {
 public:
  TempDir() : path_(std::filesystem::temp_directory_path() / ("siprecd-test-" + randomToken(12))) {
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  /// Writes `text` to the file `name` in the directory and returns its path.
  std::filesystem::path write(const std::string& name, const std::string& text) const {
    const auto file = path_ / name;
    std::ofstream(file, std::ios::binary) << text;
    return file;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace siprecd::test_support
