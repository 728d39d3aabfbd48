#include "control/json_web_token.hpp"

#include <array>
#include <cstddef>

#include "control/callback_signature.hpp"

namespace siprecd::control {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The 6-bit value of a base64url character, or -1.
int sextet(char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == '-') {
    return 62;
  }
  if (c == '_') {
    return 63;
  }
  return -1;
}

Result<nlohmann::json> parseObject(std::string_view encoded, std::string_view part) {
  auto text = base64UrlDecode(encoded);
  if (!text) {
    return fail("JWT " + std::string(part) + ": " + text.error().message, 401);
  }
  auto json = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) {
    return fail("JWT " + std::string(part) + ": not a JSON object", 401);
  }
  return json;
}

Result<void> checkTimeClaims(const nlohmann::json& claims, int64_t now_s) {
  if (const auto exp = claims.find("exp"); exp != claims.end()) {
    if (!exp->is_number()) {
      return fail("JWT exp: not a number", 401);
    }
    if (exp->get<double>() <= static_cast<double>(now_s)) {
      return fail("JWT exp: the token has expired", 401);
    }
  }
  if (const auto nbf = claims.find("nbf"); nbf != claims.end()) {
    if (!nbf->is_number()) {
      return fail("JWT nbf: not a number", 401);
    }
    if (nbf->get<double>() > static_cast<double>(now_s)) {
      return fail("JWT nbf: the token is not valid yet", 401);
    }
  }
  return {};
}

}  // namespace

std::string base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  const auto byte = [&](std::size_t at) { return static_cast<unsigned char>(bytes[at]); };
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t triple = (uint32_t{byte(i)} << 16) | (uint32_t{byte(i + 1)} << 8) | byte(i + 2);
    out.push_back(kAlphabet[(triple >> 18) & 0x3f]);
    out.push_back(kAlphabet[(triple >> 12) & 0x3f]);
    out.push_back(kAlphabet[(triple >> 6) & 0x3f]);
    out.push_back(kAlphabet[triple & 0x3f]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const uint32_t value = uint32_t{byte(i)} << 16;
    out.push_back(kAlphabet[(value >> 18) & 0x3f]);
    out.push_back(kAlphabet[(value >> 12) & 0x3f]);
  } else if (rest == 2) {
    const uint32_t value = (uint32_t{byte(i)} << 16) | (uint32_t{byte(i + 1)} << 8);
    out.push_back(kAlphabet[(value >> 18) & 0x3f]);
    out.push_back(kAlphabet[(value >> 12) & 0x3f]);
    out.push_back(kAlphabet[(value >> 6) & 0x3f]);
  }
  return out;
}

Result<std::string> base64UrlDecode(std::string_view text) {
  while (!text.empty() && text.back() == '=') {
    text.remove_suffix(1);
  }
  if (text.size() % 4 == 1) {
    return fail("base64url: impossible length", 400);
  }
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t buffer = 0;
  int bits = 0;
  for (const char c : text) {
    const int value = sextet(c);
    if (value < 0) {
      return fail("base64url: invalid character", 400);
    }
    buffer = (buffer << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  // Leftover bits must be zero (canonical encoding), so that each token has one spelling.
  if (bits > 0 && (buffer & ((1U << bits) - 1)) != 0) {
    return fail("base64url: non-zero trailing bits", 400);
  }
  return out;
}

Result<DecodedJwt> decodeJwt(std::string_view token) {
  const std::size_t first = token.find('.');
  if (first == std::string_view::npos) {
    return fail("JWT: not three dot-separated parts", 401);
  }
  const std::size_t second = token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return fail("JWT: not three dot-separated parts", 401);
  }
  DecodedJwt decoded;
  auto header = parseObject(token.substr(0, first), "header");
  if (!header) {
    return tl::unexpected(header.error());
  }
  const auto alg = header->find("alg");
  if (alg == header->end() || !alg->is_string()) {
    return fail("JWT header: alg missing", 401);
  }
  auto claims = parseObject(token.substr(first + 1, second - first - 1), "payload");
  if (!claims) {
    return tl::unexpected(claims.error());
  }
  auto signature = base64UrlDecode(token.substr(second + 1));
  if (!signature) {
    return fail("JWT signature: " + signature.error().message, 401);
  }
  decoded.header = std::move(*header);
  decoded.claims = std::move(*claims);
  decoded.signing_input = std::string(token.substr(0, second));
  decoded.signature = std::move(*signature);
  return decoded;
}

std::string signHs256(const nlohmann::json& claims, std::string_view secret) {
  static const std::string kHeader = base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})");
  std::string token =
      kHeader + "." +
      base64UrlEncode(claims.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  const Sha256Digest mac = hmacSha256(secret, token);
  token += ".";
  token += base64UrlEncode(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
  return token;
}

Result<nlohmann::json> verifyHs256(std::string_view token, std::string_view secret, int64_t now_s) {
  auto decoded = decodeJwt(token);
  if (!decoded) {
    return tl::unexpected(decoded.error());
  }
  if (decoded->header["alg"].get<std::string>() != "HS256") {
    return fail("JWT header: alg must be HS256", 401);
  }
  const Sha256Digest mac = hmacSha256(secret, decoded->signing_input);
  if (!constantTimeEquals(
          decoded->signature,
          std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()))) {
    return fail("JWT signature: does not verify", 401);
  }
  if (auto times = checkTimeClaims(decoded->claims, now_s); !times) {
    return tl::unexpected(times.error());
  }
  return std::move(decoded->claims);
}

}  // namespace siprecd::control
