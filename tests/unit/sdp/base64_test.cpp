#include "sdp/base64.hpp"

#include <gtest/gtest.h>

namespace siprecd::sdp {
namespace {

std::vector<uint8_t> bytesOf(std::string_view text) {
  return std::vector<uint8_t>(text.begin(), text.end());
}

// RFC 4648 §10 test vectors.
TEST(Base64, EncodesRfc4648Vectors) {
  EXPECT_EQ(encodeBase64(bytesOf("")), "");
  EXPECT_EQ(encodeBase64(bytesOf("f")), "Zg==");
  EXPECT_EQ(encodeBase64(bytesOf("fo")), "Zm8=");
  EXPECT_EQ(encodeBase64(bytesOf("foo")), "Zm9v");
  EXPECT_EQ(encodeBase64(bytesOf("foob")), "Zm9vYg==");
  EXPECT_EQ(encodeBase64(bytesOf("fooba")), "Zm9vYmE=");
  EXPECT_EQ(encodeBase64(bytesOf("foobar")), "Zm9vYmFy");
  EXPECT_EQ(encodeBase64(std::vector<uint8_t>{0xFB, 0xFF}), "+/8=");
}

TEST(Base64, DecodesWithAndWithoutPadding) {
  for (std::string_view plain : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    const std::string encoded = encodeBase64(bytesOf(plain));
    EXPECT_EQ(decodeBase64(encoded), bytesOf(plain)) << encoded;
    std::string unpadded = encoded;
    while (!unpadded.empty() && unpadded.back() == '=') {
      unpadded.pop_back();
    }
    EXPECT_EQ(decodeBase64(unpadded), bytesOf(plain)) << unpadded;
  }
  EXPECT_EQ(decodeBase64("+/8="), (std::vector<uint8_t>{0xFB, 0xFF}));
}

TEST(Base64, RejectsForeignCharactersAndImpossibleLengths) {
  EXPECT_FALSE(decodeBase64("Zm9v!"));
  EXPECT_FALSE(decodeBase64("Zm 9v"));
  EXPECT_FALSE(decodeBase64("Zm9vY"));    // 5 characters: no encoding is that long
  EXPECT_FALSE(decodeBase64("Zm8==="));   // three padding characters
  EXPECT_FALSE(decodeBase64("Zm=8"));     // padding inside
  EXPECT_FALSE(decodeBase64("Zm9vYg="));  // padded to 7, not a multiple of 4
  EXPECT_FALSE(decodeBase64("Zm9v-_"));   // URL-safe alphabet is not base64 here
}

}  // namespace
}  // namespace siprecd::sdp
