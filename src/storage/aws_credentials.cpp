#include "storage/aws_credentials.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "base/strings.hpp"

namespace siprecd::storage {
namespace {

std::optional<std::string> nonEmpty(const EnvironmentLookup& environment, const char* name) {
  auto value = environment(name);
  if (value && value->empty()) {
    return std::nullopt;
  }
  return value;
}

std::filesystem::path sharedCredentialsFile(const EnvironmentLookup& environment) {
  if (auto file = nonEmpty(environment, "AWS_SHARED_CREDENTIALS_FILE")) {
    return *file;
  }
  if (auto home = nonEmpty(environment, "HOME")) {
    return std::filesystem::path(*home) / ".aws" / "credentials";
  }
  return {};
}

Result<ResolvedAwsCredentials> fromProfile(const std::string& profile,
                                           const std::filesystem::path& file) {
  if (file.empty()) {
    return fail(fmt::format("AWS profile '{}': no credentials file (HOME is not set)", profile));
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return fail(fmt::format("AWS profile '{}': cannot read {}", profile, file.string()));
  }
  std::ostringstream text;
  text << in.rdbuf();
  auto credentials = parseSharedCredentials(text.str(), profile, file.string());
  if (!credentials) {
    return tl::unexpected(credentials.error());
  }
  return ResolvedAwsCredentials{std::move(*credentials),
                                fmt::format("profile '{}' of {}", profile, file.string())};
}

}  // namespace

EnvironmentLookup processEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    // NOLINTNEXTLINE(concurrency-mt-unsafe): nothing modifies the environment after start-up
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) {
      return std::nullopt;
    }
    return std::string(value);
  };
}

Result<AwsCredentials> parseSharedCredentials(std::string_view text, std::string_view profile,
                                              std::string_view file_name) {
  AwsCredentials credentials;
  bool found = false;
  bool inside = false;
  for (std::string_view line : split(text, '\n')) {
    line = trim(line);
    if (line.empty() || line.front() == '#' || line.front() == ';') {
      continue;
    }
    if (line.front() == '[') {
      const auto close = line.find(']');
      inside = close != std::string_view::npos && trim(line.substr(1, close - 1)) == profile;
      found = found || inside;
      continue;
    }
    if (!inside) {
      continue;
    }
    const auto equals = line.find('=');
    if (equals == std::string_view::npos) {
      continue;
    }
    const std::string key = toLower(trim(line.substr(0, equals)));
    const std::string value(trim(line.substr(equals + 1)));
    if (key == "aws_access_key_id") {
      credentials.access_key_id = value;
    } else if (key == "aws_secret_access_key") {
      credentials.secret_access_key = value;
    } else if (key == "aws_session_token" ||
               (key == "aws_security_token" && credentials.session_token.empty())) {
      credentials.session_token = value;
    }
  }
  if (!found) {
    return fail(fmt::format("AWS profile '{}' not found in {}", profile, file_name));
  }
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return fail(
        fmt::format("AWS profile '{}' in {} lacks aws_access_key_id or aws_secret_access_key",
                    profile, file_name));
  }
  return credentials;
}

Result<ResolvedAwsCredentials> resolveAwsCredentials(const AwsCredentialConfig& config,
                                                     const EnvironmentLookup& environment) {
  if (!config.access_key_id.empty() || !config.secret_access_key.empty()) {
    if (config.access_key_id.empty() || config.secret_access_key.empty()) {
      return fail("access_key_id and secret_access_key must be configured together");
    }
    return ResolvedAwsCredentials{
        {config.access_key_id, config.secret_access_key, config.session_token}, "config"};
  }
  const std::filesystem::path file = sharedCredentialsFile(environment);
  if (!config.profile.empty()) {
    return fromProfile(config.profile, file);
  }
  auto key_id = nonEmpty(environment, "AWS_ACCESS_KEY_ID");
  auto secret = nonEmpty(environment, "AWS_SECRET_ACCESS_KEY");
  if (key_id || secret) {
    if (!key_id || !secret) {
      return fail("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together");
    }
    return ResolvedAwsCredentials{
        {std::move(*key_id), std::move(*secret),
         nonEmpty(environment, "AWS_SESSION_TOKEN").value_or(std::string())},
        "environment"};
  }
  const auto named = nonEmpty(environment, "AWS_PROFILE");
  std::error_code error;
  if (named || (!file.empty() && std::filesystem::exists(file, error))) {
    return fromProfile(named.value_or("default"), file);
  }
  return fail(
      "no AWS credentials: configure access_key_id and secret_access_key or a profile, set "
      "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or provide a shared credentials file");
}

}  // namespace siprecd::storage
