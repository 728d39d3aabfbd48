#include "sip/parser.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "base/strings.hpp"
#include "sip/header_fields.hpp"

namespace siprecd::sip {

/// Fills a Message's private fields while parsing (declared a friend in message.hpp).
class MessageBuilderAccess {
 public:
  static std::vector<Header>& headers(Message& message) { return message.headers_; }
};

namespace {

bool isWsp(char c) {
  return c == ' ' || c == '\t';
}
bool isDigit(char c) {
  return c >= '0' && c <= '9';
}
bool isAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool isTokenChar(char c) {
  if (isAlpha(c) || isDigit(c)) {
    return true;
  }
  return std::strchr("-.!%*_+`'~", c) != nullptr && c != '\0';
}

bool isToken(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), isTokenChar);
}

// Reads lines ending in LF; a CR right before the LF belongs to the line end (RFC 3261 §7
// wants CRLF; bare LF is tolerated).
struct LineReader {
  std::string_view text;
  std::size_t pos = 0;

  /// The next line without its terminator; false at the end of the text. `terminated` tells
  /// whether a LF ended it.
  bool next(std::string_view& line, bool& terminated) {
    if (pos >= text.size()) {
      return false;
    }
    const std::size_t lf = text.find('\n', pos);
    const std::size_t end = lf == std::string_view::npos ? text.size() : lf;
    line = text.substr(pos, end - pos);
    terminated = lf != std::string_view::npos;
    if (terminated && !line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    pos = terminated ? lf + 1 : text.size();
    return true;
  }
};

std::size_t skipLeadingLineEnds(std::string_view bytes) {
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    if (bytes[pos] == '\n') {
      ++pos;
    } else if (bytes[pos] == '\r' && pos + 1 < bytes.size() && bytes[pos + 1] == '\n') {
      pos += 2;
    } else {
      break;
    }
  }
  return pos;
}

// SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT (§25.1), case-insensitive (§7.1).
enum class VersionCheck { Ok, Unsupported, Malformed };
VersionCheck checkVersion(std::string_view version) {
  if (!istartsWith(version, "SIP/")) {
    return VersionCheck::Malformed;
  }
  const std::string_view number = version.substr(4);
  const std::size_t dot = number.find('.');
  const std::string_view major = number.substr(0, dot);
  const std::string_view minor = dot == std::string_view::npos ? "" : number.substr(dot + 1);
  if (major.empty() || minor.empty() || !std::all_of(major.begin(), major.end(), isDigit) ||
      !std::all_of(minor.begin(), minor.end(), isDigit)) {
    return VersionCheck::Malformed;
  }
  return (major == "2" && minor == "0") ? VersionCheck::Ok : VersionCheck::Unsupported;
}

// Request-Line = Method SP Request-URI SP SIP-Version CRLF (§7.1), single SPs only.
Result<Message> parseRequestLine(std::string_view line) {
  if (std::count(line.begin(), line.end(), ' ') != 2) {
    return fail("Request-Line needs three elements separated by single SP", 400);
  }
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = line.find(' ', sp1 + 1);
  const std::string_view method = line.substr(0, sp1);
  const std::string_view uri = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!isToken(method)) {
    return fail("malformed Method in Request-Line", 400);
  }
  const VersionCheck version_check = checkVersion(version);
  if (version_check == VersionCheck::Malformed) {
    return fail("malformed SIP-Version in Request-Line", 400);
  }
  if (version_check == VersionCheck::Unsupported) {
    return fail("unsupported SIP-Version " + std::string(version), 505);
  }
  if (uri.empty() || !std::all_of(uri.begin(), uri.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u > 0x20 && u < 0x7F && c != '<' && c != '>' && c != '"';
      })) {
    return fail("malformed Request-URI", 400);
  }
  // absoluteURI needs a scheme; SIP/SIPS/tel URIs are parsed, and headers are not allowed
  // in a SIP Request-URI (§19.1.1 table, RFC 4475 §3.1.2.11).
  const std::size_t colon = uri.find(':');
  if (colon == std::string_view::npos || colon == 0 || !isAlpha(uri[0]) ||
      !std::all_of(uri.begin(), uri.begin() + static_cast<std::ptrdiff_t>(colon), [](char c) {
        return isAlpha(c) || isDigit(c) || c == '+' || c == '-' || c == '.';
      })) {
    return fail("Request-URI without a scheme", 400);
  }
  const std::string_view scheme = uri.substr(0, colon);
  if (iequals(scheme, "sip") || iequals(scheme, "sips") || iequals(scheme, "tel")) {
    auto parsed = parseUri(uri);
    if (!parsed) {
      return fail("malformed Request-URI: " + parsed.error().message, 400);
    }
    if (!parsed->headers.empty() || uri.back() == '?') {
      return fail("headers are not allowed in the Request-URI", 400);
    }
  }
  return Message::request(std::string(method), std::string(uri));
}

// Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF (§7.2). A missing SP after
// the code of an empty reason is tolerated (RFC 4475 §3.1.1.13).
Result<Message> parseStatusLine(std::string_view line) {
  const std::size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) {
    return fail("malformed Status-Line", 400);
  }
  if (checkVersion(line.substr(0, sp1)) != VersionCheck::Ok) {
    return fail("unsupported or malformed SIP-Version in Status-Line", 400);
  }
  const std::string_view rest = line.substr(sp1 + 1);
  const std::string_view code = rest.substr(0, 3);
  if (code.size() != 3 || !std::all_of(code.begin(), code.end(), isDigit) || code[0] < '1' ||
      code[0] > '6' || (rest.size() > 3 && rest[3] != ' ')) {
    return fail("malformed Status-Code", 400);
  }
  const int status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
  const std::string_view reason = rest.size() > 4 ? rest.substr(4) : std::string_view();
  return Message::response(status, std::string(reason));
}

// rfc1123-date = wkday "," SP date1 SP time SP "GMT" (§25.1, RFC 4475 §3.1.2.12).
bool isValidSipDate(std::string_view date) {
  static constexpr std::array<std::string_view, 7> kDays = {"Mon", "Tue", "Wed", "Thu",
                                                            "Fri", "Sat", "Sun"};
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  // "Sat, 13 Nov 2010 23:29:00 GMT": fixed layout, 29 characters.
  if (date.size() != 29) {
    return false;
  }
  auto digits = [&](std::size_t pos, std::size_t count) {
    return std::all_of(date.begin() + static_cast<std::ptrdiff_t>(pos),
                       date.begin() + static_cast<std::ptrdiff_t>(pos + count), isDigit);
  };
  // ABNF literals are case-insensitive (RFC 2234 §2.3).
  auto listed = [](const auto& names, std::string_view word) {
    return std::any_of(names.begin(), names.end(),
                       [&](std::string_view name) { return iequals(name, word); });
  };
  const bool day_ok = listed(kDays, date.substr(0, 3));
  const bool month_ok = listed(kMonths, date.substr(8, 3));
  return day_ok && date.substr(3, 2) == ", " && digits(5, 2) && date[7] == ' ' && month_ok &&
         date[11] == ' ' && digits(12, 4) && date[16] == ' ' && digits(17, 2) && date[19] == ':' &&
         digits(20, 2) && date[22] == ':' && digits(23, 2) && iequals(date.substr(25), " GMT");
}

std::string fieldError(std::string_view what, std::string_view name, const Error& error) {
  std::string message(what);
  message += ' ';
  message += name;
  message += " header field: ";
  message += error.message;
  return message;
}

// The checks the transaction and dialog layers rely on (see parseMessage's contract).
Result<void> validateHeaders(const Message& message, std::optional<uint64_t>& content_length) {
  static constexpr std::array<std::string_view, 5> kMandatory = {"Via", "From", "To", "Call-ID",
                                                                 "CSeq"};
  static constexpr std::array<std::string_view, 6> kSingle = {
      "From", "To", "Call-ID", "CSeq", "Max-Forwards", "Content-Type"};
  std::array<int, kSingle.size()> single_count{};
  std::array<bool, kMandatory.size()> present{};
  for (const Header& header : message.headers()) {
    const std::string& name = header.name;
    for (std::size_t i = 0; i < kMandatory.size(); ++i) {
      present[i] = present[i] || name == kMandatory[i];
    }
    for (std::size_t i = 0; i < kSingle.size(); ++i) {
      if (name == kSingle[i] && ++single_count[i] > 1) {
        return fail("more than one " + name + " header field", 400);
      }
    }
    if (name == "From" || name == "To") {
      if (auto address = parseNameAddr(header.value); !address) {
        return fail(fieldError("malformed", name, address.error()), 400);
      }
    } else if (name == "Call-ID") {
      // callid = word [ "@" word ] (§25.1): non-empty, no whitespace.
      if (header.value.empty() || std::any_of(header.value.begin(), header.value.end(), isWsp)) {
        return fail("malformed Call-ID header field", 400);
      }
    } else if (name == "CSeq") {
      auto cseq = parseCSeq(header.value);
      if (!cseq) {
        return fail(fieldError("malformed", name, cseq.error()), 400);
      }
      // §8.1.1.5: the CSeq method MUST match the request method (ACK and CANCEL included).
      if (message.isRequest() && cseq->method != message.method()) {
        return fail(
            "CSeq method " + cseq->method + " does not match request method " + message.method(),
            400);
      }
    } else if (name == "Max-Forwards") {
      const auto hops = parseUnsigned(header.value);
      if (!hops || *hops > 255) {
        return fail("malformed Max-Forwards header field (0..255)", 400);
      }
    } else if (name == "Date") {
      if (!isValidSipDate(header.value)) {
        return fail("malformed Date header field (rfc1123-date in GMT required)", 400);
      }
    } else if (name == "Content-Length") {
      const auto length = parseUnsigned(header.value);
      if (!length) {
        return fail("malformed Content-Length header field", 400);
      }
      if (content_length && *content_length != *length) {
        return fail("conflicting Content-Length header fields", 400);
      }
      content_length = length;
    }
  }
  for (std::size_t i = 0; i < kMandatory.size(); ++i) {
    if (!present[i]) {
      return fail("missing " + std::string(kMandatory[i]) + " header field", 400);
    }
  }
  for (std::string_view value : message.headerValues("Via")) {
    if (auto via = parseVia(value); !via) {
      return fail(fieldError("malformed", "Via", via.error()), 400);
    }
  }
  for (std::string_view name : {"Contact", "Route", "Record-Route"}) {
    for (std::string_view value : message.headerValues(name)) {
      if (name == "Contact" && value == "*") {
        continue;
      }
      if (auto address = parseNameAddr(value); !address) {
        return fail(fieldError("malformed", name, address.error()), 400);
      }
    }
  }
  return {};
}

// Where the header section ends: the offset after the empty line, or npos.
struct HeaderSection {
  std::string_view start_line;
  std::string_view fields;  ///< the field lines, with their line ends
  std::size_t body_offset = std::string_view::npos;
};

HeaderSection splitHeaderSection(std::string_view message) {
  HeaderSection section;
  LineReader reader{message};
  std::string_view line;
  bool terminated = false;
  if (!reader.next(line, terminated) || !terminated) {
    return section;
  }
  section.start_line = line;
  const std::size_t fields_start = reader.pos;
  while (true) {
    const std::size_t line_start = reader.pos;
    if (!reader.next(line, terminated) || !terminated) {
      return section;
    }
    if (line.empty()) {
      section.fields = message.substr(fields_start, line_start - fields_start);
      section.body_offset = reader.pos;
      return section;
    }
  }
}

// Finds the value of Content-Length in a raw header section, folding included; the framer
// needs it before the message can be parsed (§18.3). nullopt value = absent.
Result<std::optional<uint64_t>> scanContentLength(std::string_view fields) {
  std::optional<uint64_t> found;
  LineReader reader{fields};
  std::string_view line;
  bool terminated = false;
  std::string value;
  bool collecting = false;
  auto finish = [&]() -> Result<void> {
    if (!collecting) {
      return {};
    }
    collecting = false;
    const auto length = parseUnsigned(trim(value));
    if (!length) {
      return fail("malformed Content-Length header field", 400);
    }
    if (found && *found != *length) {
      return fail("conflicting Content-Length header fields", 400);
    }
    found = length;
    return {};
  };
  while (reader.next(line, terminated)) {
    if (!line.empty() && isWsp(line[0])) {
      if (collecting) {
        value += ' ';
        value += trim(line);
      }
      continue;
    }
    if (auto done = finish(); !done) {
      return tl::unexpected(done.error());
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      continue;
    }
    if (canonicalHeaderNameView(trim(line.substr(0, colon))) == "Content-Length") {
      collecting = true;
      value.assign(trim(line.substr(colon + 1)));
    }
  }
  if (auto done = finish(); !done) {
    return tl::unexpected(done.error());
  }
  return found;
}

}  // namespace

Result<std::vector<Header>> parseHeaderFields(std::string_view section, std::size_t max_fields,
                                              std::size_t max_field_bytes) {
  std::vector<Header> fields;
  fields.reserve(16);
  LineReader reader{section};
  std::string_view line;
  bool terminated = false;
  while (reader.next(line, terminated)) {
    if (line.find('\r') != std::string_view::npos) {
      return fail("bare CR in header section", 400);
    }
    if (!line.empty() && isWsp(line[0])) {
      // Folding (§7.3.1): the line break and surrounding whitespace become one SP.
      if (fields.empty()) {
        return fail("continuation line before the first header field", 400);
      }
      const std::string_view more = trim(line);
      std::string& value = fields.back().value;
      if (!more.empty()) {
        if (!value.empty()) {
          value += ' ';
        }
        value += more;
      }
      if (fields.back().name.size() + value.size() > max_field_bytes) {
        return fail("header field " + fields.back().name + " is too long", 513);
      }
      continue;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return fail("header line without ':'", 400);
    }
    // HCOLON = *( SP / HTAB ) ":" SWS (§25.1)
    std::string_view name = line.substr(0, colon);
    while (!name.empty() && isWsp(name.back())) {
      name.remove_suffix(1);
    }
    if (!isToken(name)) {
      return fail("malformed header field name", 400);
    }
    if (fields.size() >= max_fields) {
      return fail("more than " + std::to_string(max_fields) + " header fields", 400);
    }
    const std::string_view value = trim(line.substr(colon + 1));
    if (name.size() + value.size() > max_field_bytes) {
      return fail("header field " + std::string(name) + " is too long", 513);
    }
    fields.push_back(Header{std::string(canonicalHeaderNameView(name)), std::string(value)});
  }
  return fields;
}

Result<Message> parseMessage(std::string_view bytes, Framing framing, const ParseLimits& limits) {
  if (bytes.size() > limits.max_message_bytes) {
    return fail("message larger than " + std::to_string(limits.max_message_bytes) + " bytes", 413);
  }
  bytes.remove_prefix(skipLeadingLineEnds(bytes));  // §7.5
  if (bytes.empty()) {
    return fail("empty message", 400);
  }
  const HeaderSection section = splitHeaderSection(bytes);
  if (section.body_offset == std::string_view::npos) {
    return fail("header section not terminated by an empty line", 400);
  }
  const std::string_view start_line = section.start_line;
  if (start_line.find('\r') != std::string_view::npos) {
    return fail("bare CR in start line", 400);
  }
  auto message =
      istartsWith(start_line, "SIP/") ? parseStatusLine(start_line) : parseRequestLine(start_line);
  if (!message) {
    return message;
  }
  auto fields = parseHeaderFields(section.fields, limits.max_headers, limits.max_header_line_bytes);
  if (!fields) {
    return tl::unexpected(fields.error());
  }
  MessageBuilderAccess::headers(*message) = std::move(*fields);
  std::optional<uint64_t> content_length;
  if (auto valid = validateHeaders(*message, content_length); !valid) {
    return tl::unexpected(valid.error());
  }
  // Body framing (§18.3, §20.14).
  const std::string_view rest = bytes.substr(section.body_offset);
  if (!content_length) {
    if (framing == Framing::Stream) {
      return fail("missing Content-Length header field (mandatory on streams)", 400);
    }
    message->setBody(std::string(rest));
    return message;
  }
  if (*content_length > rest.size()) {
    return fail("Content-Length " + std::to_string(*content_length) +
                    " larger than the remaining " + std::to_string(rest.size()) + " bytes",
                400);
  }
  message->setBody(std::string(rest.substr(0, *content_length)));
  return message;
}

std::optional<Message> salvageRequestForErrorResponse(std::string_view bytes) {
  static constexpr std::size_t kMaxScan = 64 * 1024;
  static constexpr std::array<std::string_view, 5> kWanted = {"Via", "From", "To", "Call-ID",
                                                              "CSeq"};
  bytes = bytes.substr(0, kMaxScan);
  bytes.remove_prefix(skipLeadingLineEnds(bytes));
  LineReader reader{bytes};
  std::string_view line;
  bool terminated = false;
  if (!reader.next(line, terminated) || !terminated) {
    return std::nullopt;
  }
  // Start line, leniently: Method <ws> Request-URI ... <ws> SIP/x.y
  std::vector<std::string_view> words;
  for (std::string_view word : split(trim(line), ' ')) {
    word = trim(word);
    if (!word.empty()) {
      words.push_back(word);
    }
  }
  if (words.size() < 3 || !isToken(words.front()) || !istartsWith(words.back(), "SIP/")) {
    return std::nullopt;
  }
  Message request = Message::request(std::string(words[0]), std::string(words[1]));
  std::array<bool, kWanted.size()> seen{};
  std::vector<Header>& headers = MessageBuilderAccess::headers(request);
  bool last_wanted = false;
  std::size_t lines = 0;
  while (reader.next(line, terminated) && !line.empty() && ++lines <= 256) {
    if (isWsp(line[0])) {
      if (last_wanted && !trim(line).empty()) {
        headers.back().value += ' ';
        headers.back().value += trim(line);
      }
      continue;
    }
    last_wanted = false;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      continue;
    }
    const std::string_view name = canonicalHeaderNameView(trim(line.substr(0, colon)));
    const auto* wanted = std::find(kWanted.begin(), kWanted.end(), name);
    if (wanted == kWanted.end()) {
      continue;
    }
    const std::string_view value = trim(line.substr(colon + 1));
    seen[static_cast<std::size_t>(wanted - kWanted.begin())] = true;
    headers.push_back(Header{std::string(name), std::string(value)});
    last_wanted = true;
  }
  // Only the Via is indispensable: it says where the 400 goes (RFC 3261 §18.2.2). A request
  // that lacks From, Call-ID, ... is answered with what it has, so the sender learns why.
  if (!seen[0]) {
    return std::nullopt;
  }
  return request;
}

std::optional<Result<Message>> StreamFramer::brokenWith(Error error) {
  broken_ = true;
  buffer_.clear();
  buffer_.shrink_to_fit();
  return Result<Message>(tl::unexpected(std::move(error)));
}

void StreamFramer::feed(std::string_view bytes) {
  if (!broken_) {
    buffer_.append(bytes);
  }
}

std::optional<Result<Message>> StreamFramer::next() {
  failed_bytes_.clear();
  if (broken_) {
    return std::nullopt;
  }
  if (pending_total_ == 0) {
    // Keep-alives (RFC 5626 §4.4.1) between messages; a lone CR waits for its LF.
    std::size_t pos = 0;
    while (pos < buffer_.size()) {
      if (buffer_[pos] == '\n') {
        ++pos;
      } else if (buffer_[pos] == '\r' && pos + 1 < buffer_.size() && buffer_[pos + 1] == '\n') {
        pos += 2;
      } else {
        break;
      }
      ++keep_alives_;
    }
    if (pos > 0) {
      buffer_.erase(0, pos);
      scan_pos_ = 0;
    }
    if (buffer_.empty() || buffer_ == "\r") {
      return std::nullopt;
    }
    // Look for the empty line that ends the header section, resuming where we stopped.
    std::size_t body_offset = std::string::npos;
    std::size_t lf = buffer_.find('\n', scan_pos_);
    while (lf != std::string::npos) {
      const std::size_t line_length = lf - scan_pos_;
      if (scan_pos_ > 0 && (line_length == 0 || (line_length == 1 && buffer_[scan_pos_] == '\r'))) {
        body_offset = lf + 1;
        break;
      }
      scan_pos_ = lf + 1;
      lf = buffer_.find('\n', scan_pos_);
    }
    if (body_offset == std::string::npos) {
      if (buffer_.size() > limits_.max_message_bytes) {
        return brokenWith(Error{
            "header section larger than " + std::to_string(limits_.max_message_bytes) + " bytes",
            413});
      }
      return std::nullopt;
    }
    if (body_offset > limits_.max_message_bytes) {
      return brokenWith(Error{
          "header section larger than " + std::to_string(limits_.max_message_bytes) + " bytes",
          413});
    }
    const std::string_view head(buffer_.data(), body_offset);
    const std::size_t first_lf = head.find('\n');
    auto length = scanContentLength(head.substr(first_lf + 1));
    if (!length) {
      return brokenWith(length.error());
    }
    if (!*length) {
      return brokenWith(
          Error{"missing Content-Length header field (mandatory on streams, RFC 3261 §18.3)", 400});
    }
    if (**length > limits_.max_message_bytes ||
        body_offset + **length > limits_.max_message_bytes) {
      return brokenWith(Error{
          "message larger than " + std::to_string(limits_.max_message_bytes) + " bytes", 413});
    }
    pending_total_ = body_offset + static_cast<std::size_t>(**length);
  }
  if (buffer_.size() < pending_total_) {
    return std::nullopt;
  }
  const std::string_view framed(buffer_.data(), pending_total_);
  Result<Message> result = parseMessage(framed, Framing::Stream, limits_);
  if (!result) {
    failed_bytes_.assign(framed);
  }
  buffer_.erase(0, pending_total_);
  pending_total_ = 0;
  scan_pos_ = 0;
  return result;
}

}  // namespace siprecd::sip
