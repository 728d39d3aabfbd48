#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "base/result.hpp"

namespace siprecd::app {

/// An IPv4 or IPv6 address in binary form; IPv4 uses the first 4 bytes.
struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};
};

/// Parses a literal IPv4 ("10.0.0.1") or IPv6 ("2001:db8::1", "[2001:db8::1]",
/// "fe80::1%eth0" with the zone ignored) address; nullopt for anything else.
std::optional<IpAddress> parseIpAddress(std::string_view text);

/// A network: address plus prefix length (0..32 for IPv4, 0..128 for IPv6).
struct Cidr {
  IpAddress network;
  int prefix_length = 0;
};

/// Parses "10.0.0.0/8", "2001:db8::/32", or a bare address (a /32 or /128). Host bits
/// beyond the prefix are allowed and ignored. Fails with a message quoting the text.
Result<Cidr> parseCidr(std::string_view text);

/// True when `ip` lies in `cidr`. An IPv4-mapped IPv6 address (::ffff:10.1.2.3) matches
/// IPv4 networks. Unparsable input never matches.
bool cidrContains(const Cidr& cidr, const IpAddress& ip);
bool cidrContains(std::string_view cidr, std::string_view ip);

}  // namespace siprecd::app
