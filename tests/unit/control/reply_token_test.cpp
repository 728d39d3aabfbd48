#include "control/reply_token.hpp"

#include <filesystem>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "control/json_web_token.hpp"
#include "support/temp_dir.hpp"

namespace siprecd::control {
namespace {

constexpr int64_t kNow = 1'700'000'000;

TEST(ReplyTokens, IssuesTheKnownHs256Token) {
  // The same claims as JsonWebToken.SignHs256MatchesKnownAnswer: the token is a plain JWT.
  const ReplyTokens tokens("server-secret-0123456789");
  EXPECT_EQ(tokens.issue("acme", "r1", kNow, std::chrono::seconds(300'000'000)),
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
            "eyJkb21haW4iOiJhY21lIiwiZXhwIjoyMDAwMDAwMDAwLCJpYXQiOjE3MDAwMDAwMDAsInJlY29yZGluZ0lk"
            "IjoicjEifQ.h3_cbpGZAwrNj3Fz_yDbYCQikYjDUrmh_DJ_VuBZeoc");
}

TEST(ReplyTokens, VerifyReturnsTheIssuedClaims) {
  const ReplyTokens tokens("0123456789abcdef0123456789abcdef");
  const std::string token = tokens.issue("acme", "rec-1", kNow, std::chrono::hours(72));
  const auto claims = tokens.verify(token, kNow + 3600);
  ASSERT_TRUE(claims) << claims.error().message;
  EXPECT_EQ(claims->domain, "acme");
  EXPECT_EQ(claims->recording_id, "rec-1");
  EXPECT_EQ(claims->issued_at_s, kNow);
  EXPECT_EQ(claims->expires_at_s, kNow + 72 * 3600);
}

TEST(ReplyTokens, RejectsExpiredTokenWith403) {
  const ReplyTokens tokens("0123456789abcdef0123456789abcdef");
  const std::string token = tokens.issue("acme", "rec-1", kNow, std::chrono::seconds(60));
  const auto claims = tokens.verify(token, kNow + 60);
  ASSERT_FALSE(claims);
  EXPECT_EQ(claims.error().code, 403);
  EXPECT_NE(claims.error().message.find("expired"), std::string::npos);
}

TEST(ReplyTokens, RejectsTokenOfAnotherServer) {
  const ReplyTokens ours("0123456789abcdef0123456789abcdef");
  const ReplyTokens theirs("fedcba9876543210fedcba9876543210");
  EXPECT_FALSE(ours.verify(theirs.issue("acme", "rec-1", kNow, std::chrono::hours(1)), kNow));
}

TEST(ReplyTokens, RejectsValidJwtWithoutRecordingClaims) {
  const std::string secret = "0123456789abcdef0123456789abcdef";
  const ReplyTokens tokens(secret);
  const auto claims =
      tokens.verify(signHs256({{"domain", "acme"}, {"exp", kNow + 10}}, secret), kNow);
  ASSERT_FALSE(claims);
  EXPECT_EQ(claims.error().code, 403);
}

TEST(ServerSecret, CreatesA0600FileOnceAndReadsItBack) {
  test_support::TempDir dir;
  const std::string file = (dir.path() / "sub" / "server.secret").string();
  const auto created = loadOrCreateServerSecret(file);
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(created->size(), 64U);  // 32 random bytes, hex
  struct stat info {};
  ASSERT_EQ(::stat(file.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600U);

  const auto again = loadOrCreateServerSecret(file);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *created);
  // No temporary files are left behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path() / "sub"),
                          std::filesystem::directory_iterator()),
            1);
}

TEST(ServerSecret, ConcurrentCreatorsAgreeOnOneSecret) {
  test_support::TempDir dir;
  const std::string file = (dir.path() / "server.secret").string();
  std::vector<std::string> secrets(4);
  std::vector<std::thread> threads;
  for (auto& secret : secrets) {
    threads.emplace_back([&file, &secret] { secret = loadOrCreateServerSecret(file).value(); });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  for (const auto& secret : secrets) {
    EXPECT_EQ(secret, secrets.front());
  }
}

TEST(ServerSecret, ReadsAnExistingSecretTrimmed) {
  test_support::TempDir dir;
  const auto file = dir.write("secret", "  an-operator-provided-secret\n");
  EXPECT_EQ(loadOrCreateServerSecret(file.string()).value(), "an-operator-provided-secret");
}

TEST(ServerSecret, RejectsATooShortSecretNamingTheFile) {
  test_support::TempDir dir;
  const auto file = dir.write("secret", "short\n");
  const auto result = loadOrCreateServerSecret(file.string());
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find(file.string()), std::string::npos);
}

}  // namespace
}  // namespace siprecd::control
