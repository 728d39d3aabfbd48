#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/clock.hpp"
#include "base/result.hpp"
#include "control/domain_settings.hpp"

/// Authentication of REST API requests (DESIGN.md §5 "Security") and per-client rate
/// limits. Pure functions and one thread-safe class; no I/O.
namespace siprecd::control {

/// Who made a request, as far as the API cares.
struct ApiPrincipal {
  enum class Kind { Open, ApiKey, Jwt };
  Kind kind = Kind::Open;
  /// A stable, non-secret name of the credential for rate limits and logs: "open",
  /// "key:<first 16 hex digits of the key's SHA-256>", "jwt:<sub>" (or "jwt:" + the first
  /// 16 hex digits of the token's SHA-256 when it has no `sub`).
  std::string id;
};

/// Lower-case hex SHA-256 of `text` (API keys are configured and compared in this form).
std::string sha256Hex(std::string_view text);

/// Authenticates a request to `domain` from its Authorization header value.
/// - A domain without credentials (DomainSettings::hasCredentials() false) is open: any
///   request passes as Kind::Open (credentials sent anyway are ignored).
/// - "Bearer <token>": the token is an API key when its SHA-256 equals one of the domain's
///   api_key_hashes (constant-time comparison), else it must be a JWT that verifies
///   (verifyJwt).
/// Fails with code 401 (missing or malformed header, unknown key, bad or expired token) or
/// 403 (a valid token issued for another domain), naming the problem but never echoing the
/// credential. `now_s`: Unix time in seconds.
Result<ApiPrincipal> authenticateApiRequest(const DomainSettings& domain,
                                            std::string_view authorization, int64_t now_s);

/// Verifies a compact JWS (RFC 7515/7519) for `domain` and returns its claims.
/// `alg` must be HS256 (with the domain's jwt_hs256_secret) or RS256 (with its
/// jwt_rs256_public_key_pem); "none", any other alg, or an alg whose key the domain lacks is
/// refused. `exp` (a number) is required and `nbf` honoured, both with 60 s of clock skew.
/// The claim `domain`, or else `aud` (a string or an array of strings), must name the
/// domain (403 otherwise); everything else fails with 401.
Result<nlohmann::json> verifyJwt(std::string_view token, const DomainSettings& domain,
                                 int64_t now_s);

/// Token buckets per client key (e.g. "domain|principal"): each holds up to `burst`
/// requests and refills at `per_second`. A per_second of 0 disables limiting.
/// Thread-safe (one private mutex, held only for the arithmetic). Idle full buckets are
/// dropped so memory stays bounded by the active clients.
class RateLimiter {
 public:
  RateLimiter(double per_second, double burst, const Clock& clock);

  /// Takes one token from `key`'s bucket. Returns 0 when the request may proceed,
  /// otherwise the whole seconds (>= 1) until a token is available (Retry-After).
  int64_t acquire(const std::string& key);

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point updated;
  };
  void dropIdleBuckets(std::chrono::steady_clock::time_point now);

  const double per_second_;
  const double burst_;
  const Clock& clock_;
  std::mutex mutex_;
  std::map<std::string, Bucket> buckets_;
};

}  // namespace siprecd::control
