#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "storage/aws_sigv4.hpp"

/// Where an S3 destination's AWS access key comes from (DESIGN.md §2 `s3`: "credentials
/// from config or the standard AWS environment").
namespace siprecd::storage {

/// What the destination's configuration says about credentials.
struct AwsCredentialConfig {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  std::string profile;  ///< a profile of the shared credentials file
};

/// Reads an environment variable: nullopt when unset. Tests pass a fake.
using EnvironmentLookup = std::function<std::optional<std::string>(const std::string& name)>;
/// The process environment (getenv; the environment is not modified after start-up).
EnvironmentLookup processEnvironment();

/// Credentials and where they were found, for log lines ("config", "environment",
/// "profile 'archive' of /home/u/.aws/credentials"): never the secret itself.
struct ResolvedAwsCredentials {
  AwsCredentials credentials;
  std::string source;
};

/// Resolves the credentials, first source that applies wins:
///  1. the configuration's access_key_id + secret_access_key (+ session_token);
///  2. the configuration's `profile` in the shared credentials file;
///  3. AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN);
///  4. profile AWS_PROFILE (else "default") in the shared credentials file, when the file
///     exists.
/// The shared credentials file is AWS_SHARED_CREDENTIALS_FILE, else $HOME/.aws/credentials.
/// Fails (naming the missing or incomplete source, never a secret) when half a key is
/// configured, a named profile or its keys are missing, or nothing applies. Blocking
/// (reads a file); thread-safe.
Result<ResolvedAwsCredentials> resolveAwsCredentials(const AwsCredentialConfig& config,
                                                     const EnvironmentLookup& environment);

/// Parses the INI text of a shared credentials file ("[name]" sections, "key = value"
/// lines, '#' and ';' comments) and returns `profile`'s aws_access_key_id,
/// aws_secret_access_key and aws_session_token. Fails naming `file_name` and the profile
/// when the section or one of the two keys is missing.
Result<AwsCredentials> parseSharedCredentials(std::string_view text, std::string_view profile,
                                              std::string_view file_name);

}  // namespace siprecd::storage
