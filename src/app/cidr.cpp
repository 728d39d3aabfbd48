#include "app/cidr.hpp"

#include <cstring>
#include <string>

#include <arpa/inet.h>
#include <fmt/format.h>

#include "base/strings.hpp"

namespace siprecd::app {

std::optional<IpAddress> parseIpAddress(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  if (text.empty() || text.size() > 64) {
    return std::nullopt;
  }
  IpAddress address;
  const std::string v4(text);
  if (inet_pton(AF_INET, v4.c_str(), address.bytes.data()) == 1) {
    return address;
  }
  std::string v6(text.substr(0, text.find('%')));
  if (inet_pton(AF_INET6, v6.c_str(), address.bytes.data()) == 1) {
    address.v6 = true;
    return address;
  }
  return std::nullopt;
}

Result<Cidr> parseCidr(std::string_view text) {
  const std::string_view trimmed = trim(text);
  const auto slash = trimmed.find('/');
  const auto address = parseIpAddress(trimmed.substr(0, slash));
  if (!address) {
    return fail(fmt::format("invalid network \"{}\": not an IPv4 or IPv6 address", text));
  }
  const int max_prefix = address->v6 ? 128 : 32;
  Cidr cidr{*address, max_prefix};
  if (slash != std::string_view::npos) {
    const auto prefix = parseUnsigned(trimmed.substr(slash + 1));
    if (!prefix || *prefix > static_cast<uint64_t>(max_prefix)) {
      return fail(
          fmt::format("invalid network \"{}\": prefix length must be 0..{}", text, max_prefix));
    }
    cidr.prefix_length = static_cast<int>(*prefix);
  }
  return cidr;
}

namespace {

bool isV4Mapped(const IpAddress& ip) {
  static constexpr std::array<uint8_t, 12> kPrefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return ip.v6 && std::memcmp(ip.bytes.data(), kPrefix.data(), kPrefix.size()) == 0;
}

}  // namespace

bool cidrContains(const Cidr& cidr, const IpAddress& ip) {
  IpAddress candidate = ip;
  if (!cidr.network.v6 && isV4Mapped(ip)) {
    candidate = IpAddress{};
    std::memcpy(candidate.bytes.data(), ip.bytes.data() + 12, 4);
  }
  if (candidate.v6 != cidr.network.v6) {
    return false;
  }
  const int full_bytes = cidr.prefix_length / 8;
  const int rest_bits = cidr.prefix_length % 8;
  for (int i = 0; i < full_bytes; ++i) {
    if (candidate.bytes[static_cast<std::size_t>(i)] !=
        cidr.network.bytes[static_cast<std::size_t>(i)]) {
      return false;
    }
  }
  if (rest_bits != 0) {
    const auto mask = static_cast<uint8_t>(0xFF << (8 - rest_bits));
    const auto i = static_cast<std::size_t>(full_bytes);
    if ((candidate.bytes[i] & mask) != (cidr.network.bytes[i] & mask)) {
      return false;
    }
  }
  return true;
}

bool cidrContains(std::string_view cidr, std::string_view ip) {
  const auto network = parseCidr(cidr);
  const auto address = parseIpAddress(ip);
  return network && address && cidrContains(*network, *address);
}

}  // namespace siprecd::app
