#include "sip/multipart.hpp"

#include "base/strings.hpp"
#include "sip/header_fields.hpp"
#include "sip/parser.hpp"

namespace siprecd::sip {
namespace {

constexpr std::size_t kMaxPartHeaders = 64;
constexpr std::size_t kMaxPartHeaderBytes = 8 * 1024;

bool isWsp(char c) {
  return c == ' ' || c == '\t';
}

// A delimiter line (RFC 2046 §5.1.1): "--" boundary ["--"] transport-padding line-end.
struct Delimiter {
  std::size_t start = std::string_view::npos;  ///< where its preceding line break begins
  std::size_t content_end = 0;                 ///< where the part content before it ends
  std::size_t next = 0;                        ///< first byte after its line end
  bool close = false;
};

// Whether "--boundary" sits at `pos` and forms a delimiter line; fills `found`.
bool delimiterAt(std::string_view body, std::size_t pos, std::string_view dash_boundary,
                 Delimiter& found) {
  if (body.compare(pos, dash_boundary.size(), dash_boundary) != 0) {
    return false;
  }
  std::size_t i = pos + dash_boundary.size();
  bool close = false;
  if (body.compare(i, 2, "--") == 0) {
    close = true;
    i += 2;
  }
  while (i < body.size() && isWsp(body[i])) {
    ++i;
  }
  if (i == body.size()) {
    found.next = i;
  } else if (body[i] == '\n') {
    found.next = i + 1;
  } else if (body[i] == '\r' && i + 1 < body.size() && body[i + 1] == '\n') {
    found.next = i + 2;
  } else if (close) {
    found.next = i;  // close delimiter followed directly by epilogue text
  } else {
    return false;
  }
  found.close = close;
  return true;
}

// The next delimiter at or after `from` that starts a line; the line break before it
// (CRLF or LF) belongs to the delimiter (§5.1.1). `from` itself counts as a line start
// only when `at_line_start` (the body's beginning).
Delimiter findDelimiter(std::string_view body, std::size_t from, std::string_view dash_boundary,
                        bool at_line_start) {
  Delimiter found;
  if (at_line_start && delimiterAt(body, from, dash_boundary, found)) {
    found.start = from;
    found.content_end = from;
    return found;
  }
  std::size_t lf = body.find('\n', from);
  while (lf != std::string_view::npos) {
    if (delimiterAt(body, lf + 1, dash_boundary, found)) {
      found.content_end = (lf > from && body[lf - 1] == '\r') ? lf - 1 : lf;
      found.start = found.content_end;
      return found;
    }
    lf = body.find('\n', lf + 1);
  }
  found.start = std::string_view::npos;
  return found;
}

// body-part := MIME-part-headers [CRLF *OCTET]: header lines up to an empty line, then the
// content. A part without the empty line has headers only.
Result<BodyPart> parsePart(std::string_view region) {
  BodyPart part;
  std::size_t pos = 0;
  std::size_t headers_end = region.size();
  std::size_t content_start = region.size();
  while (pos < region.size()) {
    const std::size_t lf = region.find('\n', pos);
    const std::size_t line_end = lf == std::string_view::npos ? region.size() : lf;
    const std::size_t length = line_end - pos;
    if (length == 0 || (length == 1 && region[pos] == '\r')) {
      headers_end = pos;
      content_start = lf == std::string_view::npos ? region.size() : lf + 1;
      break;
    }
    pos = lf == std::string_view::npos ? region.size() : lf + 1;
  }
  auto headers =
      parseHeaderFields(region.substr(0, headers_end), kMaxPartHeaders, kMaxPartHeaderBytes);
  if (!headers) {
    return fail("body part: " + headers.error().message, 400);
  }
  part.headers = std::move(*headers);
  part.body = std::string(region.substr(content_start));
  return part;
}

}  // namespace

std::optional<std::string_view> BodyPart::header(std::string_view name) const {
  return findHeader(headers, name);
}

std::string BodyPart::contentType() const {
  const auto value = header("Content-Type");
  if (!value) {
    return "text/plain";  // RFC 2045 §5.2
  }
  auto media = parseMediaType(*value);
  return media ? media->type : std::string(toLower(trim(*value)));
}

Result<std::vector<BodyPart>> parseMultipart(std::string_view body, std::string_view boundary,
                                             std::size_t max_parts) {
  // boundary := 0*69<bchars> bcharsnospace (RFC 2046 §5.1.1)
  if (boundary.empty() || boundary.size() > 70) {
    return fail("missing or overlong multipart boundary", 400);
  }
  std::string dash_boundary = "--";
  dash_boundary += boundary;
  Delimiter current = findDelimiter(body, 0, dash_boundary, true);
  if (current.start == std::string_view::npos) {
    return fail("multipart boundary not found in body", 400);
  }
  if (current.close) {
    return fail("multipart body without parts", 400);
  }
  std::vector<BodyPart> parts;
  while (true) {
    const std::size_t part_start = current.next;
    const Delimiter next = findDelimiter(body, part_start, dash_boundary, false);
    if (next.start == std::string_view::npos) {
      return fail("multipart body without closing delimiter", 400);
    }
    if (parts.size() >= max_parts) {
      return fail("more than " + std::to_string(max_parts) + " body parts", 400);
    }
    auto part = parsePart(body.substr(part_start, next.content_end - part_start));
    if (!part) {
      return tl::unexpected(part.error());
    }
    parts.push_back(std::move(*part));
    if (next.close) {
      return parts;  // the epilogue after it is ignored
    }
    current = next;
  }
}

std::string serializeMultipart(const std::vector<BodyPart>& parts, std::string_view boundary) {
  std::string out;
  for (const BodyPart& part : parts) {
    out += "--";
    out += boundary;
    out += "\r\n";
    for (const Header& header : part.headers) {
      out += header.name;
      out += ": ";
      out += header.value;
      out += "\r\n";
    }
    out += "\r\n";
    out += part.body;
    out += "\r\n";
  }
  out += "--";
  out += boundary;
  out += "--\r\n";
  return out;
}

}  // namespace siprecd::sip
