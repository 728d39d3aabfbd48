#pragma once

#include <chrono>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

/// AWS Signature Version 4 (the "Signing AWS API requests" section of the AWS IAM user
/// guide; S3 specifics from "Authenticating Requests (AWS Signature Version 4)" of the S3
/// API reference): canonical request, string to sign, signing key and the Authorization
/// header. Pure functions over strings; thread-safe.
namespace siprecd::storage {

/// An AWS access key. The secret and the token are secrets: never logged, never put in an
/// error, an event or a log line.
struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  ///< empty unless temporary (STS) credentials
};

/// Ordered name/value pairs (query parameters or headers).
using NameValues = std::vector<std::pair<std::string, std::string>>;

/// One request as it goes on the wire, for signing.
struct SigV4Request {
  std::string method;  ///< "GET", "PUT", ...
  /// The path exactly as sent, already percent-encoded ("/bucket/a%20b.wav"): S3 signs it
  /// as is (no normalisation, no second encoding).
  std::string canonical_path = "/";
  /// Query parameters, decoded; canonicalQuery() encodes and sorts them.
  NameValues query;
  /// Every header to sign, names in any case: at least host and x-amz-date; for S3 also
  /// x-amz-content-sha256 and, with temporary credentials, x-amz-security-token.
  NameValues headers;
  /// Lower-case hex SHA-256 of the body (or "UNSIGNED-PAYLOAD").
  std::string payload_sha256;
};

/// What signing produced; the intermediate strings serve tests and debugging (they hold
/// no secret).
struct SigV4Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  ///< "host;x-amz-content-sha256;x-amz-date"
  std::string signature;       ///< lower-case hex
  std::string authorization;   ///< the Authorization header's value
};

/// AWS UriEncode: every byte except the unreserved A-Z a-z 0-9 - _ . ~ becomes %XX
/// (upper-case hex); '/' is kept when `keep_slash` (object key paths).
std::string awsUriEncode(std::string_view text, bool keep_slash);

/// The canonical query string: names and values UriEncoded, pairs sorted by encoded name,
/// then encoded value, joined with '&'; a parameter without value becomes "name=".
std::string canonicalQuery(const NameValues& query);

/// Splits a raw query ("b=2&a=1&flag"), percent-decoding names and values ('+' stays a
/// plus). Malformed escapes are kept literally.
NameValues parseQuery(std::string_view raw);

/// Canonical headers block and the signed-headers list: names lower-cased, values
/// trimmed with inner runs of spaces collapsed to one, repeated names joined with ','
/// in their order, sorted by name. Returns {"name:value\n"..., "name;name"}.
std::pair<std::string, std::string> canonicalHeaders(const NameValues& headers);

/// "20150830T123600Z" (UTC) of `time`; its first 8 characters are the scope date.
std::string amzDate(std::chrono::system_clock::time_point time);

/// Signs `request` for `region` and `service` ("s3") at `amz_date` (the value of its
/// x-amz-date header, which the caller has put among the headers).
SigV4Signature signSigV4(const SigV4Request& request, const AwsCredentials& credentials,
                         std::string_view region, std::string_view service,
                         std::string_view amz_date);

/// Lower-case hex SHA-256 of `data`.
std::string sha256Hex(std::string_view data);
/// Standard base64 (with padding) of `bytes`.
std::string base64Encode(std::span<const std::byte> bytes);
/// Base64 of the bytes a lower-case hex string spells ("x-amz-checksum-sha256" wants the
/// base64 of the digest); empty for odd length or a non-hex character.
std::string hexToBase64(std::string_view hex);

}  // namespace siprecd::storage
