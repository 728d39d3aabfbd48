// Fuzz target for the REST API's credential parsers (src/control/): base64url and JWS
// decoding (json_web_token.cpp), the callback signature header (callback_signature.cpp) and
// bearer authentication with HS256/RS256 JWT verification (api_auth.cpp).
// The input is used whole as a token, an Authorization value and a signature header.
// Properties:
// - nothing crashes; every failure carries the documented code and a message, and an
//   authentication failure never echoes the credential;
// - base64url decoding is canonical: decode → encode gives the input back (without '=');
// - a decoded token re-encodes to the signature part it came from;
// - sign → verify: a token signed (HS256) from the fuzz claims verifies with verifyHs256
//   and verifyJwt exactly when their documented time and domain rules say so, returning the
//   claims unchanged, and authenticates as a JWT principal; a wrong secret never verifies;
// - a callback signature made by signCallback verifies for its body and time only.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/strings.hpp"
#include "control/api_auth.hpp"
#include "control/callback_signature.hpp"
#include "control/json_web_token.hpp"

namespace {

using nlohmann::json;
using siprecd::control::ApiPrincipal;
using siprecd::control::DomainSettings;

constexpr int64_t kNow = 1'700'000'000;
constexpr int64_t kSkewS = 60;  // api_auth.cpp's clock-skew leeway
constexpr std::size_t kMaxTokenBytes = 8192;
constexpr std::string_view kSecret = "fuzz-hs256-secret";
constexpr std::string_view kCallbackSecret = "fuzz-callback-secret";
constexpr std::string_view kApiKey = "fuzz-api-key";

// Generated once for this target (openssl genpkey -algorithm RSA, 2048 bits); the private
// half was discarded after signing the RS256 seeds in corpus/json_web_token/.
constexpr std::string_view kRs256PublicKeyPem = R"(-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAxqJaD6fR9Yq9X6d6Cnuc
1lV10ipgzJKWWm9pkqTWBkDovMA3jtiI3S+ffnk1TP30T597z0gBHEQKN5wbVOs5
5+Kocfek5T/omk1Vp3SLj0Ad7L82YvMXE0Tt1A9hL36WUQ6bHsGZWwu6Bnp/LdAt
bZ4/W9WNVuDyAtIChRjDXizrTYvjsq1xmISF8ZmH7oqQslBNLibH//1pYJXf5uMd
wVSXpoN0T7TiCTOHzxrUMpVzy+NPug2PG32Ekt9wmCDUa7divs7t0tbeshHkDWiz
CAX6vP4UF/+byzYQu3CF/+bezkNsE4zvn3P7q7VJBDFcpb3QuU5e1WK6HaOvDTlN
XQIDAQAB
-----END PUBLIC KEY-----
)";

void check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

const DomainSettings& fullDomain() {
  static const DomainSettings domain = [] {
    DomainSettings settings;
    settings.name = "fuzz.example";
    settings.api_key_hashes = {siprecd::control::sha256Hex(kApiKey)};
    settings.jwt_hs256_secret = std::string(kSecret);
    settings.jwt_rs256_public_key_pem = std::string(kRs256PublicKeyPem);
    return settings;
  }();
  return domain;
}

const DomainSettings& keysOnlyDomain() {
  static const DomainSettings domain = [] {
    DomainSettings settings;
    settings.name = "keys.example";
    // Upper case: configured hashes are compared case-insensitively.
    std::string upper = siprecd::control::sha256Hex(kApiKey);
    for (char& c : upper) {
      c = (c >= 'a' && c <= 'f') ? static_cast<char>(c - 'a' + 'A') : c;
    }
    settings.api_key_hashes = {std::string(64, '0'), upper};
    return settings;
  }();
  return domain;
}

std::string stripPadding(std::string_view text) {
  while (!text.empty() && text.back() == '=') {
    text.remove_suffix(1);
  }
  return std::string(text);
}

/// The claims as a token carries them: signHs256 replaces invalid UTF-8 and non-finite
/// numbers become null in the JSON text.
json asSigned(const json& claims) {
  json parsed = json::parse(claims.dump(-1, ' ', false, json::error_handler_t::replace), nullptr,
                            /*allow_exceptions=*/false);
  check(parsed.is_object());
  return parsed;
}

/// verifyHs256's documented time rules: 0 when they pass, else 401.
int expectedHs256(const json& claims) {
  if (const auto exp = claims.find("exp"); exp != claims.end()) {
    if (!exp->is_number() || exp->get<double>() <= static_cast<double>(kNow)) {
      return 401;
    }
  }
  if (const auto nbf = claims.find("nbf"); nbf != claims.end()) {
    if (!nbf->is_number() || nbf->get<double>() > static_cast<double>(kNow)) {
      return 401;
    }
  }
  return 0;
}

/// verifyJwt's documented rules for a correctly signed token: 0, 401 or 403.
int expectedJwt(const json& claims, const std::string& domain) {
  const auto exp = claims.find("exp");
  if (exp == claims.end() || !exp->is_number() || !std::isfinite(exp->get<double>())) {
    return 401;
  }
  if (static_cast<double>(kNow) > std::floor(exp->get<double>()) + kSkewS) {
    return 401;
  }
  if (const auto nbf = claims.find("nbf"); nbf != claims.end()) {
    if (!nbf->is_number() || !std::isfinite(nbf->get<double>())) {
      return 401;
    }
    if (static_cast<double>(kNow + kSkewS) < std::floor(nbf->get<double>())) {
      return 401;
    }
  }
  if (const auto claim = claims.find("domain"); claim != claims.end()) {
    return claim->is_string() && claim->get<std::string>() == domain ? 0 : 403;
  }
  const auto aud = claims.find("aud");
  if (aud == claims.end()) {
    return 403;
  }
  if (aud->is_string()) {
    return aud->get<std::string>() == domain ? 0 : 403;
  }
  if (aud->is_array()) {
    for (const json& item : *aud) {
      if (item.is_string() && item.get<std::string>() == domain) {
        return 0;
      }
    }
  }
  return 403;
}

void checkBase64(std::string_view text) {
  auto decoded = siprecd::control::base64UrlDecode(text);
  if (decoded) {
    check(siprecd::control::base64UrlEncode(*decoded) == stripPadding(text));
  } else {
    check(decoded.error().code == 400 && !decoded.error().message.empty());
  }
  auto back = siprecd::control::base64UrlDecode(siprecd::control::base64UrlEncode(text));
  check(back.has_value() && *back == text);
}

/// Decodes `text` as a compact JWS; returns the claims when it is one.
std::optional<json> checkDecode(std::string_view text) {
  auto decoded = siprecd::control::decodeJwt(text);
  if (!decoded) {
    check(decoded.error().code == 401 && !decoded.error().message.empty());
    return std::nullopt;
  }
  check(decoded->header.is_object() && decoded->claims.is_object());
  check(decoded->header.contains("alg") && decoded->header["alg"].is_string());
  const std::size_t last_dot = text.rfind('.');
  check(decoded->signing_input == text.substr(0, last_dot));
  check(siprecd::control::base64UrlEncode(decoded->signature) ==
        stripPadding(text.substr(last_dot + 1)));
  return decoded->claims;
}

/// Authenticates `authorization` against each domain and checks the outcome's contract.
void checkAuthenticate(std::string_view authorization) {
  DomainSettings open;
  open.name = "open.example";
  auto anyone = siprecd::control::authenticateApiRequest(open, authorization, kNow);
  check(anyone.has_value() && anyone->kind == ApiPrincipal::Kind::Open);

  const std::string_view value = siprecd::trim(authorization);
  const bool bearer = siprecd::istartsWith(value, "bearer ");
  const std::string_view token = bearer ? siprecd::trim(value.substr(7)) : std::string_view();
  for (const DomainSettings* domain : {&fullDomain(), &keysOnlyDomain()}) {
    auto principal = siprecd::control::authenticateApiRequest(*domain, authorization, kNow);
    if (!principal) {
      const auto& error = principal.error();
      check((error.code == 401 || error.code == 403) && !error.message.empty());
      check(token.size() < 16 || error.message.find(token) == std::string::npos);
      continue;
    }
    check(bearer && !token.empty());
    if (token == kApiKey) {
      check(principal->kind == ApiPrincipal::Kind::ApiKey);
      check(principal->id == "key:" + siprecd::control::sha256Hex(kApiKey).substr(0, 16));
    } else {
      check(principal->kind == ApiPrincipal::Kind::Jwt && domain == &fullDomain());
      check(principal->id.starts_with("jwt:") && principal->id.size() > 4);
      check(siprecd::control::verifyJwt(token, *domain, kNow).has_value());
    }
  }
}

void checkVerifyArbitrary(std::string_view text) {
  auto hs256 = siprecd::control::verifyHs256(text, kSecret, kNow);
  check(hs256 || hs256.error().code == 401);
  auto jwt = siprecd::control::verifyJwt(text, fullDomain(), kNow);
  check(jwt || jwt.error().code == 401 || jwt.error().code == 403);
  if (jwt) {
    check(jwt->is_object());
  }
  auto callback = siprecd::control::verifyCallbackSignature(kCallbackSecret, text, "{}", kNow);
  check(callback || (callback.error().code == 401 && !callback.error().message.empty()));
}

/// Signs `claims` with HS256 and checks both verifiers and the authenticator against
/// their documented rules.
void checkSignVerify(const json& claims) {
  const json carried = asSigned(claims);
  const std::string token = siprecd::control::signHs256(claims, kSecret);

  auto decoded = siprecd::control::decodeJwt(token);
  check(decoded.has_value());
  check(decoded->header.value("alg", "") == "HS256" && decoded->claims == carried);

  auto hs256 = siprecd::control::verifyHs256(token, kSecret, kNow);
  check(hs256.has_value() == (expectedHs256(carried) == 0));
  if (hs256) {
    check(*hs256 == carried);
  }
  check(!siprecd::control::verifyHs256(token, "another-secret", kNow));
  std::string tampered = token;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  check(!siprecd::control::verifyHs256(tampered, kSecret, kNow));

  if (token.size() > kMaxTokenBytes) {
    check(!siprecd::control::verifyJwt(token, fullDomain(), kNow));
    return;
  }
  auto jwt = siprecd::control::verifyJwt(token, fullDomain(), kNow);
  const int expected = expectedJwt(carried, fullDomain().name);
  check(jwt ? expected == 0 : jwt.error().code == expected);
  if (jwt) {
    check(*jwt == carried);
  }

  // The same claims made acceptable: they must authenticate, with `sub` as the id.
  json valid = claims;
  valid["exp"] = kNow + 600;
  valid.erase("nbf");
  valid["domain"] = fullDomain().name;
  const std::string good = siprecd::control::signHs256(valid, kSecret);
  if (good.size() > kMaxTokenBytes) {
    return;
  }
  auto principal = siprecd::control::authenticateApiRequest(fullDomain(), "Bearer " + good, kNow);
  check(principal.has_value() && principal->kind == ApiPrincipal::Kind::Jwt);
  const json valid_carried = asSigned(valid);
  const auto sub = valid_carried.find("sub");
  if (sub != valid_carried.end() && sub->is_string() && !sub->get<std::string>().empty()) {
    check(principal->id == "jwt:" + sub->get<std::string>().substr(0, 128));
  } else {
    check(principal->id == "jwt:" + siprecd::control::sha256Hex(good).substr(0, 16));
  }
  check(!siprecd::control::authenticateApiRequest(keysOnlyDomain(), "Bearer " + good, kNow));
}

void checkCallbackSignature(std::string_view body, int64_t signed_at) {
  const std::string header = siprecd::control::signCallback(kCallbackSecret, signed_at, body);
  check(siprecd::control::verifyCallbackSignature(kCallbackSecret, header, body, signed_at)
            .has_value());
  check(siprecd::control::verifyCallbackSignature(kCallbackSecret, header, body, signed_at + 300)
            .has_value());
  check(!siprecd::control::verifyCallbackSignature(kCallbackSecret, header, body, signed_at + 301));
  check(!siprecd::control::verifyCallbackSignature("other", header, body, signed_at));
  check(!siprecd::control::verifyCallbackSignature(kCallbackSecret, header, std::string(body) + " ",
                                                   signed_at));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  checkBase64(text);
  const std::optional<json> token_claims = checkDecode(text);
  checkVerifyArbitrary(text);
  checkAuthenticate(text);
  checkAuthenticate("Bearer " + std::string(text));

  // Claims for the sign → verify round trip: the token's own, else the input as a JSON
  // object, else the input as the subject.
  json claims = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (token_claims) {
    claims = *token_claims;
  } else if (!claims.is_object()) {
    claims = json{{"sub", std::string(text)}};
  }
  checkSignVerify(claims);

  int64_t signed_at = 0;
  for (std::size_t i = 0; i < size && i < 4; ++i) {
    signed_at = (signed_at << 8) | data[i];
  }
  checkCallbackSignature(text, signed_at);
  return 0;
}
