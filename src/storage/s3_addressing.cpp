#include "storage/s3_addressing.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "base/strings.hpp"
#include "storage/aws_sigv4.hpp"

namespace siprecd::storage {
namespace {

bool isLowerAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/// A bucket that can be the first label of a host name (and of a TLS wildcard): 3-63
/// characters of a-z 0-9 '-', starting and ending with a letter or digit.
bool isDnsLabelBucket(std::string_view bucket) {
  return bucket.size() >= 3 && bucket.size() <= 63 && isLowerAlnum(bucket.front()) &&
         isLowerAlnum(bucket.back()) && std::all_of(bucket.begin(), bucket.end(), [](char c) {
           return isLowerAlnum(c) || c == '-';
         });
}

bool isIpLiteral(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    return true;  // IPv6
  }
  const auto colon = host.rfind(':');
  const std::string_view name = host.substr(0, colon);
  return !name.empty() && std::all_of(name.begin(), name.end(),
                                      [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

bool isHostChar(char c) {
  return isLowerAlnum(c) || (c >= 'A' && c <= 'Z') || c == '-' || c == '.' || c == ':' ||
         c == '[' || c == ']' || c == '_';
}

}  // namespace

Result<S3Addressing> S3Addressing::make(std::string_view bucket, std::string_view region,
                                        std::string_view endpoint, bool path_style) {
  S3Addressing addressing;
  if (bucket.empty() || bucket.size() > 255 ||
      !std::all_of(bucket.begin(), bucket.end(), [](char c) {
        return isLowerAlnum(c) || (c >= 'A' && c <= 'Z') || c == '.' || c == '-' || c == '_';
      })) {
    return fail(fmt::format("bucket \"{}\" is not a valid bucket name", bucket));
  }
  if (region.empty() || !std::all_of(region.begin(), region.end(),
                                     [](char c) { return isLowerAlnum(c) || c == '-'; })) {
    return fail(fmt::format("region \"{}\" is not a valid region name", region));
  }
  addressing.bucket_ = bucket;
  addressing.region_ = region;
  std::string_view host;
  if (endpoint.empty()) {
    addressing.scheme_ = "https";
    addressing.host_ = fmt::format("s3.{}.amazonaws.com", region);
    host = addressing.host_;
  } else {
    std::string_view rest;
    if (istartsWith(endpoint, "https://")) {
      addressing.scheme_ = "https";
      rest = endpoint.substr(8);
    } else if (istartsWith(endpoint, "http://")) {
      addressing.scheme_ = "http";
      rest = endpoint.substr(7);
    } else {
      return fail(fmt::format("endpoint \"{}\" must start with http:// or https://", endpoint));
    }
    if (!rest.empty() && rest.back() == '/') {
      rest.remove_suffix(1);
    }
    if (rest.empty() || !std::all_of(rest.begin(), rest.end(), isHostChar)) {
      return fail(fmt::format(
          "endpoint \"{}\" must be scheme://host[:port] without path, query or user", endpoint));
    }
    addressing.host_ = toLower(rest);
    host = addressing.host_;
  }
  const bool localhost = host == "localhost" || host.starts_with("localhost:");
  addressing.virtual_hosted_ =
      !path_style && isDnsLabelBucket(bucket) && !isIpLiteral(host) && !localhost;
  if (addressing.virtual_hosted_) {
    addressing.host_ = fmt::format("{}.{}", bucket, host);
  }
  return addressing;
}

S3Target S3Addressing::object(std::string_view key) const {
  S3Target target;
  target.host = host_;
  target.canonical_path = virtual_hosted_
                              ? "/" + awsUriEncode(key, true)
                              : "/" + awsUriEncode(bucket_, false) + "/" + awsUriEncode(key, true);
  target.url = fmt::format("{}://{}{}", scheme_, host_, target.canonical_path);
  return target;
}

std::string S3Addressing::location(std::string_view key) const {
  return fmt::format("s3://{}/{}", bucket_, key);
}

}  // namespace siprecd::storage
