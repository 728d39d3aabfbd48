#include "media/media_settings.hpp"

#include <string>
#include <thread>

#include <sched.h>

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

Result<ReceiveBackend> parseReceiveBackend(std::string_view text) {
  if (text == "recvmmsg") {
    return ReceiveBackend::Recvmmsg;
  }
  if (text == "io_uring") {
    return ReceiveBackend::IoUring;
  }
  return fail("media receive backend must be \"recvmmsg\" or \"io_uring\", not \"" +
              std::string(text) + "\"");
}

std::string_view toString(ReceiveBackend backend) {
  switch (backend) {
    case ReceiveBackend::Recvmmsg:
      return "recvmmsg";
    case ReceiveBackend::IoUring:
      return "io_uring";
  }
  return "recvmmsg";
}

unsigned resolveMediaThreads(unsigned configured) {
  if (configured > 0) {
    return configured;
  }
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  if (::sched_getaffinity(0, sizeof(cpus), &cpus) == 0) {
    const int count = CPU_COUNT(&cpus);
    if (count > 0) {
      return static_cast<unsigned>(count);
    }
  }
  const unsigned hardware = std::thread::hardware_concurrency();
  return hardware > 0 ? hardware : 1;
}

}  // namespace siprecd::media
