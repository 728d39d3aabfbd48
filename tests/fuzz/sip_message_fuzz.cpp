// Fuzzes the SIP message parser (RFC 3261 §7): datagram parsing with the property
// parse(serialize(m)) == m, salvage of refused requests, and stream framing where feeding the
// bytes in arbitrary chunks must give the same messages as feeding them at once.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "base/strings.hpp"
#include "sip/parser.hpp"
#include "sip/serializer.hpp"

namespace {

using siprecd::Result;
using siprecd::sip::Framing;
using siprecd::sip::Header;
using siprecd::sip::Message;
using siprecd::sip::ParseLimits;
using siprecd::sip::StreamFramer;

void check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

std::vector<Header> withoutContentLength(const Message& message) {
  std::vector<Header> headers;
  for (const Header& header : message.headers()) {
    if (!siprecd::iequals(header.name, "Content-Length")) {
      headers.push_back(header);
    }
  }
  return headers;
}

bool sameMessage(const Message& a, const Message& b) {
  const auto ha = withoutContentLength(a);
  const auto hb = withoutContentLength(b);
  if (ha.size() != hb.size()) {
    return false;
  }
  for (std::size_t i = 0; i < ha.size(); ++i) {
    if (ha[i].name != hb[i].name || ha[i].value != hb[i].value) {
      return false;
    }
  }
  return a.isRequest() == b.isRequest() && a.method() == b.method() &&
         a.requestUri() == b.requestUri() && a.statusCode() == b.statusCode() &&
         a.reason() == b.reason() && a.body() == b.body();
}

std::string describe(const Result<Message>& result) {
  return result ? "M" + siprecd::sip::serialize(*result)
                : "E" + std::to_string(result.error().code);
}

void checkRoundTrip(std::string_view input, const ParseLimits& limits) {
  auto parsed = siprecd::sip::parseMessage(input, Framing::Datagram, limits);
  if (!parsed) {
    (void)siprecd::sip::salvageRequestForErrorResponse(input);
    return;
  }
  // Serialising may expand compact names and add Content-Length: allow for that.
  ParseLimits relaxed = limits;
  relaxed.max_message_bytes = 2 * limits.max_message_bytes + 4096;
  relaxed.max_headers = limits.max_headers + 1;
  const std::string wire = siprecd::sip::serialize(*parsed);
  for (Framing framing : {Framing::Datagram, Framing::Stream}) {
    auto again = siprecd::sip::parseMessage(wire, framing, relaxed);
    check(again.has_value());
    check(sameMessage(*parsed, *again));
    check(siprecd::sip::serialize(*again) == wire);
  }
}

void checkFraming(std::string_view input, const uint8_t* data, const ParseLimits& limits) {
  StreamFramer whole(limits);
  whole.feed(input);
  std::vector<std::string> expected;
  while (auto next = whole.next()) {
    expected.push_back(describe(*next));
  }
  StreamFramer chunked(limits);
  std::vector<std::string> actual;
  std::size_t pos = 0;
  std::size_t step = 0;
  while (pos < input.size()) {
    const std::size_t length = 1 + data[step++ % input.size()] % 23;
    chunked.feed(input.substr(pos, length));
    pos += length;
    while (auto next = chunked.next()) {
      actual.push_back(describe(*next));
    }
  }
  check(expected == actual);
  check(whole.keepAlivesSeen() == chunked.keepAlivesSeen());
  check(whole.broken() == chunked.broken());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  ParseLimits limits;
  limits.max_message_bytes = 16 * 1024;
  limits.max_headers = 64;
  checkRoundTrip(input, limits);
  if (size > 0) {
    checkFraming(input, data, limits);
  }
  return 0;
}
