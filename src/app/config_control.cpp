#include "app/config_control.hpp"

#include <algorithm>
#include <array>
#include <filesystem>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace siprecd::app {
namespace {

tl::unexpected<Error> keyError(std::string_view key, std::string_view message) {
  return fail(fmt::format("{}: {}", key, message), 2);
}

template <std::size_t N>
bool oneOf(std::string_view value, const std::array<std::string_view, N>& allowed) {
  for (auto candidate : allowed) {
    if (value == candidate) {
      return true;
    }
  }
  return false;
}

constexpr std::array<std::string_view, 3> kDestinationTypes{"file", "s3", "http"};
constexpr std::array<std::string_view, 4> kFormats{"wav", "flac", "mp3", "opus"};
constexpr std::array<std::string_view, 3> kLayouts{"stereo", "mono", "multitrack"};

Result<void> validateDestination(const DestinationConfig& destination, const std::string& path) {
  if (!oneOf(destination.type, kDestinationTypes)) {
    return keyError(path + ".type",
                    fmt::format("unknown type \"{}\" (file, s3, http)", destination.type));
  }
  if (destination.type == "file" && destination.path.empty()) {
    return keyError(path + ".path", "a file destination needs a root directory");
  }
  if (destination.type == "s3" && destination.bucket.empty()) {
    return keyError(path + ".bucket", "an s3 destination needs a bucket");
  }
  if (!destination.sse.empty() && destination.sse != "AES256" && destination.sse != "aws:kms") {
    return keyError(path + ".sse", "expected AES256 or aws:kms");
  }
  if (destination.key_template.empty()) {
    return keyError(path + ".key_template", "must not be empty");
  }
  if (destination.part_size_bytes > destination.multipart_threshold_bytes) {
    return keyError(path + ".part_size_bytes", "must not exceed multipart_threshold_bytes");
  }
  return {};
}

bool startsWithHttp(std::string_view url) {
  return url.starts_with("http://") || url.starts_with("https://");
}

/// "http(s)://host[:port]/<account>/<name>" (the shape of an SQS queue URL).
bool looksLikeQueueUrl(std::string_view url) {
  if (!startsWithHttp(url)) {
    return false;
  }
  url.remove_prefix(url.find("//") + 2);
  const std::size_t slash = url.find('/');
  if (slash == 0 || slash == std::string_view::npos ||
      url.substr(0, slash).find('@') != std::string_view::npos) {
    return false;
  }
  const std::string_view path = url.substr(slash + 1);
  const std::size_t second = path.find('/');
  return second != std::string_view::npos && second > 0 && second + 1 < path.size() &&
         path.find_first_of("/?#", second + 1) == std::string_view::npos;
}

/// "arn:<partition>:sns:<region>:<account>:<topic>".
bool looksLikeTopicArn(std::string_view arn) {
  std::size_t parts = 0;
  std::size_t start = 0;
  bool empty = false;
  for (;;) {
    const std::size_t colon = arn.find(':', start);
    const std::string_view part = arn.substr(start, colon - start);
    empty = empty || part.empty();
    if ((parts == 0 && part != "arn") || (parts == 2 && part != "sns")) {
      return false;
    }
    ++parts;
    if (colon == std::string_view::npos) {
      break;
    }
    start = colon + 1;
  }
  return parts == 6 && !empty;
}

Result<void> validateQueueTransports(const DomainConfig& domain, const std::string& path) {
  if (!domain.sns_topic_arn.empty() && !looksLikeTopicArn(domain.sns_topic_arn)) {
    return keyError(path + ".sns_topic_arn",
                    fmt::format("\"{}\" is not arn:<partition>:sns:<region>:<account>:<topic>",
                                domain.sns_topic_arn));
  }
  for (const auto& [key, url] :
       {std::pair<std::string_view, const std::string&>{"sqs_queue_url", domain.sqs_queue_url},
        {"sqs_dead_letter_queue_url", domain.sqs_dead_letter_queue_url}}) {
    if (!url.empty() && !looksLikeQueueUrl(url)) {
      return keyError(path + "." + std::string(key),
                      fmt::format("\"{}\" is not http(s)://host/<account>/<queue name>", url));
    }
  }
  if (!domain.sqs_dead_letter_queue_url.empty() && domain.sqs_queue_url.empty()) {
    return keyError(path + ".sqs_dead_letter_queue_url", "needs sqs_queue_url");
  }
  if (!domain.sqs_dead_letter_queue_url.empty() &&
      domain.sqs_dead_letter_queue_url == domain.sqs_queue_url) {
    return keyError(path + ".sqs_dead_letter_queue_url", "must differ from sqs_queue_url");
  }
  if (domain.sqs_visibility_timeout_s < 1 || domain.sqs_visibility_timeout_s > 43200) {
    return keyError(path + ".sqs_visibility_timeout_s", "must be within 1..43200");
  }
  if (domain.sqs_max_receives < 1 || domain.sqs_max_receives > 1000) {
    return keyError(path + ".sqs_max_receives", "must be within 1..1000");
  }
  const AwsTransportConfig& aws = domain.aws;
  if (!aws.endpoint.empty() &&
      (!startsWithHttp(aws.endpoint) || aws.endpoint.find_first_of("?#@") != std::string::npos)) {
    return keyError(path + ".aws.endpoint",
                    fmt::format("\"{}\": expected http(s)://host[:port]", aws.endpoint));
  }
  if (aws.access_key_id.empty() != aws.secret_access_key.empty()) {
    return keyError(path + ".aws.access_key_id",
                    "aws.access_key_id and aws.secret_access_key go together");
  }
  if (!aws.session_token.empty() && aws.access_key_id.empty()) {
    return keyError(path + ".aws.session_token", "needs aws.access_key_id");
  }
  const bool region_ok = std::all_of(aws.region.begin(), aws.region.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
  if (!region_ok) {
    return keyError(path + ".aws.region", fmt::format("\"{}\" is not a region", aws.region));
  }
  return {};
}

}  // namespace

Result<void> validateDomainControl(const DomainConfig& domain, const std::string& path) {
  if (domain.callback_timeout_ms < 100 || domain.callback_timeout_ms > 60000) {
    return keyError(path + ".callback_timeout_ms", "must be within 100..60000");
  }
  if (domain.srtp != "optional" && domain.srtp != "required" && domain.srtp != "refused") {
    return keyError(path + ".srtp",
                    fmt::format("\"{}\": expected optional, required or refused", domain.srtp));
  }
  if (domain.retention_hours < 1 || domain.retention_hours > 24 * 366) {
    return keyError(path + ".retention_hours", "must be within 1..8784");
  }
  if (!domain.jwt_rs256_public_key.empty()) {
    std::error_code error;
    if (!std::filesystem::is_regular_file(domain.jwt_rs256_public_key, error)) {
      return keyError(path + ".api.jwt_rs256_public_key",
                      fmt::format("file not found: {}", domain.jwt_rs256_public_key.string()));
    }
  }
  if (auto ok = validateQueueTransports(domain, path); !ok) {
    return ok;
  }
  for (const auto& [name, destination] : domain.destinations) {
    if (auto ok = validateDestination(destination, path + ".destinations." + name); !ok) {
      return ok;
    }
  }
  if (domain.auto_store) {
    const auto& policy = *domain.auto_store;
    if (policy.destination != "local" && !domain.destinations.contains(policy.destination)) {
      return keyError(
          path + ".auto_store.destination",
          fmt::format("\"{}\" is not a destination of this domain", policy.destination));
    }
    if (!oneOf(policy.format, kFormats)) {
      return keyError(path + ".auto_store.format",
                      fmt::format("\"{}\": expected wav, flac, mp3 or opus", policy.format));
    }
    if (!oneOf(policy.layout, kLayouts)) {
      return keyError(path + ".auto_store.layout",
                      fmt::format("\"{}\": expected stereo, mono or multitrack", policy.layout));
    }
  }
  return {};
}

bool isLoopbackListen(const std::string& http_listen) {
  auto host_port = parseHostPort(http_listen);
  if (!host_port) {
    return false;
  }
  const std::string& host = host_port->host;
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

Result<void> validateApiExposure(const Config& config) {
  if (isLoopbackListen(config.http_listen)) {
    return {};
  }
  for (const auto& domain : config.domains) {
    if (domain.api_key_hashes.empty() && domain.jwt_hs256_secret.empty() &&
        domain.jwt_rs256_public_key.empty()) {
      return keyError("http.listen",
                      fmt::format("\"{}\" is not a loopback address, so every domain needs API "
                                  "credentials (api.keys or a JWT key); domain \"{}\" has none",
                                  config.http_listen, domain.name));
    }
  }
  return {};
}

}  // namespace siprecd::app
