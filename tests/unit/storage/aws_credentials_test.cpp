#include "storage/aws_credentials.hpp"

#include <map>

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

namespace siprecd::storage {
namespace {

constexpr std::string_view kSecret = "env-secret-0123456789";

EnvironmentLookup fakeEnvironment(std::map<std::string, std::string> variables) {
  return [variables = std::move(variables)](const std::string& name) -> std::optional<std::string> {
    auto it = variables.find(name);
    return it == variables.end() ? std::nullopt : std::optional(it->second);
  };
}

constexpr std::string_view kCredentialsFile =
    "# shared credentials\r\n"
    "[default]\r\n"
    "aws_access_key_id = AKIDDEFAULT\r\n"
    "aws_secret_access_key = default-secret\r\n"
    "\r\n"
    "; another profile\n"
    "[archive]\n"
    "  aws_access_key_id=AKIDARCHIVE  \n"
    "aws_secret_access_key=archive-secret\n"
    "aws_session_token = archive-token\n"
    "[broken]\n"
    "aws_secret_access_key = broken-secret-value\n";

TEST(AwsCredentials, ConfiguredKeysWinOverEnvironment) {
  AwsCredentialConfig config{"AKIDCONFIG", "config-secret", "config-token", "archive"};
  auto resolved = resolveAwsCredentials(
      config, fakeEnvironment({{"AWS_ACCESS_KEY_ID", "AKIDENV"},
                               {"AWS_SECRET_ACCESS_KEY", std::string(kSecret)}}));
  ASSERT_TRUE(resolved) << resolved.error().message;
  EXPECT_EQ(resolved->credentials.access_key_id, "AKIDCONFIG");
  EXPECT_EQ(resolved->credentials.secret_access_key, "config-secret");
  EXPECT_EQ(resolved->credentials.session_token, "config-token");
  EXPECT_EQ(resolved->source, "config");
}

TEST(AwsCredentials, HalfAConfiguredKeyIsAnError) {
  auto resolved = resolveAwsCredentials({"AKIDCONFIG", "", "", ""}, fakeEnvironment({}));
  ASSERT_FALSE(resolved);
  EXPECT_NE(resolved.error().message.find("together"), std::string::npos);
}

TEST(AwsCredentials, EnvironmentVariablesWithSessionToken) {
  auto resolved =
      resolveAwsCredentials({}, fakeEnvironment({{"AWS_ACCESS_KEY_ID", "AKIDENV"},
                                                 {"AWS_SECRET_ACCESS_KEY", std::string(kSecret)},
                                                 {"AWS_SESSION_TOKEN", "env-token"}}));
  ASSERT_TRUE(resolved) << resolved.error().message;
  EXPECT_EQ(resolved->credentials.access_key_id, "AKIDENV");
  EXPECT_EQ(resolved->credentials.secret_access_key, kSecret);
  EXPECT_EQ(resolved->credentials.session_token, "env-token");
  EXPECT_EQ(resolved->source, "environment");
}

TEST(AwsCredentials, HalfAnEnvironmentKeyIsAnErrorWithoutTheSecret) {
  auto resolved =
      resolveAwsCredentials({}, fakeEnvironment({{"AWS_SECRET_ACCESS_KEY", std::string(kSecret)}}));
  ASSERT_FALSE(resolved);
  EXPECT_NE(resolved.error().message.find("AWS_ACCESS_KEY_ID"), std::string::npos);
  EXPECT_EQ(resolved.error().message.find(kSecret), std::string::npos);
}

TEST(AwsCredentials, ConfiguredProfileFromTheSharedCredentialsFile) {
  test_support::TempDir temp;
  const auto file = temp.write("creds", std::string(kCredentialsFile));
  auto resolved = resolveAwsCredentials(
      {"", "", "", "archive"}, fakeEnvironment({{"AWS_SHARED_CREDENTIALS_FILE", file.string()},
                                                {"AWS_ACCESS_KEY_ID", "AKIDENV"},
                                                {"AWS_SECRET_ACCESS_KEY", std::string(kSecret)}}));
  ASSERT_TRUE(resolved) << resolved.error().message;
  EXPECT_EQ(resolved->credentials.access_key_id, "AKIDARCHIVE");
  EXPECT_EQ(resolved->credentials.secret_access_key, "archive-secret");
  EXPECT_EQ(resolved->credentials.session_token, "archive-token");
  EXPECT_NE(resolved->source.find("archive"), std::string::npos);
}

TEST(AwsCredentials, AwsProfileSelectsAProfileUnderHome) {
  test_support::TempDir home;
  std::filesystem::create_directories(home.path() / ".aws");
  home.write(".aws/credentials", std::string(kCredentialsFile));
  auto resolved = resolveAwsCredentials(
      {}, fakeEnvironment({{"HOME", home.path().string()}, {"AWS_PROFILE", "archive"}}));
  ASSERT_TRUE(resolved) << resolved.error().message;
  EXPECT_EQ(resolved->credentials.access_key_id, "AKIDARCHIVE");
}

TEST(AwsCredentials, DefaultProfileWhenTheFileExistsAndNothingElseIsSet) {
  test_support::TempDir home;
  std::filesystem::create_directories(home.path() / ".aws");
  home.write(".aws/credentials", std::string(kCredentialsFile));
  auto resolved = resolveAwsCredentials({}, fakeEnvironment({{"HOME", home.path().string()}}));
  ASSERT_TRUE(resolved) << resolved.error().message;
  EXPECT_EQ(resolved->credentials.access_key_id, "AKIDDEFAULT");
  EXPECT_EQ(resolved->credentials.secret_access_key, "default-secret");
  EXPECT_EQ(resolved->credentials.session_token, "");
}

TEST(AwsCredentials, MissingProfileOrFileIsNamed) {
  test_support::TempDir home;
  const auto file = home.write("creds", std::string(kCredentialsFile));
  auto missing = resolveAwsCredentials(
      {"", "", "", "nope"}, fakeEnvironment({{"AWS_SHARED_CREDENTIALS_FILE", file.string()}}));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("'nope' not found"), std::string::npos);

  auto no_file = resolveAwsCredentials(
      {}, fakeEnvironment({{"HOME", home.path().string()}, {"AWS_PROFILE", "archive"}}));
  ASSERT_FALSE(no_file);
  EXPECT_NE(no_file.error().message.find("cannot read"), std::string::npos);
}

TEST(AwsCredentials, IncompleteProfileFailsWithoutQuotingItsSecret) {
  test_support::TempDir home;
  const auto file = home.write("creds", std::string(kCredentialsFile));
  auto resolved = resolveAwsCredentials(
      {"", "", "", "broken"}, fakeEnvironment({{"AWS_SHARED_CREDENTIALS_FILE", file.string()}}));
  ASSERT_FALSE(resolved);
  EXPECT_NE(resolved.error().message.find("lacks aws_access_key_id"), std::string::npos);
  EXPECT_EQ(resolved.error().message.find("broken-secret-value"), std::string::npos);
}

TEST(AwsCredentials, NothingConfiguredIsAnError) {
  test_support::TempDir home;
  auto resolved = resolveAwsCredentials({}, fakeEnvironment({{"HOME", home.path().string()}}));
  ASSERT_FALSE(resolved);
  EXPECT_NE(resolved.error().message.find("no AWS credentials"), std::string::npos);
}

TEST(AwsCredentials, ParsesSectionsExactly) {
  // "[profile archive]" is the config file's spelling, not the credentials file's.
  auto parsed = parseSharedCredentials(
      "[profile archive]\naws_access_key_id=X\naws_secret_access_key=Y\n", "archive", "f");
  EXPECT_FALSE(parsed);
  auto legacy = parseSharedCredentials(
      "[a]\naws_access_key_id=X\naws_secret_access_key=Y\naws_security_token=T\n", "a", "f");
  ASSERT_TRUE(legacy);
  EXPECT_EQ(legacy->session_token, "T");
}

}  // namespace
}  // namespace siprecd::storage
