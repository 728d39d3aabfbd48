// Fuzzes the multipart/mixed splitter (RFC 2046 §5.1): the first byte picks a boundary (or
// asks to derive it from the body's first "--" line), the rest is the body. Property: a body
// that parses re-serialises to one that parses to the same parts.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "sip/multipart.hpp"

namespace {

using siprecd::sip::BodyPart;

constexpr std::size_t kMaxParts = 16;
constexpr std::array<std::string_view, 7> kBoundaries = {
    "b", "boundary42", "uniqueBoundary", "7a9cbec02ceef655", "simple boundary", "x'()+_,-./:=?",
    "--"};

void check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

std::string_view deriveBoundary(std::string_view body) {
  const std::size_t dashes = body.find("--");
  if (dashes == std::string_view::npos) {
    return {};
  }
  std::string_view rest = body.substr(dashes + 2);
  return rest.substr(0, std::min(rest.find_first_of("\r\n"), std::size_t{70}));
}

bool sameParts(const std::vector<BodyPart>& a, const std::vector<BodyPart>& b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].body != b[i].body || a[i].headers.size() != b[i].headers.size()) {
      return false;
    }
    for (std::size_t h = 0; h < a[i].headers.size(); ++h) {
      if (a[i].headers[h].name != b[i].headers[h].name ||
          a[i].headers[h].value != b[i].headers[h].value) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::string_view boundary =
      data[0] >= 0xF0 ? deriveBoundary(body) : kBoundaries[data[0] % kBoundaries.size()];
  auto parts = siprecd::sip::parseMultipart(body, boundary, kMaxParts);
  if (!parts) {
    return 0;
  }
  for (const BodyPart& part : *parts) {
    (void)part.contentType();
    (void)part.header("Content-Disposition");
  }
  const std::string wire = siprecd::sip::serializeMultipart(*parts, boundary);
  auto again = siprecd::sip::parseMultipart(wire, boundary, kMaxParts);
  check(again.has_value());
  check(sameParts(*parts, *again));
  check(siprecd::sip::serializeMultipart(*again, boundary) == wire);
  return 0;
}
