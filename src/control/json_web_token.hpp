#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/result.hpp"

/// A small JSON Web Token (RFC 7519) toolkit: JWS compact serialisation (RFC 7515
/// section 7.1) with base64url (RFC 4648 section 5) and HS256 (RFC 7518 section 3.2).
/// Used for the server's replyId tokens and for API bearer tokens. Pure functions,
/// thread-safe.
namespace siprecd::control {

/// base64url without padding (RFC 7515 section 2).
std::string base64UrlEncode(std::string_view bytes);
/// Decodes base64url; accepts input with or without '=' padding, rejects any other
/// character and impossible lengths. Fails naming the problem.
Result<std::string> base64UrlDecode(std::string_view text);

/// A token split into its parts, NOT verified: for callers that verify other algorithms
/// (RS256) themselves.
struct DecodedJwt {
  nlohmann::json header;      ///< a JSON object
  nlohmann::json claims;      ///< a JSON object
  std::string signing_input;  ///< "<header b64>.<payload b64>" as received
  std::string signature;      ///< the decoded signature bytes
};

/// Splits and decodes a compact JWS: exactly three dot-separated base64url parts, header
/// and payload JSON objects, header `alg` a string. Fails (code 401) naming what is wrong.
/// Never throws on any input.
Result<DecodedJwt> decodeJwt(std::string_view token);

/// Signs `claims` (a JSON object) with HS256 under `secret`; header {"alg":"HS256","typ":"JWT"}.
/// Invalid UTF-8 in claim strings is replaced (U+FFFD), never thrown.
std::string signHs256(const nlohmann::json& claims, std::string_view secret);

/// Verifies an HS256 token: structure (decodeJwt), `alg` exactly "HS256" (anything else,
/// "none" included, is refused), the signature (constant-time compare), and the time
/// claims when present: `exp` (a number) must be > now_s, `nbf` (a number) <= now_s.
/// Returns the claims; fails (code 401) naming what is wrong. Never throws.
Result<nlohmann::json> verifyHs256(std::string_view token, std::string_view secret, int64_t now_s);

}  // namespace siprecd::control
