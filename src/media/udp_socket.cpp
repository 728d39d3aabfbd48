#include "media/udp_socket.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include <arpa/inet.h>
#include <netinet/in.h>

namespace siprecd::media {

namespace {

std::string errnoText(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

}  // namespace

UdpEndpoint UdpEndpoint::fromSockaddr(const sockaddr_storage& address, socklen_t length) {
  UdpEndpoint endpoint;
  if (address.ss_family == AF_INET && length >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    sockaddr_in v4{};
    std::memcpy(&v4, &address, sizeof(v4));
    endpoint.family_ = AF_INET;
    endpoint.port_ = ntohs(v4.sin_port);
    std::memcpy(endpoint.address_.data(), &v4.sin_addr, sizeof(v4.sin_addr));
  } else if (address.ss_family == AF_INET6 &&
             length >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    sockaddr_in6 v6{};
    std::memcpy(&v6, &address, sizeof(v6));
    endpoint.family_ = AF_INET6;
    endpoint.port_ = ntohs(v6.sin6_port);
    std::memcpy(endpoint.address_.data(), &v6.sin6_addr, sizeof(v6.sin6_addr));
    endpoint.scope_id_ = v6.sin6_scope_id;
  }
  return endpoint;
}

std::string UdpEndpoint::toString() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (family_ == AF_INET) {
    ::inet_ntop(AF_INET, address_.data(), text, sizeof(text));
    return std::string(text) + ":" + std::to_string(port_);
  }
  if (family_ == AF_INET6) {
    ::inet_ntop(AF_INET6, address_.data(), text, sizeof(text));
    // Appended piecewise: g++ 12 at -O3 misreads "[" + std::string as overlapping copies.
    std::string out("[");
    out += text;
    out += "]:";
    out += std::to_string(port_);
    return out;
  }
  return "-";
}

Result<BindAddress> BindAddress::parse(std::string_view text) {
  const std::string literal(text);
  BindAddress address;
  if (::inet_pton(AF_INET, literal.c_str(), address.address_.data()) == 1) {
    address.family_ = AF_INET;
    return address;
  }
  if (::inet_pton(AF_INET6, literal.c_str(), address.address_.data()) == 1) {
    address.family_ = AF_INET6;
    return address;
  }
  return fail("media bind_address is not an IP address literal: " + literal);
}

bool BindAddress::isIpv6Any() const {
  if (family_ != AF_INET6) {
    return false;
  }
  for (uint8_t byte : address_) {
    if (byte != 0) {
      return false;
    }
  }
  return true;
}

socklen_t BindAddress::toSockaddr(uint16_t port, sockaddr_storage& out) const {
  out = sockaddr_storage{};
  if (family_ == AF_INET) {
    sockaddr_in v4{};
    v4.sin_family = AF_INET;
    v4.sin_port = htons(port);
    std::memcpy(&v4.sin_addr, address_.data(), sizeof(v4.sin_addr));
    std::memcpy(&out, &v4, sizeof(v4));
    return sizeof(v4);
  }
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  v6.sin6_port = htons(port);
  std::memcpy(&v6.sin6_addr, address_.data(), sizeof(v6.sin6_addr));
  std::memcpy(&out, &v6, sizeof(v6));
  return sizeof(v6);
}

std::size_t setReceiveBuffer(int fd, std::size_t bytes) {
  const int asked = static_cast<int>(std::min<std::size_t>(bytes, std::size_t{1} << 30));
  // SO_RCVBUFFORCE passes net.core.rmem_max but needs CAP_NET_ADMIN; fall back quietly.
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &asked, sizeof(asked)) != 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &asked, sizeof(asked));
  }
  int granted = 0;
  socklen_t length = sizeof(granted);
  if (::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &granted, &length) != 0 || granted < 0) {
    return 0;
  }
  return static_cast<std::size_t>(granted);
}

std::size_t UdpSocket::receiveBufferBytes() const {
  int granted = 0;
  socklen_t length = sizeof(granted);
  if (::getsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &granted, &length) != 0 || granted < 0) {
    return 0;
  }
  return static_cast<std::size_t>(granted);
}

tl::expected<UdpSocket, BindError> UdpSocket::bind(const BindAddress& address, uint16_t port,
                                                   std::size_t receive_buffer_bytes) {
  UniqueFd fd(::socket(address.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return tl::unexpected(BindError{errnoText("media socket()"), false});
  }
  if (address.isIpv6Any()) {
    const int v6_only = 0;
    ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &v6_only, sizeof(v6_only));
  }
  setReceiveBuffer(fd.get(), receive_buffer_bytes);
  sockaddr_storage local{};
  const socklen_t local_length = address.toSockaddr(port, local);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&local), local_length) != 0) {
    const bool in_use = errno == EADDRINUSE;
    return tl::unexpected(BindError{errnoText("media bind()"), in_use});
  }
  sockaddr_storage bound{};
  socklen_t bound_length = sizeof(bound);
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &bound_length) != 0) {
    return tl::unexpected(BindError{errnoText("media getsockname()"), false});
  }
  const uint16_t bound_port = UdpEndpoint::fromSockaddr(bound, bound_length).port();
  return UdpSocket(std::move(fd), bound_port);
}

}  // namespace siprecd::media
