#include "control/json_web_token.hpp"

#include <gtest/gtest.h>

namespace siprecd::control {
namespace {

// Computed once with Python's hmac/base64 modules (header {"alg":"HS256","typ":"JWT"},
// secret "server-secret-0123456789").
constexpr std::string_view kKnownToken =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJkb21haW4iOiJhY21lIiwiZXhwIjoyMDAwMDAwMDAwLCJpYXQiOjE3MDAwMDAwMDAsInJlY29yZGluZ0lkIjoicjEifQ"
    "."
    "h3_cbpGZAwrNj3Fz_yDbYCQikYjDUrmh_DJ_VuBZeoc";
constexpr std::string_view kSecret = "server-secret-0123456789";
constexpr int64_t kNow = 1'800'000'000;

const nlohmann::json kClaims = {
    {"domain", "acme"}, {"recordingId", "r1"}, {"iat", 1700000000}, {"exp", 2000000000}};

TEST(Base64Url, EncodesWithoutPaddingInUrlAlphabet) {
  EXPECT_EQ(base64UrlEncode(""), "");
  EXPECT_EQ(base64UrlEncode("f"), "Zg");
  EXPECT_EQ(base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(base64UrlEncode("\xfb\xff"), "-_8");
}

TEST(Base64Url, DecodesWithAndWithoutPadding) {
  EXPECT_EQ(base64UrlDecode("Zm8").value(), "fo");
  EXPECT_EQ(base64UrlDecode("Zm8=").value(), "fo");
  EXPECT_EQ(base64UrlDecode("-_8").value(), "\xfb\xff");
}

TEST(Base64Url, RejectsForeignCharactersImpossibleLengthAndStrayBits) {
  EXPECT_FALSE(base64UrlDecode("Zm+v"));   // '+' belongs to plain base64
  EXPECT_FALSE(base64UrlDecode("Zm9vY"));  // 5 characters cannot encode whole bytes
  EXPECT_FALSE(base64UrlDecode("Zm9"));    // "fo" is Zm8: the last sextet has stray bits
}

TEST(JsonWebToken, SignHs256MatchesKnownAnswer) {
  EXPECT_EQ(signHs256(kClaims, kSecret), kKnownToken);
}

TEST(JsonWebToken, RoundTripReturnsClaims) {
  const auto claims = verifyHs256(signHs256(kClaims, kSecret), kSecret, kNow);
  ASSERT_TRUE(claims) << claims.error().message;
  EXPECT_EQ(*claims, kClaims);
}

TEST(JsonWebToken, RejectsTamperedPayload) {
  std::string token(kKnownToken);
  const auto first_dot = token.find('.');
  const auto second_dot = token.find('.', first_dot + 1);
  const std::string forged_payload =
      base64UrlEncode(R"({"domain":"evil","exp":2000000000,"iat":1700000000,"recordingId":"r1"})");
  token.replace(first_dot + 1, second_dot - first_dot - 1, forged_payload);
  const auto result = verifyHs256(token, kSecret, kNow);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, 401);
  EXPECT_NE(result.error().message.find("signature"), std::string::npos);
}

TEST(JsonWebToken, RejectsWrongSecret) {
  EXPECT_FALSE(verifyHs256(kKnownToken, "another-secret", kNow));
}

TEST(JsonWebToken, RejectsExpiredAndNotYetValidTokens) {
  const auto expired = verifyHs256(kKnownToken, kSecret, 2000000000);
  ASSERT_FALSE(expired);
  EXPECT_NE(expired.error().message.find("exp"), std::string::npos);

  const std::string future = signHs256({{"nbf", kNow + 10}}, kSecret);
  EXPECT_FALSE(verifyHs256(future, kSecret, kNow));
  EXPECT_TRUE(verifyHs256(future, kSecret, kNow + 10));
}

TEST(JsonWebToken, RejectsNonNumericTimeClaims) {
  EXPECT_FALSE(verifyHs256(signHs256({{"exp", "2000000000"}}, kSecret), kSecret, kNow));
}

TEST(JsonWebToken, RejectsAlgNoneEvenWithoutSignature) {
  const std::string header = base64UrlEncode(R"({"alg":"none","typ":"JWT"})");
  const std::string payload = base64UrlEncode(kClaims.dump());
  const auto unsigned_token = verifyHs256(header + "." + payload + ".", kSecret, kNow);
  ASSERT_FALSE(unsigned_token);
  EXPECT_NE(unsigned_token.error().message.find("alg"), std::string::npos);
}

TEST(JsonWebToken, RejectsOtherAlgorithmsSignedWithTheSecret) {
  // An attacker relabelling an HS256-signed token (e.g. as HS512 or RS256) gets nowhere.
  for (const char* alg : {"HS512", "RS256", "hs256"}) {
    const std::string header = base64UrlEncode(nlohmann::json{{"alg", alg}, {"typ", "JWT"}}.dump());
    const std::string signing_input = header + "." + base64UrlEncode(kClaims.dump());
    const std::string reference = signHs256(kClaims, kSecret);
    const std::string token = signing_input + reference.substr(reference.rfind('.'));
    EXPECT_FALSE(verifyHs256(token, kSecret, kNow)) << alg;
  }
}

TEST(JsonWebToken, RejectsMalformedTokensWithoutThrowing) {
  for (const std::string_view token :
       {std::string_view(""), std::string_view("."), std::string_view(".."),
        std::string_view("a.b"), std::string_view("a.b.c.d"), std::string_view("!!.e30.x"),
        std::string_view("e30.e30.x"),                              // header {} has no alg
        std::string_view("eyJhbGciOiJIUzI1NiJ9.WzFd.x"),            // payload [1] is not an object
        std::string_view("eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.x")}) {  // payload "not json"
    EXPECT_FALSE(verifyHs256(token, kSecret, kNow)) << token;
  }
}

TEST(JsonWebToken, DecodeExposesPartsForOtherAlgorithms) {
  const auto decoded = decodeJwt(kKnownToken);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->header["alg"], "HS256");
  EXPECT_EQ(decoded->claims["recordingId"], "r1");
  EXPECT_EQ(decoded->signing_input, kKnownToken.substr(0, kKnownToken.rfind('.')));
  EXPECT_EQ(decoded->signature.size(), 32U);
}

}  // namespace
}  // namespace siprecd::control
