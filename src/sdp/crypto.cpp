#include "sdp/crypto.hpp"

#include <algorithm>

#include "base/strings.hpp"
#include "sdp/base64.hpp"
#include "sdp/sdp_text.hpp"

namespace siprecd::sdp {
namespace {

using detail::splitWords;

bool isLifetime(std::string_view text) {
  if (istartsWith(text, "2^")) {
    text.remove_prefix(2);
  }
  return parseUnsigned(text).has_value();
}

// key-param = key-method ":" key-info (RFC 4568 §9.1); for "inline" the key-info is
// key||salt ["|" lifetime] ["|" mki ":" mki-length].
Result<CryptoKey> parseCryptoKey(std::string_view text) {
  std::size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
    return fail("a=crypto key-params: expected <method>:<key-info>", 400);
  }
  CryptoKey key;
  key.method = std::string(text.substr(0, colon));
  std::vector<std::string_view> fields = split(text.substr(colon + 1), '|');
  if (fields.size() > 3 || fields[0].empty()) {
    return fail("a=crypto key-params: malformed key-info", 400);
  }
  key.key_salt = std::string(fields[0]);
  for (std::size_t i = 1; i < fields.size(); ++i) {
    std::size_t mki_colon = fields[i].find(':');
    if (mki_colon == std::string_view::npos) {
      if (key.lifetime || key.mki || !isLifetime(fields[i])) {
        return fail("a=crypto key-params: malformed lifetime", 400);
      }
      key.lifetime = std::string(fields[i]);
      continue;
    }
    auto mki = parseUnsigned(fields[i].substr(0, mki_colon));
    auto length = parseUnsigned(fields[i].substr(mki_colon + 1));
    if (key.mki || !mki || !length || *mki > UINT32_MAX || *length == 0 || *length > 128) {
      return fail("a=crypto key-params: malformed MKI", 400);
    }
    key.mki = static_cast<uint32_t>(*mki);
    key.mki_length = static_cast<uint32_t>(*length);
  }
  return key;
}

std::string tagText(const Crypto& crypto) {
  return "a=crypto tag " + std::to_string(crypto.tag);
}

// RFC 4568 §6.3.7: WSH is a hint the receiver may ignore; §6.3.1: KDR=0 is the default
// (no key re-derivation), which is what libsrtp does.
bool isImplementedSessionParam(std::string_view param) {
  return istartsWith(param, "WSH=") || iequals(param, "KDR=0");
}

}  // namespace

Result<Crypto> parseCrypto(std::string_view value) {
  std::vector<std::string_view> words = splitWords(value);
  if (words.size() < 3) {
    return fail("a=crypto: expected <tag> <crypto-suite> <key-params>", 400);
  }
  auto tag = parseUnsigned(words[0]);
  if (!tag || words[0].size() > 9) {
    return fail("a=crypto: tag is not a number of at most 9 digits", 400);
  }
  Crypto crypto;
  crypto.tag = static_cast<uint32_t>(*tag);
  crypto.suite = std::string(words[1]);
  for (std::string_view key_text : split(words[2], ';')) {
    auto key = parseCryptoKey(key_text);
    if (!key) {
      return tl::unexpected(key.error());
    }
    crypto.keys.push_back(std::move(*key));
  }
  for (std::size_t i = 3; i < words.size(); ++i) {
    crypto.session_params.emplace_back(words[i]);
  }
  return crypto;
}

std::string serializeCrypto(const Crypto& crypto) {
  std::string text = std::to_string(crypto.tag) + " " + crypto.suite + " ";
  for (std::size_t i = 0; i < crypto.keys.size(); ++i) {
    const CryptoKey& key = crypto.keys[i];
    text += (i == 0 ? "" : ";") + key.method + ":" + key.key_salt;
    if (key.lifetime) {
      text += "|" + *key.lifetime;
    }
    if (key.mki && key.mki_length) {
      text += "|" + std::to_string(*key.mki) + ":" + std::to_string(*key.mki_length);
    }
  }
  for (const std::string& param : crypto.session_params) {
    text += " " + param;
  }
  return text;
}

const std::vector<SdesSuite>& supportedSdesSuites() {
  // RFC 4568 §6.2.1-6.2.2 (AES-CM: 128-bit key, 112-bit salt); RFC 7714 §12 (AEAD_AES_*_GCM:
  // 96-bit salt).
  static const std::vector<SdesSuite> kSuites = {
      {"AES_CM_128_HMAC_SHA1_80", 16, 14},
      {"AES_CM_128_HMAC_SHA1_32", 16, 14},
      {"AEAD_AES_128_GCM", 16, 12},
      {"AEAD_AES_256_GCM", 32, 12},
  };
  return kSuites;
}

const SdesSuite* findSdesSuite(std::string_view name) {
  const auto& suites = supportedSdesSuites();
  const auto found = std::find_if(suites.begin(), suites.end(), [name](const SdesSuite& suite) {
    return iequals(suite.name, name);
  });
  return found == suites.end() ? nullptr : &*found;
}

Result<SdesCrypto> decodeSdesCrypto(const Crypto& crypto) {
  const SdesSuite* suite = findSdesSuite(crypto.suite);
  if (suite == nullptr) {
    return fail(tagText(crypto) + ": crypto suite " + crypto.suite + " is not supported", 488);
  }
  if (crypto.keys.size() != 1) {
    return fail(tagText(crypto) + ": several master keys are not supported", 488);
  }
  const CryptoKey& key = crypto.keys.front();
  if (!iequals(key.method, "inline")) {
    return fail(tagText(crypto) + ": key method " + key.method + " is not supported", 488);
  }
  if (key.mki) {
    return fail(tagText(crypto) + ": MKI is not supported", 488);
  }
  for (const std::string& param : crypto.session_params) {
    if (!isImplementedSessionParam(param)) {
      return fail(tagText(crypto) + ": session parameter " + param + " is not supported", 488);
    }
  }
  auto decoded = decodeBase64(key.key_salt);
  if (!decoded) {
    return fail(tagText(crypto) + ": inline key is not valid base64", 488);
  }
  const std::size_t expected = suite->key_bytes + suite->salt_bytes;
  if (decoded->size() != expected) {
    return fail(tagText(crypto) + ": inline key has " + std::to_string(decoded->size()) +
                    " bytes, " + crypto.suite + " needs " + std::to_string(expected),
                488);
  }
  SdesCrypto sdes;
  sdes.tag = crypto.tag;
  sdes.suite = crypto.suite;
  sdes.master_key_salt = std::move(*decoded);
  sdes.lifetime = key.lifetime;
  sdes.session_params = crypto.session_params;
  return sdes;
}

Crypto toCrypto(const SdesCrypto& crypto) {
  Crypto out;
  out.tag = crypto.tag;
  out.suite = crypto.suite;
  CryptoKey key;
  key.method = "inline";
  key.key_salt = encodeBase64(crypto.master_key_salt);
  key.lifetime = crypto.lifetime;
  out.keys.push_back(std::move(key));
  out.session_params = crypto.session_params;
  return out;
}

}  // namespace siprecd::sdp
