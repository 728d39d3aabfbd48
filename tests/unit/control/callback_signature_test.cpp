#include "control/callback_signature.hpp"

#include <gtest/gtest.h>

namespace siprecd::control {
namespace {

// Known answers computed once with the OpenSSL command line:
//   printf '%s' '1700000000.{"method":"RECORDINGREADY","eventId":"e1"}' |
//     openssl dgst -sha256 -hmac 'whsec_test' -hex
constexpr std::string_view kBody = R"({"method":"RECORDINGREADY","eventId":"e1"})";
constexpr std::string_view kExpectedHeader =
    "t=1700000000,v1=8401009f48c2a23822ee4b78782796ddeee975c9f3cb040818e5c08eed4f8b2a";

TEST(CallbackSignature, HmacSha256MatchesRfc4231TestCase2) {
  EXPECT_EQ(toHex(hmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(CallbackSignature, SignsTimestampDotBodyAsHexHmac) {
  EXPECT_EQ(signCallback("whsec_test", 1700000000, kBody), kExpectedHeader);
}

TEST(CallbackSignature, VerifiesItsOwnSignatureWithinTolerance) {
  EXPECT_TRUE(verifyCallbackSignature("whsec_test", kExpectedHeader, kBody, 1700000100));
}

TEST(CallbackSignature, RejectsAlteredBody) {
  const auto result = verifyCallbackSignature(
      "whsec_test", kExpectedHeader, R"({"method":"RECORDINGREADY","eventId":"e2"})", 1700000000);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, 401);
  EXPECT_NE(result.error().message.find("v1="), std::string::npos);
}

TEST(CallbackSignature, RejectsWrongSecret) {
  EXPECT_FALSE(verifyCallbackSignature("other", kExpectedHeader, kBody, 1700000000));
}

TEST(CallbackSignature, RejectsTimestampOutsideTolerance) {
  const auto result = verifyCallbackSignature("whsec_test", kExpectedHeader, kBody,
                                              1700000000 + 301, std::chrono::seconds(300));
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("tolerance"), std::string::npos);
}

TEST(CallbackSignature, RejectsHeaderWithoutTimestampOrSignature) {
  EXPECT_FALSE(verifyCallbackSignature("whsec_test", "v1=abcd", kBody, 1700000000));
  EXPECT_FALSE(verifyCallbackSignature("whsec_test", "t=1700000000", kBody, 1700000000));
  EXPECT_FALSE(verifyCallbackSignature("whsec_test", "", kBody, 1700000000));
  EXPECT_FALSE(verifyCallbackSignature("whsec_test", "t=-5,v1=00", kBody, 1700000000));
}

TEST(CallbackSignature, AcceptsAnyMatchingV1AmongSeveral) {
  const std::string header =
      "t=1700000000, v1=00ff, v1=8401009f48c2a23822ee4b78782796ddeee975c9f3cb040818e5c08eed4f8b2a";
  EXPECT_TRUE(verifyCallbackSignature("whsec_test", header, kBody, 1700000000));
}

TEST(CallbackSignature, ConstantTimeEqualsComparesContentAndSize) {
  EXPECT_TRUE(constantTimeEquals("abc", "abc"));
  EXPECT_FALSE(constantTimeEquals("abc", "abd"));
  EXPECT_FALSE(constantTimeEquals("abc", "abcd"));
  EXPECT_TRUE(constantTimeEquals("", ""));
}

}  // namespace
}  // namespace siprecd::control
