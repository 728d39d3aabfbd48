#include "control/api_auth.hpp"

#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "base/manual_event_loop.hpp"
#include "control/json_web_token.hpp"

namespace siprecd::control {
namespace {

using nlohmann::json;

constexpr int64_t kNow = 1'700'000'000;

struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

/// An RSA key pair made for the test, with its public half as PEM and an RS256 signer.
class RsaKey {
 public:
  RsaKey() : key_(EVP_RSA_gen(2048)) {
    if (!key_) {
      throw std::runtime_error("EVP_RSA_gen");
    }
  }
  std::string publicPem() const {
    std::unique_ptr<BIO, BioDeleter> bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_PUBKEY(bio.get(), key_.get());
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
  }
  /// A compact RS256 JWS of `claims`.
  std::string sign(const json& claims, const json& header = {{"alg", "RS256"}, {"typ", "JWT"}}) {
    const std::string input = base64UrlEncode(header.dump()) + "." + base64UrlEncode(claims.dump());
    std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> context(EVP_MD_CTX_new());
    EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, key_.get());
    std::size_t length = 0;
    EVP_DigestSign(context.get(), nullptr, &length,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    std::string signature(length, '\0');
    EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    signature.resize(length);
    return input + "." + base64UrlEncode(signature);
  }

 private:
  Pkey key_;
};

RsaKey& rsaKey() {
  static RsaKey key;
  return key;
}

std::string unsignedToken(const json& header, const json& claims) {
  return base64UrlEncode(header.dump()) + "." + base64UrlEncode(claims.dump()) + ".";
}

DomainSettings keyDomain() {
  DomainSettings domain;
  domain.name = "acme";
  domain.api_key_hashes = {sha256Hex("first-key"), sha256Hex("second-key")};
  return domain;
}

DomainSettings hsDomain() {
  DomainSettings domain;
  domain.name = "acme";
  domain.jwt_hs256_secret = "hs-secret";
  return domain;
}

DomainSettings rsDomain() {
  DomainSettings domain;
  domain.name = "acme";
  domain.jwt_rs256_public_key_pem = rsaKey().publicPem();
  return domain;
}

json claims(json extra = json::object()) {
  json base = {{"domain", "acme"}, {"exp", kNow + 300}, {"sub", "app-1"}};
  base.update(extra);
  return base;
}

Result<ApiPrincipal> authenticate(const DomainSettings& domain, const std::string& token,
                                  int64_t now_s = kNow) {
  return authenticateApiRequest(domain, "Bearer " + token, now_s);
}

int errorCode(const Result<ApiPrincipal>& result) {
  return result ? 0 : result.error().code;
}

TEST(Sha256Hex, MatchesTheKnownDigest) {
  EXPECT_EQ(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ApiAuth, DomainWithoutCredentialsIsOpen) {
  DomainSettings open;
  open.name = "open";
  auto principal = authenticateApiRequest(open, "", kNow);
  ASSERT_TRUE(principal);
  EXPECT_EQ(principal->kind, ApiPrincipal::Kind::Open);
  EXPECT_EQ(principal->id, "open");
  EXPECT_TRUE(authenticateApiRequest(open, "Bearer whatever", kNow));
}

TEST(ApiAuth, MissingOrMalformedCredentialsAre401) {
  EXPECT_EQ(errorCode(authenticateApiRequest(keyDomain(), "", kNow)), 401);
  EXPECT_EQ(errorCode(authenticateApiRequest(keyDomain(), "Basic Zm9vOmJhcg==", kNow)), 401);
  EXPECT_EQ(errorCode(authenticateApiRequest(keyDomain(), "Bearer ", kNow)), 401);
  EXPECT_EQ(errorCode(authenticateApiRequest(keyDomain(), "first-key", kNow)), 401);
}

TEST(ApiAuth, AcceptsEveryConfiguredApiKey) {
  for (const std::string key : {"first-key", "second-key"}) {
    auto principal = authenticate(keyDomain(), key);
    ASSERT_TRUE(principal) << key;
    EXPECT_EQ(principal->kind, ApiPrincipal::Kind::ApiKey);
    EXPECT_EQ(principal->id, "key:" + sha256Hex(key).substr(0, 16));
  }
  // The scheme is case-insensitive (RFC 9110 §11.1); extra blanks are tolerated.
  EXPECT_TRUE(authenticateApiRequest(keyDomain(), "bearer   first-key  ", kNow));
}

TEST(ApiAuth, UpperCaseConfiguredHashStillMatches) {
  DomainSettings domain = keyDomain();
  std::string upper = sha256Hex("third-key");
  for (char& c : upper) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  domain.api_key_hashes = {upper};
  EXPECT_TRUE(authenticate(domain, "third-key"));
}

TEST(ApiAuth, UnknownApiKeyIs401WithoutEchoingIt) {
  auto result = authenticate(keyDomain(), "guessed-key");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, 401);
  EXPECT_EQ(result.error().message.find("guessed-key"), std::string::npos);
  EXPECT_EQ(errorCode(authenticate(keyDomain(), "first-ke")), 401);
  EXPECT_EQ(errorCode(authenticate(keyDomain(), "first-keyX")), 401);
}

TEST(ApiAuth, Hs256TokenWithDomainClaimIsAccepted) {
  auto principal = authenticate(hsDomain(), signHs256(claims(), "hs-secret"));
  ASSERT_TRUE(principal) << principal.error().message;
  EXPECT_EQ(principal->kind, ApiPrincipal::Kind::Jwt);
  EXPECT_EQ(principal->id, "jwt:app-1");
}

TEST(ApiAuth, AudienceNamesTheDomainAsStringOrArray) {
  json by_aud = {{"aud", "acme"}, {"exp", kNow + 10}};
  auto principal = authenticate(hsDomain(), signHs256(by_aud, "hs-secret"));
  ASSERT_TRUE(principal) << principal.error().message;
  EXPECT_EQ(principal->id.rfind("jwt:", 0), 0u);  // no sub: named after the token's hash
  json by_list = {{"aud", {"other", "acme"}}, {"exp", kNow + 10}};
  EXPECT_TRUE(authenticate(hsDomain(), signHs256(by_list, "hs-secret")));
}

TEST(ApiAuth, TokenForAnotherDomainIs403) {
  EXPECT_EQ(
      errorCode(authenticate(hsDomain(), signHs256(claims({{"domain", "evil"}}), "hs-secret"))),
      403);
  EXPECT_EQ(errorCode(authenticate(
                hsDomain(), signHs256({{"aud", {"evil", "x"}}, {"exp", kNow + 10}}, "hs-secret"))),
            403);
  EXPECT_EQ(errorCode(authenticate(hsDomain(), signHs256({{"exp", kNow + 10}}, "hs-secret"))), 403);
  // `domain` decides even when `aud` would match.
  EXPECT_EQ(errorCode(authenticate(
                hsDomain(), signHs256(claims({{"domain", "evil"}, {"aud", "acme"}}), "hs-secret"))),
            403);
}

TEST(ApiAuth, ExpiryNeedsExpAndAllowsSixtySecondsOfSkew) {
  const auto token = signHs256(claims({{"exp", kNow}}), "hs-secret");
  EXPECT_TRUE(authenticate(hsDomain(), token, kNow + 60));
  EXPECT_EQ(errorCode(authenticate(hsDomain(), token, kNow + 61)), 401);
  json no_exp = claims();
  no_exp.erase("exp");
  EXPECT_EQ(errorCode(authenticate(hsDomain(), signHs256(no_exp, "hs-secret"))), 401);
  EXPECT_EQ(errorCode(authenticate(hsDomain(), signHs256(claims({{"exp", "soon"}}), "hs-secret"))),
            401);
}

TEST(ApiAuth, NotBeforeIsHonouredWithSkew) {
  const auto token = signHs256(claims({{"nbf", kNow + 60}}), "hs-secret");
  EXPECT_TRUE(authenticate(hsDomain(), token, kNow));
  const auto later = signHs256(claims({{"nbf", kNow + 61}}), "hs-secret");
  EXPECT_EQ(errorCode(authenticate(hsDomain(), later, kNow)), 401);
}

// Found by json_web_token_fuzz: dates beyond int64 were converted unclamped (undefined
// behaviour; on x86 a far-future exp became a past one, a far-future nbf a past one).
TEST(ApiAuth, DatesBeyondInt64AreClampedNotWrapped) {
  EXPECT_TRUE(authenticate(hsDomain(), signHs256(claims({{"exp", 1e300}}), "hs-secret")));
  EXPECT_EQ(errorCode(authenticate(hsDomain(), signHs256(claims({{"exp", -1e300}}), "hs-secret"))),
            401);
  EXPECT_EQ(errorCode(authenticate(hsDomain(), signHs256(claims({{"nbf", 1e300}}), "hs-secret"))),
            401);
}

TEST(ApiAuth, WrongSecretOrTamperedTokenIs401) {
  EXPECT_EQ(errorCode(authenticate(hsDomain(), signHs256(claims(), "other-secret"))), 401);
  std::string token = signHs256(claims(), "hs-secret");
  const auto dot = token.find('.');
  const std::string forged_claims = base64UrlEncode(claims({{"sub", "admin"}}).dump());
  const auto second_dot = token.find('.', dot + 1);
  token = token.substr(0, dot + 1) + forged_claims + token.substr(second_dot);
  EXPECT_EQ(errorCode(authenticate(hsDomain(), token)), 401);
  EXPECT_EQ(errorCode(authenticate(hsDomain(), "a.b.c")), 401);
  EXPECT_EQ(errorCode(authenticate(hsDomain(), "not-a-token")), 401);
}

TEST(ApiAuth, AlgNoneIsRefused) {
  const auto token = unsignedToken({{"alg", "none"}}, claims());
  auto result = authenticate(hsDomain(), token);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, 401);
  EXPECT_NE(result.error().message.find("none"), std::string::npos);
  EXPECT_EQ(errorCode(authenticate(rsDomain(), token)), 401);
}

TEST(ApiAuth, Rs256TokenVerifiesWithThePublicKey) {
  auto principal = authenticate(rsDomain(), rsaKey().sign(claims()));
  ASSERT_TRUE(principal) << principal.error().message;
  EXPECT_EQ(principal->id, "jwt:app-1");
  EXPECT_EQ(errorCode(authenticate(rsDomain(), rsaKey().sign(claims({{"domain", "evil"}})))), 403);
  EXPECT_EQ(errorCode(authenticate(rsDomain(), rsaKey().sign(claims({{"exp", kNow - 100}})))), 401);
}

TEST(ApiAuth, Rs256SignedByAnotherKeyIs401) {
  RsaKey other;
  EXPECT_EQ(errorCode(authenticate(rsDomain(), other.sign(claims()))), 401);
}

TEST(ApiAuth, AlgorithmMustMatchAConfiguredKey) {
  // The classic confusion: HS256 "signed" with the RSA public key as the HMAC secret.
  const auto confused = signHs256(claims(), rsaKey().publicPem());
  EXPECT_EQ(errorCode(authenticate(rsDomain(), confused)), 401);
  // RS256 presented to a domain that only has an HS256 secret.
  EXPECT_EQ(errorCode(authenticate(hsDomain(), rsaKey().sign(claims()))), 401);
  // A header that says HS256 over an RS256 signature.
  EXPECT_EQ(errorCode(authenticate(rsDomain(), rsaKey().sign(claims(), {{"alg", "HS256"}}))), 401);
  EXPECT_EQ(errorCode(authenticate(hsDomain(), signHs256(claims(), "hs-secret") + "x")), 401);
}

TEST(ApiAuth, DomainWithKeysAndJwtAcceptsBoth) {
  DomainSettings domain = keyDomain();
  domain.jwt_hs256_secret = "hs-secret";
  EXPECT_TRUE(authenticate(domain, "second-key"));
  EXPECT_TRUE(authenticate(domain, signHs256(claims(), "hs-secret")));
  EXPECT_EQ(errorCode(authenticate(domain, "third-key")), 401);
}

TEST(RateLimiter, AllowsABurstThenAsksToRetry) {
  ManualClock clock;
  RateLimiter limiter(2.0, 3.0, clock);
  EXPECT_EQ(limiter.acquire("acme|key:a"), 0);
  EXPECT_EQ(limiter.acquire("acme|key:a"), 0);
  EXPECT_EQ(limiter.acquire("acme|key:a"), 0);
  EXPECT_EQ(limiter.acquire("acme|key:a"), 1);
  // Other clients have their own buckets.
  EXPECT_EQ(limiter.acquire("acme|key:b"), 0);
  clock.advance(std::chrono::milliseconds(499));
  EXPECT_EQ(limiter.acquire("acme|key:a"), 1);
  clock.advance(std::chrono::milliseconds(2));
  EXPECT_EQ(limiter.acquire("acme|key:a"), 0);
}

TEST(RateLimiter, RefillsUpToTheBurstOnly) {
  ManualClock clock;
  RateLimiter limiter(1.0, 2.0, clock);
  EXPECT_EQ(limiter.acquire("k"), 0);
  EXPECT_EQ(limiter.acquire("k"), 0);
  clock.advance(std::chrono::seconds(100));
  EXPECT_EQ(limiter.acquire("k"), 0);
  EXPECT_EQ(limiter.acquire("k"), 0);
  EXPECT_EQ(limiter.acquire("k"), 1);
}

TEST(RateLimiter, SlowRatesGiveLongerRetryAfter) {
  ManualClock clock;
  RateLimiter limiter(0.1, 1.0, clock);
  EXPECT_EQ(limiter.acquire("k"), 0);
  EXPECT_EQ(limiter.acquire("k"), 10);
}

TEST(RateLimiter, ZeroRateDisablesLimiting) {
  ManualClock clock;
  RateLimiter limiter(0.0, 1.0, clock);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(limiter.acquire("k"), 0);
  }
}

}  // namespace
}  // namespace siprecd::control
