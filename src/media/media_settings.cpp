#include "media/media_settings.hpp"

#include "base/strings.hpp"

namespace siprecd::media {

Result<PortRange> parsePortRange(std::string_view text) {
  const auto parts = split(trim(text), '-');
  if (parts.size() != 2) {
    return fail("media port range must be \"first-last\"");
  }
  const auto first = parseUnsigned(trim(parts[0]));
  const auto last = parseUnsigned(trim(parts[1]));
  if (!first || !last || *first == 0 || *first > 65535 || *last == 0 || *last > 65535) {
    return fail("media port range bounds must be ports 1..65535");
  }
  if (*first > *last) {
    return fail("media port range first port is above the last");
  }
  const uint64_t first_even = *first + (*first % 2);
  if (first_even + 1 > *last) {
    return fail("media port range holds no even RTP port with its RTCP port");
  }
  return PortRange{static_cast<uint16_t>(*first), static_cast<uint16_t>(*last)};
}

}  // namespace siprecd::media
