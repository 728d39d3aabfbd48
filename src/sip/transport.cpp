#include "sip/transport.hpp"

#include <array>
#include <cstring>

#include <arpa/inet.h>

#include "base/strings.hpp"

namespace siprecd::sip {

std::string_view toString(TransportKind kind) {
  switch (kind) {
    case TransportKind::Udp:
      return "udp";
    case TransportKind::Tcp:
      return "tcp";
    case TransportKind::Tls:
      return "tls";
  }
  return "udp";
}

std::string_view viaTransportName(TransportKind kind) {
  switch (kind) {
    case TransportKind::Udp:
      return "UDP";
    case TransportKind::Tcp:
      return "TCP";
    case TransportKind::Tls:
      return "TLS";
  }
  return "UDP";
}

std::optional<TransportKind> parseTransportKind(std::string_view text) {
  if (iequals(text, "udp")) {
    return TransportKind::Udp;
  }
  if (iequals(text, "tcp")) {
    return TransportKind::Tcp;
  }
  if (iequals(text, "tls")) {
    return TransportKind::Tls;
  }
  return std::nullopt;
}

std::optional<std::string> normalizeIpLiteral(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty() || host.size() > INET6_ADDRSTRLEN) {
    return std::nullopt;
  }
  std::array<char, INET6_ADDRSTRLEN + 1> text{};
  std::memcpy(text.data(), host.data(), host.size());
  std::array<unsigned char, sizeof(in6_addr)> binary{};
  std::array<char, INET6_ADDRSTRLEN> out{};
  if (inet_pton(AF_INET, text.data(), binary.data()) == 1) {
    if (inet_ntop(AF_INET, binary.data(), out.data(), out.size()) == nullptr) {
      return std::nullopt;
    }
    return std::string(out.data());
  }
  if (inet_pton(AF_INET6, text.data(), binary.data()) == 1) {
    if (inet_ntop(AF_INET6, binary.data(), out.data(), out.size()) == nullptr) {
      return std::nullopt;
    }
    return std::string(out.data());
  }
  return std::nullopt;
}

bool isIpv6(std::string_view address) {
  return address.find(':') != std::string_view::npos;
}

std::string hostPort(std::string_view address, uint16_t port) {
  std::string out;
  out.reserve(address.size() + 8);
  if (isIpv6(address) && address.front() != '[') {
    out += '[';
    out += address;
    out += ']';
  } else {
    out += address;
  }
  out += ':';
  out += std::to_string(port);
  return out;
}

Result<ListenSpec> parseListenSpec(std::string_view text) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    return fail("listen spec '" + std::string(text) + "': expected transport:address:port");
  }
  const auto kind = parseTransportKind(text.substr(0, colon));
  if (!kind) {
    return fail("listen spec '" + std::string(text) + "': transport must be udp, tcp or tls");
  }
  std::string_view rest = text.substr(colon + 1);
  std::string_view address;
  std::string_view port_text;
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      return fail("listen spec '" + std::string(text) + "': expected [ipv6]:port");
    }
    address = rest.substr(1, close - 1);
    port_text = rest.substr(close + 2);
    if (!isIpv6(address)) {
      return fail("listen spec '" + std::string(text) + "': brackets are for IPv6 addresses");
    }
  } else {
    const auto last = rest.rfind(':');
    if (last == std::string_view::npos) {
      return fail("listen spec '" + std::string(text) + "': missing port");
    }
    address = rest.substr(0, last);
    port_text = rest.substr(last + 1);
    if (isIpv6(address)) {
      return fail("listen spec '" + std::string(text) + "': IPv6 addresses need brackets");
    }
  }
  auto normalized = normalizeIpLiteral(address);
  if (!normalized) {
    return fail("listen spec '" + std::string(text) + "': address '" + std::string(address) +
                "' is not an IP literal");
  }
  const auto port = parseUnsigned(port_text);
  if (!port || *port > 65535) {
    return fail("listen spec '" + std::string(text) + "': port '" + std::string(port_text) +
                "' is not a number in 0..65535");
  }
  return ListenSpec{*kind, std::move(*normalized), static_cast<uint16_t>(*port)};
}

std::string toString(const ListenSpec& spec) {
  return std::string(toString(spec.kind)) + ":" + hostPort(spec.address, spec.port);
}

}  // namespace siprecd::sip
