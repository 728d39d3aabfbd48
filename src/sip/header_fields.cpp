#include "sip/header_fields.hpp"

#include <algorithm>

#include "base/strings.hpp"

namespace siprecd::sip {
namespace {

bool isAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool isDigit(char c) {
  return c >= '0' && c <= '9';
}
bool isAlnum(char c) {
  return isAlpha(c) || isDigit(c);
}
bool isWsp(char c) {
  return c == ' ' || c == '\t';
}

// token (RFC 3261 §25.1): alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~"
bool isTokenChar(char c) {
  if (isAlnum(c)) {
    return true;
  }
  switch (c) {
    case '-':
    case '.':
    case '!':
    case '%':
    case '*':
    case '_':
    case '+':
    case '`':
    case '\'':
    case '~':
      return true;
    default:
      return false;
  }
}

bool isToken(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), isTokenChar);
}

// paramchar (§25.1) = param-unreserved / unreserved / escaped, '%' accepted anywhere.
bool isUriParamChar(char c) {
  if (isAlnum(c)) {
    return true;
  }
  switch (c) {
    case '-':
    case '_':
    case '.':
    case '!':
    case '~':
    case '*':
    case '\'':
    case '(':
    case ')':
    case '%':
    case '[':
    case ']':
    case '/':
    case ':':
    case '&':
    case '+':
    case '$':
      return true;
    default:
      return false;
  }
}

// Printable ASCII other than the characters that delimit a URI inside a header field.
bool isUriChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u < 0x7F && c != '<' && c != '>' && c != '"';
}

// Unquoted gen-value (token / host): printable ASCII without separators. ':' is accepted so
// that unbracketed IPv6 "received" values seen in the wild parse.
bool isGenValueChar(char c) {
  return isTokenChar(c) || c == ':' || c == '[' || c == ']' || c == '/' || c == '@' || c == '?' ||
         c == '&' || c == '$' || c == '(' || c == ')' || c == '#' || c == '{' || c == '}' ||
         c == '|' || c == '^';
}

bool isHostChar(char c) {
  return isAlnum(c) || c == '-' || c == '.' || c == '_';
}

bool isIpv6Char(char c) {
  return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
}

// A small cursor over header text with the SWS/LWS helpers the grammar needs.
struct Cursor {
  std::string_view text;
  std::size_t pos = 0;

  bool atEnd() const { return pos >= text.size(); }
  char peek() const { return atEnd() ? '\0' : text[pos]; }
  void skipWs() {
    while (!atEnd() && isWsp(text[pos])) {
      ++pos;
    }
  }
  bool consume(char c) {
    if (!atEnd() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }
  template <typename Pred>
  std::string_view takeWhile(Pred pred) {
    const std::size_t start = pos;
    while (!atEnd() && pred(text[pos])) {
      ++pos;
    }
    return text.substr(start, pos - start);
  }
};

// quoted-string (§25.1) at the cursor: returns the raw text including quotes; `unescaped`
// receives the content with quoted-pairs resolved.
Result<std::string_view> takeQuotedString(Cursor& cursor, std::string* unescaped) {
  const std::size_t start = cursor.pos;
  if (!cursor.consume('"')) {
    return fail("expected quoted string", 400);
  }
  while (!cursor.atEnd()) {
    const char c = cursor.text[cursor.pos++];
    if (c == '"') {
      return cursor.text.substr(start, cursor.pos - start);
    }
    if (c == '\\') {
      if (cursor.atEnd()) {
        break;
      }
      const char escaped = cursor.text[cursor.pos++];
      if (unescaped != nullptr) {
        unescaped->push_back(escaped);
      }
      continue;
    }
    if (c == '\r' || c == '\n') {
      return fail("line break inside quoted string", 400);
    }
    if (unescaped != nullptr) {
      unescaped->push_back(c);
    }
  }
  return fail("unterminated quoted string", 400);
}

// *( SEMI generic-param ) with LWS around ';' and '=' (RFC 3261 §25.1). Stops at the end.
Result<Params> parseGenericParams(Cursor& cursor, bool unquote_values) {
  Params params;
  while (true) {
    cursor.skipWs();
    if (cursor.atEnd()) {
      return params;
    }
    if (!cursor.consume(';')) {
      return fail(std::string("unexpected character '") + cursor.peek() + "' before parameter",
                  400);
    }
    cursor.skipWs();
    const std::string_view name = cursor.takeWhile(isTokenChar);
    if (name.empty()) {
      return fail("empty parameter", 400);
    }
    cursor.skipWs();
    std::string value;
    if (cursor.consume('=')) {
      cursor.skipWs();
      if (cursor.peek() == '"') {
        std::string content;
        auto raw = takeQuotedString(cursor, &content);
        if (!raw) {
          return fail(raw.error().message + " in parameter " + std::string(name), 400);
        }
        value = unquote_values ? std::move(content) : std::string(*raw);
      } else {
        value = std::string(cursor.takeWhile(isGenValueChar));
        if (value.empty()) {
          return fail("parameter " + std::string(name) + " has an empty value", 400);
        }
      }
    }
    params.items.emplace_back(std::string(name), std::move(value));
  }
}

// ;pname[=pvalue] inside a URI: no whitespace, 1*paramchar each (§19.1.1).
Result<Params> parseUriParams(std::string_view text) {
  Params params;
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (text[pos] != ';') {
      return fail("malformed URI parameter", 400);
    }
    ++pos;
    const std::size_t end = std::min(text.find(';', pos), text.size());
    const std::string_view item = text.substr(pos, end - pos);
    const std::size_t eq = item.find('=');
    const std::string_view name = item.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? "" : item.substr(eq + 1);
    if (name.empty() || !std::all_of(name.begin(), name.end(), isUriParamChar)) {
      return fail("empty or malformed URI parameter name", 400);
    }
    if (eq != std::string_view::npos &&
        (value.empty() || !std::all_of(value.begin(), value.end(), isUriParamChar))) {
      return fail("empty or malformed value of URI parameter " + std::string(name), 400);
    }
    params.items.emplace_back(std::string(name), std::string(value));
    pos = end;
  }
  return params;
}

// host [ ":" port ] where host is a hostname, IPv4 address or "[" IPv6 "]".
Result<std::size_t> parseHostPort(std::string_view text, std::string& host,
                                  std::optional<uint16_t>& port, bool allow_ws_around_colon) {
  Cursor cursor{text};
  if (cursor.peek() == '[') {
    ++cursor.pos;
    const std::string_view address = cursor.takeWhile(isIpv6Char);
    if (address.empty() || !cursor.consume(']')) {
      return fail("malformed IPv6 reference", 400);
    }
    host = std::string(text.substr(0, cursor.pos));
  } else {
    const std::string_view name = cursor.takeWhile(isHostChar);
    if (name.empty()) {
      return fail("missing host", 400);
    }
    host = std::string(name);
  }
  const std::size_t after_host = cursor.pos;
  if (allow_ws_around_colon) {
    cursor.skipWs();
  }
  if (!cursor.consume(':')) {
    return after_host;
  }
  if (allow_ws_around_colon) {
    cursor.skipWs();
  }
  const std::string_view digits = cursor.takeWhile(isDigit);
  const auto value = parseUnsigned(digits);
  if (!value || *value > 65535) {
    return fail("malformed port", 400);
  }
  port = static_cast<uint16_t>(*value);
  return cursor.pos;
}

// scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" (RFC 3986 §3.1); returns the
// scheme length or 0 when `text` does not start with a scheme.
std::size_t schemeLength(std::string_view text) {
  if (text.empty() || !isAlpha(text[0])) {
    return 0;
  }
  std::size_t i = 1;
  while (i < text.size() &&
         (isAlnum(text[i]) || text[i] == '+' || text[i] == '-' || text[i] == '.')) {
    ++i;
  }
  return (i < text.size() && text[i] == ':') ? i : 0;
}

// Any absoluteURI: a scheme and at least one more character, no whitespace or delimiters.
Result<Uri> parseAnyUri(std::string_view text) {
  const std::size_t scheme_len = schemeLength(text);
  if (scheme_len == 0) {
    return fail("URI without a scheme", 400);
  }
  const std::string scheme = toLower(text.substr(0, scheme_len));
  if (scheme == "sip" || scheme == "sips" || scheme == "tel") {
    return parseUri(text);
  }
  if (text.size() == scheme_len + 1 || !std::all_of(text.begin(), text.end(), isUriChar)) {
    return fail("malformed " + scheme + " URI", 400);
  }
  Uri uri;
  uri.scheme = scheme;
  return uri;
}

std::string quoteDisplayName(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '\r' || c == '\n') {
      out.push_back(' ');
      continue;
    }
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\' || u < 0x20 || u == 0x7F) {
      out.push_back('\\');  // quoted-pair (§25.1)
    }
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace

std::optional<std::string_view> Params::get(std::string_view name) const {
  for (const auto& [key, value] : items) {
    if (iequals(key, name)) {
      return std::string_view(value);
    }
  }
  return std::nullopt;
}

void Params::set(std::string name, std::string value) {
  for (auto& [key, existing] : items) {
    if (iequals(key, name)) {
      existing = std::move(value);
      return;
    }
  }
  items.emplace_back(std::move(name), std::move(value));
}

void Params::remove(std::string_view name) {
  items.erase(std::remove_if(items.begin(), items.end(),
                             [&](const auto& item) { return iequals(item.first, name); }),
              items.end());
}

std::string Params::toString() const {
  std::string out;
  for (const auto& [key, value] : items) {
    out += ';';
    out += key;
    if (!value.empty()) {
      out += '=';
      out += value;
    }
  }
  return out;
}

Result<Uri> parseUri(std::string_view text) {
  const std::size_t scheme_len = schemeLength(text);
  if (scheme_len == 0) {
    return fail("URI without a scheme", 400);
  }
  Uri uri;
  uri.scheme = toLower(text.substr(0, scheme_len));
  std::string_view rest = text.substr(scheme_len + 1);
  if (!std::all_of(rest.begin(), rest.end(), isUriChar)) {
    return fail("URI contains whitespace or a control character", 400);
  }
  if (uri.scheme == "tel") {
    // RFC 3966: telephone-subscriber *( ";" par ), no headers.
    const std::size_t semi = std::min(rest.find(';'), rest.size());
    uri.user = std::string(rest.substr(0, semi));
    if (uri.user.empty() || rest.find('?') != std::string_view::npos ||
        !std::all_of(uri.user.begin(), uri.user.end(), isUriParamChar)) {
      return fail("malformed tel URI", 400);
    }
    auto params = parseUriParams(rest.substr(semi));
    if (!params) {
      return tl::unexpected(params.error());
    }
    uri.params = std::move(*params);
    return uri;
  }
  if (uri.scheme != "sip" && uri.scheme != "sips") {
    return fail("unsupported URI scheme " + uri.scheme, 400);
  }
  // userinfo (RFC 3261 §25.1): may hold ';', '?', '/', ',' but never an unescaped '@'.
  const std::size_t at = rest.find('@');
  if (at != std::string_view::npos) {
    const std::string_view userinfo = rest.substr(0, at);
    const std::size_t colon = userinfo.find(':');
    uri.user = std::string(userinfo.substr(0, colon));
    if (colon != std::string_view::npos) {
      uri.password = std::string(userinfo.substr(colon + 1));
    }
    if (uri.user.empty()) {
      return fail("empty user part in URI", 400);
    }
    rest.remove_prefix(at + 1);
  }
  auto host_end = parseHostPort(rest, uri.host, uri.port, false);
  if (!host_end) {
    return fail(host_end.error().message + " in URI", 400);
  }
  rest.remove_prefix(*host_end);
  const std::size_t question = std::min(rest.find('?'), rest.size());
  auto params = parseUriParams(rest.substr(0, question));
  if (!params) {
    return tl::unexpected(params.error());
  }
  uri.params = std::move(*params);
  if (question < rest.size()) {
    uri.headers = std::string(rest.substr(question + 1));
  }
  return uri;
}

std::string Uri::toString() const {
  std::string out = scheme;
  out += ':';
  if (!user.empty()) {
    out += user;
    if (!password.empty()) {
      out += ':';
      out += password;
    }
    if (scheme != "tel") {
      out += '@';
    }
  }
  out += host;
  if (port) {
    out += ':';
    out += std::to_string(*port);
  }
  out += params.toString();
  if (!headers.empty()) {
    out += '?';
    out += headers;
  }
  return out;
}

Result<NameAddr> parseNameAddr(std::string_view text) {
  text = trim(text);
  if (text.empty()) {
    return fail("empty address", 400);
  }
  NameAddr result;
  Cursor cursor{text};
  std::string_view uri_text;
  bool name_addr = false;
  if (cursor.peek() == '"') {
    auto quoted = takeQuotedString(cursor, &result.display_name);
    if (!quoted) {
      return fail(quoted.error().message + " in display name", 400);
    }
    cursor.skipWs();
    if (cursor.peek() != '<') {
      return fail("display name not followed by <URI>", 400);
    }
    name_addr = true;
  } else if (const std::size_t lt = text.find('<'); lt != std::string_view::npos) {
    // display-name = *(token LWS) (§25.1; "caller<sip:..>" accepted, RFC 4475 §3.1.1.6).
    const std::string_view display = trim(text.substr(0, lt));
    if (!std::all_of(display.begin(), display.end(),
                     [](char c) { return isTokenChar(c) || isWsp(c); })) {
      return fail("display name with non-token characters must be quoted", 400);
    }
    result.display_name = std::string(display);
    cursor.pos = lt;
    name_addr = true;
  }
  if (name_addr) {
    ++cursor.pos;  // '<'
    const std::size_t gt = text.find('>', cursor.pos);
    if (gt == std::string_view::npos) {
      return fail("missing '>' after URI", 400);
    }
    uri_text = text.substr(cursor.pos, gt - cursor.pos);
    cursor.pos = gt + 1;
  } else {
    // addr-spec: the URI ends at the first ';' (header params follow, §20.10); a URI with
    // '?' or ',' must be enclosed in <> (§20).
    const std::size_t semi = std::min(text.find(';'), text.size());
    uri_text = trim(text.substr(0, semi));
    if (uri_text.find_first_of("?,") != std::string_view::npos) {
      return fail("URI with '?' or ',' must be enclosed in <>", 400);
    }
    cursor.pos = semi;
  }
  if (uri_text.empty()) {
    return fail("empty URI", 400);
  }
  auto uri = parseAnyUri(uri_text);
  if (!uri) {
    return tl::unexpected(uri.error());
  }
  result.uri = std::move(*uri);
  result.raw_uri = std::string(uri_text);
  auto params = parseGenericParams(cursor, false);
  if (!params) {
    return tl::unexpected(params.error());
  }
  result.params = std::move(*params);
  return result;
}

std::string NameAddr::toString() const {
  std::string out;
  if (!display_name.empty()) {
    out = quoteDisplayName(display_name);
    out += ' ';
  }
  out += '<';
  out += raw_uri.empty() ? uri.toString() : raw_uri;
  out += '>';
  out += params.toString();
  return out;
}

Result<Via> parseVia(std::string_view text) {
  // via-parm = sent-protocol LWS sent-by *( SEMI via-params ), SLASH = SWS "/" SWS (§25.1).
  Cursor cursor{trim(text)};
  Via via;
  const std::string_view name = cursor.takeWhile(isTokenChar);
  cursor.skipWs();
  if (name.empty() || !cursor.consume('/')) {
    return fail("malformed sent-protocol in Via", 400);
  }
  cursor.skipWs();
  const std::string_view version = cursor.takeWhile(isTokenChar);
  cursor.skipWs();
  if (version.empty() || !cursor.consume('/')) {
    return fail("malformed sent-protocol in Via", 400);
  }
  cursor.skipWs();
  const std::string_view transport = cursor.takeWhile(isTokenChar);
  if (transport.empty() || !isWsp(cursor.peek())) {
    return fail("malformed transport in Via", 400);
  }
  cursor.skipWs();
  via.protocol = std::string(name) + "/" + std::string(version);
  for (char& c : via.protocol) {
    c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  }
  via.transport = std::string(transport);
  for (char& c : via.transport) {
    c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  }
  auto host_end = parseHostPort(cursor.text.substr(cursor.pos), via.host, via.port, true);
  if (!host_end) {
    return fail(host_end.error().message + " in Via sent-by", 400);
  }
  cursor.pos += *host_end;
  auto params = parseGenericParams(cursor, false);
  if (!params) {
    return fail(params.error().message + " in Via", 400);
  }
  via.params = std::move(*params);
  return via;
}

std::string Via::branch() const {
  return std::string(params.get("branch").value_or(""));
}

std::string Via::toString() const {
  std::string out = protocol;
  out += '/';
  out += transport;
  out += ' ';
  out += host;
  if (port) {
    out += ':';
    out += std::to_string(*port);
  }
  out += params.toString();
  return out;
}

Result<CSeq> parseCSeq(std::string_view text) {
  Cursor cursor{trim(text)};
  const std::string_view digits = cursor.takeWhile(isDigit);
  if (!isWsp(cursor.peek())) {
    return fail("CSeq must be a number and a method", 400);
  }
  cursor.skipWs();
  const std::string_view method = cursor.text.substr(cursor.pos);
  const auto number = parseUnsigned(digits);
  if (!number || *number >= (uint64_t{1} << 31)) {  // RFC 3261 §8.1.1.5
    return fail("CSeq number missing or not below 2**31", 400);
  }
  if (!isToken(method)) {
    return fail("malformed CSeq method", 400);
  }
  return CSeq{static_cast<uint32_t>(*number), std::string(method)};
}

Result<MediaType> parseMediaType(std::string_view text) {
  // media-type = m-type SLASH m-subtype *(SEMI m-parameter) (§20.15); disposition-type
  // (§20.11) is a single token.
  Cursor cursor{trim(text)};
  MediaType media;
  const std::string_view type = cursor.takeWhile(isTokenChar);
  if (type.empty()) {
    return fail("missing media type", 400);
  }
  media.type = toLower(type);
  cursor.skipWs();
  if (cursor.consume('/')) {
    cursor.skipWs();
    const std::string_view subtype = cursor.takeWhile(isTokenChar);
    if (subtype.empty()) {
      return fail("missing media subtype", 400);
    }
    media.type += '/';
    media.type += toLower(subtype);
  }
  auto params = parseGenericParams(cursor, true);
  if (!params) {
    return tl::unexpected(params.error());
  }
  media.params = std::move(*params);
  return media;
}

bool hasOptionTag(const std::vector<std::string_view>& values, std::string_view tag) {
  for (std::string_view value : values) {
    for (std::string_view item : split(value, ',')) {
      if (iequals(trim(item), tag)) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace siprecd::sip
