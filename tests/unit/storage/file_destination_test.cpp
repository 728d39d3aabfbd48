#include "storage/file_destination.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "support/temp_dir.hpp"

namespace siprecd::storage {
namespace {

namespace fs = std::filesystem;
using test_support::TempDir;

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

unsigned modeOf(const fs::path& path) {
  struct stat info {};
  EXPECT_EQ(::lstat(path.c_str(), &info), 0) << path;
  return info.st_mode & 07777;
}

/// Names in `dir` (recursively) that look like a temporary upload.
int temporaryFiles(const fs::path& dir) {
  int count = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.path().filename().string().find(".tmp-") != std::string::npos) {
      ++count;
    }
  }
  return count;
}

class FileDestinationTest : public ::testing::Test {
 protected:
  TempDir temp_;
  fs::path root_ = temp_.path() / "root";
  fs::path source_ = temp_.write("source.wav", "abc");
  FileDestination destination_{FileDestinationSettings{root_, 0640, 0750}};
};

TEST_F(FileDestinationTest, StoresTheFileWithSizeSha256AndLocation) {
  auto stored = destination_.put(source_, "acme/2026-03-04/r1.wav", "audio/wav");
  ASSERT_TRUE(stored) << stored.error().message;
  EXPECT_EQ(readFile(root_ / "acme/2026-03-04/r1.wav"), "abc");
  EXPECT_EQ(stored->size, 3u);
  EXPECT_EQ(stored->sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(stored->location, "file://" + (root_ / "acme/2026-03-04/r1.wav").string());
  EXPECT_EQ(destination_.kind(), "file");
}

TEST_F(FileDestinationTest, EmptyFileHasTheEmptyDigest) {
  auto empty = temp_.write("empty", "");
  auto stored = destination_.put(empty, "e.wav", "audio/wav");
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->size, 0u);
  EXPECT_EQ(stored->sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_F(FileDestinationTest, AppliesFileAndDirectoryModesRegardlessOfUmask) {
  FileDestination destination(FileDestinationSettings{root_, 0604, 0711});
  const mode_t previous = ::umask(077);
  auto stored = destination.put(source_, "a/b/c.wav", "audio/wav");
  ::umask(previous);
  ASSERT_TRUE(stored) << stored.error().message;
  EXPECT_EQ(modeOf(root_ / "a/b/c.wav"), 0604u);
  EXPECT_EQ(modeOf(root_ / "a/b"), 0711u);
  EXPECT_EQ(modeOf(root_ / "a"), 0711u);
  EXPECT_EQ(modeOf(root_), 0711u);
}

TEST_F(FileDestinationTest, ReplacesAnExistingFileWithoutLeavingTemporaries) {
  ASSERT_TRUE(destination_.put(source_, "k.wav", "audio/wav"));
  auto second = temp_.write("second.wav", "second content");
  auto stored = destination_.put(second, "k.wav", "audio/wav");
  ASSERT_TRUE(stored);
  EXPECT_EQ(readFile(root_ / "k.wav"), "second content");
  EXPECT_EQ(temporaryFiles(root_), 0);
}

TEST_F(FileDestinationTest, FailedPutKeepsTheOldContentAndNoTemporary) {
  ASSERT_TRUE(destination_.put(source_, "k.wav", "audio/wav"));
  // A directory as the source opens but cannot be read: the copy fails mid-way.
  auto failed = destination_.put(temp_.path(), "k.wav", "audio/wav");
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().message.find("k.wav"), std::string::npos) << failed.error().message;
  EXPECT_EQ(readFile(root_ / "k.wav"), "abc");
  EXPECT_EQ(temporaryFiles(root_), 0);
}

TEST_F(FileDestinationTest, MissingSourceFails) {
  auto stored = destination_.put(temp_.path() / "nope.wav", "k.wav", "audio/wav");
  ASSERT_FALSE(stored);
  EXPECT_NE(stored.error().message.find("nope.wav"), std::string::npos);
  EXPECT_FALSE(fs::exists(root_ / "k.wav"));
}

TEST_F(FileDestinationTest, RejectsKeysThatLeaveTheRoot) {
  for (const char* key :
       {"../escape.wav", "a/../../escape.wav", "/etc/escape.wav", "a//b.wav", "./a.wav", ""}) {
    auto stored = destination_.put(source_, key, "audio/wav");
    ASSERT_FALSE(stored) << key;
    EXPECT_EQ(stored.error().code, 400) << key;
  }
  EXPECT_FALSE(fs::exists(temp_.path() / "escape.wav"));
}

TEST_F(FileDestinationTest, DoesNotFollowADirectoryLinkInsideTheRoot) {
  const fs::path outside = temp_.path() / "outside";
  fs::create_directories(outside);
  fs::create_directories(root_);
  fs::create_directory_symlink(outside, root_ / "link");
  auto stored = destination_.put(source_, "link/x.wav", "audio/wav");
  ASSERT_FALSE(stored);
  EXPECT_NE(stored.error().message.find("symbolic link"), std::string::npos)
      << stored.error().message;
  EXPECT_TRUE(fs::is_empty(outside));
}

TEST_F(FileDestinationTest, DoesNotFollowALinkDeeperInTheKey) {
  const fs::path outside = temp_.path() / "outside";
  fs::create_directories(outside / "sub");
  fs::create_directories(root_ / "a");
  fs::create_directory_symlink(outside, root_ / "a" / "b");
  EXPECT_FALSE(destination_.put(source_, "a/b/sub/x.wav", "audio/wav"));
  EXPECT_TRUE(fs::is_empty(outside / "sub"));
}

TEST_F(FileDestinationTest, ReplacesALinkAtTheKeyInsteadOfWritingThroughIt) {
  const fs::path victim = temp_.write("victim", "keep me");
  fs::create_directories(root_);
  fs::create_symlink(victim, root_ / "k.wav");
  auto stored = destination_.put(source_, "k.wav", "audio/wav");
  ASSERT_TRUE(stored) << stored.error().message;
  EXPECT_EQ(readFile(victim), "keep me");
  EXPECT_FALSE(fs::is_symlink(root_ / "k.wav"));
  EXPECT_EQ(readFile(root_ / "k.wav"), "abc");
}

TEST_F(FileDestinationTest, FailsWhenAPathComponentIsAFile) {
  fs::create_directories(root_);
  temp_.write("root/plain", "x");
  EXPECT_FALSE(destination_.put(source_, "plain/x.wav", "audio/wav"));
}

TEST_F(FileDestinationTest, RootMayItselfBeALink) {
  const fs::path real = temp_.path() / "real-root";
  fs::create_directories(real);
  fs::create_directory_symlink(real, temp_.path() / "linked-root");
  FileDestination destination(FileDestinationSettings{temp_.path() / "linked-root", 0640, 0750});
  ASSERT_TRUE(destination.put(source_, "x/y.wav", "audio/wav"));
  EXPECT_EQ(readFile(real / "x/y.wav"), "abc");
}

TEST_F(FileDestinationTest, LocationIsPercentEncoded) {
  FileDestination destination(FileDestinationSettings{temp_.path() / "with space", 0640, 0750});
  auto stored = destination.put(source_, "a+b.wav", "audio/wav");
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->location, fileUrl(temp_.path() / "with space" / "a+b.wav"));
  EXPECT_NE(stored->location.find("with%20space/a%2Bb.wav"), std::string::npos);
}

TEST_F(FileDestinationTest, RelativeRootIsMadeAbsolute) {
  FileDestination destination(FileDestinationSettings{"relative/dir", 0640, 0750});
  EXPECT_TRUE(destination.root().is_absolute());
}

}  // namespace
}  // namespace siprecd::storage
