#include "control/api_auth.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <optional>

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "base/strings.hpp"
#include "control/json_web_token.hpp"

namespace siprecd::control {
namespace {

/// RFC 7519 §4.1.4: "some small leeway ... to account for clock skew".
constexpr int64_t kClockSkewS = 60;
constexpr std::size_t kMaxTokenBytes = 8192;
constexpr std::size_t kMaxBuckets = 10000;

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};

tl::unexpected<Error> unauthorized(std::string message) {
  return fail(std::move(message), 401);
}

bool constantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool hs256Matches(std::string_view signing_input, std::string_view signature,
                  const std::string& secret) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_length = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(),
           mac.data(), &mac_length) == nullptr) {
    return false;
  }
  return constantTimeEquals(std::string_view(reinterpret_cast<const char*>(mac.data()), mac_length),
                            signature);
}

Result<bool> verifyRs256(std::string_view signing_input, std::string_view signature,
                         const std::string& public_key_pem) {
  std::unique_ptr<BIO, BioDeleter> bio(
      BIO_new_mem_buf(public_key_pem.data(), static_cast<int>(public_key_pem.size())));
  if (!bio) {
    return fail("cannot read the domain's RS256 public key", 500);
  }
  std::unique_ptr<EVP_PKEY, PkeyDeleter> key(
      PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key || EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA) {
    return fail("the domain's RS256 public key is not an RSA public key in PEM", 500);
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> context(EVP_MD_CTX_new());
  if (!context ||
      EVP_DigestVerifyInit(context.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1) {
    return fail("cannot initialise RS256 verification", 500);
  }
  const int verified = EVP_DigestVerify(
      context.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
      reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size());
  return verified == 1;
}

/// An integral NumericDate claim (RFC 7519 §2), nullopt when absent; an error when present
/// but not a number.
Result<std::optional<int64_t>> numericDate(const nlohmann::json& claims, std::string_view name) {
  const auto it = claims.find(name);
  if (it == claims.end()) {
    return std::nullopt;
  }
  if (!it->is_number() || !std::isfinite(it->get<double>())) {
    return unauthorized(fmt::format("token claim {} is not a number", name));
  }
  // A date beyond ±9.2e18 s is as good as the extreme (converting it unclamped is undefined
  // behaviour, and turned a far-future exp into a past one); the margin keeps "+ skew" safe.
  constexpr double kLimitS = 9.2e18;
  return static_cast<int64_t>(std::clamp(std::floor(it->get<double>()), -kLimitS, kLimitS));
}

bool audienceNames(const nlohmann::json& audience, const std::string& domain) {
  if (audience.is_string()) {
    return audience.get_ref<const std::string&>() == domain;
  }
  if (audience.is_array()) {
    return std::any_of(audience.begin(), audience.end(), [&domain](const nlohmann::json& item) {
      return item.is_string() && item.get_ref<const std::string&>() == domain;
    });
  }
  return false;
}

}  // namespace

std::string sha256Hex(std::string_view text) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest.data());
  std::string hex;
  hex.reserve(digest.size() * 2);
  for (const unsigned char byte : digest) {
    hex += fmt::format("{:02x}", byte);
  }
  return hex;
}

Result<nlohmann::json> verifyJwt(std::string_view token, const DomainSettings& domain,
                                 int64_t now_s) {
  if (token.size() > kMaxTokenBytes) {
    return unauthorized("token too long");
  }
  auto decoded = decodeJwt(token);
  if (!decoded) {
    return unauthorized(decoded.error().message);
  }
  const auto& alg = decoded->header["alg"].get_ref<const std::string&>();
  // RFC 8725 §3.1: the key configured decides the algorithm, never the token alone.
  bool verified = false;
  if (alg == "HS256" && !domain.jwt_hs256_secret.empty()) {
    verified = hs256Matches(decoded->signing_input, decoded->signature, domain.jwt_hs256_secret);
  } else if (alg == "RS256" && !domain.jwt_rs256_public_key_pem.empty()) {
    auto ok =
        verifyRs256(decoded->signing_input, decoded->signature, domain.jwt_rs256_public_key_pem);
    if (!ok) {
      return tl::unexpected(ok.error());
    }
    verified = *ok;
  } else {
    return unauthorized(fmt::format("token algorithm \"{}\" is not accepted for domain {}",
                                    alg.substr(0, 16), domain.name));
  }
  if (!verified) {
    return unauthorized("token signature does not verify");
  }
  const nlohmann::json& claims = decoded->claims;
  auto expires = numericDate(claims, "exp");
  if (!expires) {
    return tl::unexpected(expires.error());
  }
  if (!*expires) {
    return unauthorized("token has no exp claim");
  }
  if (now_s > **expires + kClockSkewS) {
    return unauthorized("token expired");
  }
  auto not_before = numericDate(claims, "nbf");
  if (!not_before) {
    return tl::unexpected(not_before.error());
  }
  if (*not_before && now_s + kClockSkewS < **not_before) {
    return unauthorized("token not valid yet (nbf)");
  }
  if (const auto it = claims.find("domain"); it != claims.end()) {
    if (!it->is_string() || it->get_ref<const std::string&>() != domain.name) {
      return fail(fmt::format("token is not valid for domain {} (claim domain)", domain.name), 403);
    }
  } else if (const auto aud = claims.find("aud"); aud != claims.end()) {
    if (!audienceNames(*aud, domain.name)) {
      return fail(fmt::format("token is not valid for domain {} (claim aud)", domain.name), 403);
    }
  } else {
    return fail(
        fmt::format("token names no domain (claims domain, aud); domain {} required", domain.name),
        403);
  }
  return decoded->claims;
}

Result<ApiPrincipal> authenticateApiRequest(const DomainSettings& domain,
                                            std::string_view authorization, int64_t now_s) {
  if (!domain.hasCredentials()) {
    return ApiPrincipal{ApiPrincipal::Kind::Open, "open"};
  }
  const std::string_view value = trim(authorization);
  if (value.empty()) {
    return unauthorized("credentials required (Authorization: Bearer <API key or JWT>)");
  }
  constexpr std::string_view kScheme = "bearer ";
  if (!istartsWith(value, kScheme)) {
    return unauthorized("the Authorization scheme must be Bearer");
  }
  const std::string_view token = trim(value.substr(kScheme.size()));
  if (token.empty()) {
    return unauthorized("empty bearer token");
  }
  const std::string hash = sha256Hex(token);
  bool key_matches = false;
  for (const auto& configured : domain.api_key_hashes) {
    // Every configured hash is compared, so timing does not reveal which one matched.
    key_matches = constantTimeEquals(hash, toLower(configured)) || key_matches;
  }
  if (key_matches) {
    return ApiPrincipal{ApiPrincipal::Kind::ApiKey, "key:" + hash.substr(0, 16)};
  }
  if (domain.jwt_hs256_secret.empty() && domain.jwt_rs256_public_key_pem.empty()) {
    return unauthorized("invalid API key");
  }
  auto claims = verifyJwt(token, domain, now_s);
  if (!claims) {
    if (claims.error().code == 401 && std::count(token.begin(), token.end(), '.') != 2) {
      return unauthorized("invalid API key");
    }
    return tl::unexpected(claims.error());
  }
  std::string subject;
  if (const auto it = claims->find("sub"); it != claims->end() && it->is_string()) {
    subject = it->get<std::string>().substr(0, 128);
  }
  return ApiPrincipal{ApiPrincipal::Kind::Jwt,
                      "jwt:" + (subject.empty() ? hash.substr(0, 16) : subject)};
}

RateLimiter::RateLimiter(double per_second, double burst, const Clock& clock)
    : per_second_(per_second), burst_(std::max(burst, 1.0)), clock_(clock) {}

int64_t RateLimiter::acquire(const std::string& key) {
  if (per_second_ <= 0) {
    return 0;
  }
  const auto now = clock_.steadyNow();
  std::lock_guard lock(mutex_);
  if (buckets_.size() >= kMaxBuckets) {
    dropIdleBuckets(now);
  }
  auto [it, inserted] = buckets_.try_emplace(key, Bucket{burst_, now});
  Bucket& bucket = it->second;
  if (!inserted) {
    const double elapsed_s = std::chrono::duration<double>(now - bucket.updated).count();
    bucket.tokens = std::min(burst_, bucket.tokens + std::max(elapsed_s, 0.0) * per_second_);
    bucket.updated = now;
  }
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    return 0;
  }
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil((1.0 - bucket.tokens) / per_second_)));
}

void RateLimiter::dropIdleBuckets(std::chrono::steady_clock::time_point now) {
  const auto refill = std::chrono::duration<double>(burst_ / per_second_);
  std::erase_if(buckets_, [&](const auto& entry) {
    return std::chrono::duration<double>(now - entry.second.updated) >= refill;
  });
}

}  // namespace siprecd::control
