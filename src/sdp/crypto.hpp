#pragma once

// The SDES a=crypto attribute (RFC 4568 §9.1):
//   a=crypto:<tag> <crypto-suite> <key-params>[;<key-params>...] [<session-param> ...]
//   key-params = "inline:" <base64(master key || master salt)> ["|" lifetime] ["|" MKI ":" length]

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace siprecd::sdp {

/// One key-param of a=crypto (RFC 4568 §9.1): "inline:<key||salt>[|lifetime][|MKI:length]".
struct CryptoKey {
  std::string method;                   ///< "inline"
  std::string key_salt;                 ///< base64 key and salt, not decoded
  std::optional<std::string> lifetime;  ///< "2^31" or decimal, verbatim
  std::optional<uint32_t> mki;          ///< MKI value
  std::optional<uint32_t> mki_length;   ///< MKI length in bytes

  bool operator==(const CryptoKey&) const = default;
};

/// a=crypto (RFC 4568 §9.1): `tag crypto-suite key-params [session-params]`.
struct Crypto {
  uint32_t tag = 0;
  std::string suite;  ///< e.g. "AES_CM_128_HMAC_SHA1_80"
  std::vector<CryptoKey> keys;
  std::vector<std::string> session_params;  ///< e.g. "UNENCRYPTED_SRTCP", verbatim

  bool operator==(const Crypto&) const = default;
};

/// Parses the value of an a=crypto attribute. Failure (code 400) names the faulty part.
Result<Crypto> parseCrypto(std::string_view value);

/// The value of an a=crypto attribute for `crypto` (without "a=crypto:"):
/// parseCrypto(serializeCrypto(x)) == x for every x that parseCrypto() produced.
std::string serializeCrypto(const Crypto& crypto);

/// An SDES crypto suite siprecd can receive (the media layer's SrtpSuite list): its
/// RFC 4568 §6.2 / RFC 7714 §14.2 name and its master key and salt sizes in bytes.
struct SdesSuite {
  std::string_view name;
  std::size_t key_bytes;
  std::size_t salt_bytes;
};

/// The supported suites, in our order of preference (unused for choosing: the offer's
/// order decides, RFC 4568 §7.1.2).
const std::vector<SdesSuite>& supportedSdesSuites();
/// The supported suite with that name (case-insensitive), nullptr when unsupported.
const SdesSuite* findSdesSuite(std::string_view name);

/// An a=crypto line reduced to what SRTP needs, its inline key decoded. It holds key
/// material: never log it or store it outside the session.
struct SdesCrypto {
  uint32_t tag = 0;
  std::string suite;                     ///< as spelled in the SDP
  std::vector<uint8_t> master_key_salt;  ///< master key || master salt
  std::optional<std::string> lifetime;   ///< kept verbatim (libsrtp applies its own limits)
  std::vector<std::string> session_params;

  bool operator==(const SdesCrypto&) const = default;
};

/// Decodes one offered a=crypto for use. Fails (code 488), naming the tag and the reason,
/// when the suite is not supported, it carries more than one key or an MKI (not supported),
/// its key method is not "inline", its key is not valid base64 or not exactly the suite's
/// key + salt size, or it has a session parameter other than the hint WSH= or the default
/// KDR=0 (RFC 4568 §6.3: an answerer must not accept parameters it does not implement).
Result<SdesCrypto> decodeSdesCrypto(const Crypto& crypto);

/// The a=crypto model of `crypto` (one inline key, base64 with padding).
Crypto toCrypto(const SdesCrypto& crypto);

}  // namespace siprecd::sdp
