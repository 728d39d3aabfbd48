#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.hpp"

/// Signing of callback bodies (DESIGN.md §2 "Callbacks and events"):
///   X-Siprecd-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>
/// The timestamp inside the signed text lets a receiver refuse replays of old bodies.
/// Every function here is pure and thread-safe.
namespace siprecd::control {

/// The header carrying the signature.
inline constexpr std::string_view kSignatureHeader = "X-Siprecd-Signature";

using Sha256Digest = std::array<unsigned char, 32>;

/// HMAC-SHA256 (RFC 2104, FIPS 180-4) of `data` under `key` (OpenSSL).
Sha256Digest hmacSha256(std::string_view key, std::string_view data);
/// SHA-256 of `data`.
Sha256Digest sha256(std::string_view data);
/// Lower-case hex of `bytes`.
std::string toHex(std::string_view bytes);
std::string toHex(const Sha256Digest& digest);
/// Compares in time independent of where the inputs differ (CRYPTO_memcmp); false when the
/// sizes differ.
bool constantTimeEquals(std::string_view a, std::string_view b);

/// The header value "t=<unix_s>,v1=<hex>" for `body` signed with `secret` at `unix_s`.
std::string signCallback(std::string_view secret, int64_t unix_s, std::string_view body);

/// Checks a header value as a receiver would: it must hold t= and at least one v1= (other
/// keys are ignored), one v1 must match the HMAC of `body` and |now_s - t| must be within
/// `tolerance`. Fails (code 401) naming what is wrong. For tests and example receivers.
Result<void> verifyCallbackSignature(std::string_view secret, std::string_view header,
                                     std::string_view body, int64_t now_s,
                                     std::chrono::seconds tolerance = std::chrono::minutes(5));

}  // namespace siprecd::control
