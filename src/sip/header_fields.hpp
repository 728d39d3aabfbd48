#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.hpp"

namespace siprecd::sip {

/// Ordered `;name=value` parameters (value empty for flags like `;lr` or `;rport`).
/// Names compare case-insensitively. Values keep their quotes if quoted.
struct Params {
  std::vector<std::pair<std::string, std::string>> items;
  std::optional<std::string_view> get(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }
  void set(std::string name, std::string value);
  void remove(std::string_view name);
  std::string toString() const;  ///< ";a=b;c" form, empty if none
};

/// sip:/sips:/tel: URI (RFC 3261 §19.1). Host keeps IPv6 brackets ("[::1]").
struct Uri {
  std::string scheme;  ///< lowercase
  std::string user;    ///< may be empty
  std::string password;
  std::string host;
  std::optional<uint16_t> port;
  Params params;
  std::string headers;  ///< the "?..." part without '?', unparsed
  std::string toString() const;
};
/// Parses a sip:, sips: or tel: URI (RFC 3261 §19.1.1, §25.1; RFC 3966): user, password,
/// host (hostname, IPv4 or bracketed IPv6), port, ;params, ?headers; escapes are kept as
/// written. The user part ends at the first '@'. Failure (400): other schemes, whitespace,
/// empty or malformed host, port beyond 65535, empty parameter.
Result<Uri> parseUri(std::string_view text);

/// name-addr / addr-spec with header parameters: From, To, Contact, Route, Record-Route.
struct NameAddr {
  std::string display_name;  ///< unquoted, unescaped
  Uri uri;
  std::string raw_uri;  ///< the URI as written (kept so that re-serialising changes nothing)
  Params params;        ///< header params after the URI, e.g. tag, expires, +sip.src
  std::string toString() const;
};
/// Parses one name-addr (`"Bob" <sip:bob@x>;tag=1`, `Bob <sip:bob@x>`) or addr-spec
/// (`sip:bob@x;tag=1`, where ;params after the URI are header params, RFC 3261 §20.10).
/// URIs of schemes other than sip/sips/tel are accepted with only uri.scheme set.
/// Failure (400): unterminated quote, non-token display name, whitespace inside <...>,
/// addr-spec containing '?' or ',', malformed URI, empty parameter.
Result<NameAddr> parseNameAddr(std::string_view text);

/// One Via value (RFC 3261 §20.42, RFC 3581).
struct Via {
  std::string protocol = "SIP/2.0";
  std::string transport;  ///< uppercase: UDP, TCP, TLS, ...
  std::string host;       ///< sent-by host, IPv6 in brackets
  std::optional<uint16_t> port;
  Params params;  ///< branch, received, rport, maddr, ttl, ...
  std::string branch() const;
  std::string toString() const;
};
/// Parses one via-parm ("SIP / 2.0 / UDP host:port;branch=z9hG4bK..;rport"), LWS allowed
/// around '/', ':', ';' and '='. Failure (400): malformed sent-protocol or sent-by, empty
/// parameter.
Result<Via> parseVia(std::string_view text);

struct CSeq {
  uint32_t number = 0;
  std::string method;
};
/// "number method" (RFC 3261 §20.16); number < 2**31 (§8.1.1.5). Failure: 400.
Result<CSeq> parseCSeq(std::string_view text);

/// Content-Type / Content-Disposition: "type/subtype;param=value".
struct MediaType {
  std::string type;  ///< lowercase, e.g. "multipart/mixed" or "recording-session"
  Params params;     ///< values unquoted
};
/// Parses "type/subtype *(;param)" or a single token (disposition-type). Failure: 400.
Result<MediaType> parseMediaType(std::string_view text);

/// Whether an option tag list header (Require, Supported) contains `tag` (compared
/// case-insensitively; values still holding commas are split).
bool hasOptionTag(const std::vector<std::string_view>& values, std::string_view tag);

}  // namespace siprecd::sip
