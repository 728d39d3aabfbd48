#include "app/api_key_hash.hpp"

#include <array>
#include <cctype>

#include <openssl/evp.h>

namespace siprecd::app {

Result<std::string> apiKeyHash(std::string_view configured) {
  constexpr std::string_view kPrefix = "sha256:";
  if (configured.starts_with(kPrefix)) {
    std::string hex(configured.substr(kPrefix.size()));
    bool valid = hex.size() == 64;
    for (char& c : hex) {
      valid = valid && std::isxdigit(static_cast<unsigned char>(c)) != 0;
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (!valid) {
      return fail("a \"sha256:\" API key needs 64 hex digits");
    }
    return hex;
  }
  if (configured.empty()) {
    return fail("an API key cannot be empty");
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(configured.data(), configured.size(), digest.data(), &length, EVP_sha256(),
                 nullptr) != 1) {
    return fail("SHA-256 failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0x0F]);
  }
  return hex;
}

}  // namespace siprecd::app
