#include "storage/sha256.hpp"

#include <string>

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

namespace siprecd::storage {
namespace {

std::span<const std::byte> bytes(std::string_view text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

TEST(Sha256, MatchesTheFips180Vectors) {
  Sha256 abc;
  abc.update(bytes("abc"));
  EXPECT_EQ(abc.finishHex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 split;
  split.update(bytes("abcdbcdecdefdefgefghfghighijhijk"));
  split.update(bytes("ijkljklmklmnlmnomnopnopq"));
  EXPECT_EQ(split.finishHex(), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, OfFileGivesDigestAndSize) {
  test_support::TempDir temp;
  // Larger than one copy buffer, so the file is read in several blocks.
  const std::string content(3 * 1024 * 1024 + 7, 'a');
  auto digest = sha256OfFile(temp.write("f", content));
  ASSERT_TRUE(digest);
  EXPECT_EQ(digest->size, content.size());
  Sha256 whole;
  whole.update(bytes(content));
  EXPECT_EQ(digest->sha256, whole.finishHex());
}

TEST(Sha256, OfMissingFileFailsNamingIt) {
  auto digest = sha256OfFile("/nonexistent/siprecd/file");
  ASSERT_FALSE(digest);
  EXPECT_NE(digest.error().message.find("/nonexistent/siprecd/file"), std::string::npos);
}

}  // namespace
}  // namespace siprecd::storage
