#include "control/callback_signature.hpp"

#include <cstdlib>
#include <vector>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "base/strings.hpp"

namespace siprecd::control {

Sha256Digest hmacSha256(std::string_view key, std::string_view data) {
  Sha256Digest digest{};
  unsigned int length = 0;
  // HMAC() with an empty key needs a non-null pointer.
  static const unsigned char kEmpty = 0;
  const auto* key_bytes =
      key.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(key.data());
  const unsigned char* result = HMAC(EVP_sha256(), key_bytes, static_cast<int>(key.size()),
                                     reinterpret_cast<const unsigned char*>(data.data()),
                                     data.size(), digest.data(), &length);
  if (result == nullptr || length != digest.size()) {
    std::abort();  // OpenSSL without SHA-256: a broken installation, not an input error
  }
  return digest;
}

Sha256Digest sha256(std::string_view data) {
  Sha256Digest digest{};
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1 ||
      length != digest.size()) {
    std::abort();
  }
  return digest;
}

std::string toHex(std::string_view bytes) {
  static constexpr std::string_view kDigits = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    hex.push_back(kDigits[byte >> 4]);
    hex.push_back(kDigits[byte & 0x0f]);
  }
  return hex;
}

std::string toHex(const Sha256Digest& digest) {
  return toHex(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

bool constantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string signCallback(std::string_view secret, int64_t unix_s, std::string_view body) {
  const std::string timestamp = std::to_string(unix_s);
  std::string signed_text;
  signed_text.reserve(timestamp.size() + 1 + body.size());
  signed_text.append(timestamp).append(".").append(body);
  return "t=" + timestamp + ",v1=" + toHex(hmacSha256(secret, signed_text));
}

Result<void> verifyCallbackSignature(std::string_view secret, std::string_view header,
                                     std::string_view body, int64_t now_s,
                                     std::chrono::seconds tolerance) {
  std::string_view timestamp;
  std::vector<std::string_view> candidates;
  for (const std::string_view part : split(header, ',')) {
    const std::string_view item = trim(part);
    if (item.starts_with("t=")) {
      timestamp = item.substr(2);
    } else if (item.starts_with("v1=")) {
      candidates.push_back(item.substr(3));
    }
  }
  const auto seconds = parseUnsigned(timestamp);
  if (!seconds || *seconds > static_cast<uint64_t>(INT64_MAX)) {
    return fail("X-Siprecd-Signature: missing or malformed t=", 401);
  }
  if (candidates.empty()) {
    return fail("X-Siprecd-Signature: missing v1=", 401);
  }
  const auto signed_at = static_cast<int64_t>(*seconds);
  const int64_t skew = signed_at > now_s ? signed_at - now_s : now_s - signed_at;
  if (skew > tolerance.count()) {
    return fail("X-Siprecd-Signature: t= outside the tolerance", 401);
  }
  const std::string expected = signCallback(secret, signed_at, body);
  const std::string_view expected_hex = std::string_view(expected).substr(expected.find("v1=") + 3);
  for (const std::string_view candidate : candidates) {
    if (constantTimeEquals(candidate, expected_hex)) {
      return {};
    }
  }
  return fail("X-Siprecd-Signature: v1= does not match the body", 401);
}

}  // namespace siprecd::control
