#include "sdp/crypto.hpp"

#include <gtest/gtest.h>

#include "sdp/base64.hpp"

namespace siprecd::sdp {
namespace {

std::vector<uint8_t> pattern(std::size_t size) {
  std::vector<uint8_t> bytes(size);
  for (std::size_t i = 0; i < size; ++i) {
    bytes[i] = static_cast<uint8_t>(i * 7 + 1);
  }
  return bytes;
}

Crypto parsed(std::string_view value) {
  auto crypto = parseCrypto(value);
  EXPECT_TRUE(crypto) << (crypto ? "" : crypto.error().message);
  return crypto ? *crypto : Crypto{};
}

std::string decodeError(std::string_view value) {
  auto decoded = decodeSdesCrypto(parsed(value));
  EXPECT_FALSE(decoded);
  if (decoded) {
    return "";
  }
  EXPECT_EQ(decoded.error().code, 488);
  return decoded.error().message;
}

TEST(SdpCrypto, ParsesTagSuiteKeyLifetimeAndMki) {
  auto crypto = parseCrypto(
      "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4");
  ASSERT_TRUE(crypto) << crypto.error().message;
  EXPECT_EQ(crypto->tag, 1u);
  EXPECT_EQ(crypto->suite, "AES_CM_128_HMAC_SHA1_80");
  ASSERT_EQ(crypto->keys.size(), 1u);
  EXPECT_EQ(crypto->keys[0].method, "inline");
  EXPECT_EQ(crypto->keys[0].key_salt, "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR");
  EXPECT_EQ(crypto->keys[0].lifetime, "2^20");
  EXPECT_EQ(crypto->keys[0].mki, 1u);
  EXPECT_EQ(crypto->keys[0].mki_length, 4u);
  EXPECT_TRUE(crypto->session_params.empty());
}

TEST(SdpCrypto, ParsesSeveralKeysAndSessionParams) {
  auto crypto = parseCrypto(
      "7 AES_CM_128_HMAC_SHA1_32 inline:AAAA|1:4;inline:BBBB|2:4 UNENCRYPTED_SRTCP KDR=1");
  ASSERT_TRUE(crypto) << crypto.error().message;
  EXPECT_EQ(crypto->tag, 7u);
  ASSERT_EQ(crypto->keys.size(), 2u);
  EXPECT_FALSE(crypto->keys[0].lifetime);
  EXPECT_EQ(crypto->keys[1].key_salt, "BBBB");
  EXPECT_EQ(crypto->keys[1].mki, 2u);
  EXPECT_EQ(crypto->session_params, (std::vector<std::string>{"UNENCRYPTED_SRTCP", "KDR=1"}));
}

TEST(SdpCrypto, RejectsMalformedValues) {
  EXPECT_FALSE(parseCrypto("1 AES_CM_128_HMAC_SHA1_80"));
  EXPECT_FALSE(parseCrypto("x AES_CM_128_HMAC_SHA1_80 inline:AAAA"));
  EXPECT_FALSE(parseCrypto("1234567890 AES_CM_128_HMAC_SHA1_80 inline:AAAA"));
  EXPECT_FALSE(parseCrypto("1 AES_CM_128_HMAC_SHA1_80 inlineAAAA"));
  EXPECT_FALSE(parseCrypto("1 AES_CM_128_HMAC_SHA1_80 inline:"));
  EXPECT_FALSE(parseCrypto("1 AES_CM_128_HMAC_SHA1_80 inline:AAAA|2^x"));
  EXPECT_FALSE(parseCrypto("1 AES_CM_128_HMAC_SHA1_80 inline:AAAA|1:0"));
  auto error = parseCrypto("1 AES_CM_128_HMAC_SHA1_80 inline:AAAA|a:b");
  ASSERT_FALSE(error);
  EXPECT_EQ(error.error().code, 400);
  EXPECT_NE(error.error().message.find("MKI"), std::string::npos);
}

TEST(SdpCrypto, SerializeRoundTripsParsedValues) {
  for (std::string_view value :
       {"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
        "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4",
        "7 AES_CM_128_HMAC_SHA1_32 inline:AAAA|1:4;inline:BBBB|2:4 UNENCRYPTED_SRTCP KDR=1",
        "42 AEAD_AES_256_GCM inline:AAAA|1048576 WSH=64"}) {
    const Crypto crypto = parsed(value);
    EXPECT_EQ(serializeCrypto(crypto), value);
    EXPECT_EQ(parsed(serializeCrypto(crypto)), crypto);
  }
}

TEST(SdpCrypto, DecodesInlineKeyOfEachSupportedSuite) {
  for (const SdesSuite& suite : supportedSdesSuites()) {
    const auto key = pattern(suite.key_bytes + suite.salt_bytes);
    const std::string value =
        "3 " + std::string(suite.name) + " inline:" + encodeBase64(key) + "|2^31 WSH=128";
    auto decoded = decodeSdesCrypto(parsed(value));
    ASSERT_TRUE(decoded) << suite.name << ": " << decoded.error().message;
    EXPECT_EQ(decoded->tag, 3u);
    EXPECT_EQ(decoded->suite, suite.name);
    EXPECT_EQ(decoded->master_key_salt, key);
    EXPECT_EQ(decoded->lifetime, "2^31");
    EXPECT_EQ(decoded->session_params, std::vector<std::string>{"WSH=128"});
  }
  EXPECT_EQ(supportedSdesSuites().size(), 4u);
  ASSERT_NE(findSdesSuite("aead_aes_256_gcm"), nullptr);
  EXPECT_EQ(findSdesSuite("aead_aes_256_gcm")->key_bytes, 32u);
  EXPECT_EQ(findSdesSuite("AES_CM_128_HMAC_SHA1_32")->salt_bytes, 14u);
  EXPECT_EQ(findSdesSuite("AES_256_CM_HMAC_SHA1_80"), nullptr);
}

TEST(SdpCrypto, DecodeRejectsWhatSrtpCannotUse) {
  const std::string key30 = encodeBase64(pattern(30));
  EXPECT_NE(decodeError("1 AES_256_CM_HMAC_SHA1_80 inline:" + key30)
                .find("crypto suite AES_256_CM_HMAC_SHA1_80 is not supported"),
            std::string::npos);
  EXPECT_NE(decodeError("1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|2^20|1:4").find("MKI"),
            std::string::npos);
  EXPECT_NE(decodeError("1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + ";inline:" + key30)
                .find("several master keys"),
            std::string::npos);
  EXPECT_NE(decodeError("1 AES_CM_128_HMAC_SHA1_80 uri:" + key30).find("key method uri"),
            std::string::npos);
  EXPECT_NE(decodeError("1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + " UNENCRYPTED_SRTCP")
                .find("session parameter UNENCRYPTED_SRTCP"),
            std::string::npos);
  EXPECT_NE(decodeError("1 AES_CM_128_HMAC_SHA1_80 inline:" + encodeBase64(pattern(28)))
                .find("inline key has 28 bytes, AES_CM_128_HMAC_SHA1_80 needs 30"),
            std::string::npos);
  EXPECT_NE(decodeError("9 AES_CM_128_HMAC_SHA1_80 inline:PS1u*CVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR")
                .find("a=crypto tag 9: inline key is not valid base64"),
            std::string::npos);
}

TEST(SdpCrypto, ToCryptoEncodesOneInlineKeyThatDecodesBack) {
  SdesCrypto sdes;
  sdes.tag = 5;
  sdes.suite = "AEAD_AES_128_GCM";
  sdes.master_key_salt = pattern(28);
  const Crypto crypto = toCrypto(sdes);
  EXPECT_EQ(serializeCrypto(crypto), "5 AEAD_AES_128_GCM inline:" + encodeBase64(pattern(28)));
  auto again = decodeSdesCrypto(parsed(serializeCrypto(crypto)));
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(*again, sdes);
}

}  // namespace
}  // namespace siprecd::sdp
