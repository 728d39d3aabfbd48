// Fuzz target for the parser of S3's XML answers (src/storage/s3_xml.cpp): the input is a
// response body from an S3-compatible server.
// Properties:
// - nothing crashes on any body;
// - a parsed <Error> has a non-empty code; code and message are at most 200 bytes without
//   control characters (they end up in events and logs);
// - escaping round-trips: the text of <Code>xmlEscape(x)</Code> is x again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "storage/s3_xml.hpp"

namespace {

void check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

bool cleanAndShort(std::string_view text) {
  if (text.size() > 200) {
    return false;
  }
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);

  if (const auto error = siprecd::storage::parseS3Error(body)) {
    check(!error->code.empty());
    check(cleanAndShort(error->code));
    check(cleanAndShort(error->message));
  }
  static_cast<void>(siprecd::storage::xmlElementText(body, "UploadId"));
  static_cast<void>(siprecd::storage::xmlElementText(body, "ETag"));

  const std::string wrapped = "<Code>" + siprecd::storage::xmlEscape(body) + "</Code>";
  const auto text = siprecd::storage::xmlElementText(wrapped, "Code");
  check(text.has_value() && *text == body);
  return 0;
}
