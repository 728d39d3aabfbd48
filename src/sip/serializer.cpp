#include "sip/serializer.hpp"

#include "base/strings.hpp"

namespace siprecd::sip {
namespace {

// CR and LF cannot appear in a field or start line (RFC 3261 §7.3.1); a value built by hand
// that holds one is flattened instead of letting it inject a line.
void appendLineText(std::string& out, std::string_view text) {
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' || text[i] == '\n') {
      out.append(text.substr(start, i - start));
      out.push_back(' ');
      start = i + 1;
    }
  }
  out.append(text.substr(start));
}

}  // namespace

std::string serialize(const Message& message) {
  std::string out;
  std::size_t estimate = 64 + message.body().size();
  for (const Header& header : message.headers()) {
    estimate += header.name.size() + header.value.size() + 4;
  }
  out.reserve(estimate);
  // Start line (§7.1, §7.2).
  if (message.isRequest()) {
    appendLineText(out, message.method());
    out += ' ';
    appendLineText(out, message.requestUri());
    out += " SIP/2.0\r\n";
  } else {
    out += "SIP/2.0 ";
    out += std::to_string(message.statusCode());
    out += ' ';
    appendLineText(out, message.reason());
    out += "\r\n";
  }
  // Header fields in order; the first Content-Length is rewritten from the body, others are
  // dropped, and one is appended when there was none (§20.14: always sent).
  const std::string length = std::to_string(message.body().size());
  bool length_written = false;
  for (const Header& header : message.headers()) {
    const bool is_length = iequals(header.name, "Content-Length");
    if (is_length && length_written) {
      continue;
    }
    appendLineText(out, header.name);
    out += ": ";
    if (is_length) {
      out += length;
      length_written = true;
    } else {
      appendLineText(out, header.value);
    }
    out += "\r\n";
  }
  if (!length_written) {
    out += "Content-Length: ";
    out += length;
    out += "\r\n";
  }
  out += "\r\n";
  out += message.body();
  return out;
}

}  // namespace siprecd::sip
