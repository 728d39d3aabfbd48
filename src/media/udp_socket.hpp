#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <sys/socket.h>
#include <tl/expected.hpp>

#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace siprecd::media {

/// An IPv4 or IPv6 address and UDP port: a packet's source, compared for the symmetric-RTP
/// latch. Plain value, no allocation.
class UdpEndpoint {
 public:
  UdpEndpoint() = default;
  /// From a received sockaddr (AF_INET or AF_INET6; anything else gives an empty endpoint).
  static UdpEndpoint fromSockaddr(const sockaddr_storage& address, socklen_t length);

  bool empty() const { return family_ == 0; }
  uint16_t port() const { return port_; }
  /// "192.0.2.1:5004" or "[2001:db8::1]:5004".
  std::string toString() const;

  friend bool operator==(const UdpEndpoint&, const UdpEndpoint&) = default;

 private:
  int family_ = 0;
  uint16_t port_ = 0;
  std::array<uint8_t, 16> address_{};
  uint32_t scope_id_ = 0;
};

/// A local address to bind media sockets to: "0.0.0.0", "::" (dual-stack: IPv4 too) or a
/// specific local IP.
class BindAddress {
 public:
  /// Fails, naming the field, when `text` is not an IPv4 or IPv6 address literal.
  [[nodiscard]] static Result<BindAddress> parse(std::string_view text);

  int family() const { return family_; }
  /// The sockaddr for `port`; returns its length.
  socklen_t toSockaddr(uint16_t port, sockaddr_storage& out) const;
  bool isIpv6Any() const;

 private:
  int family_ = 0;
  std::array<uint8_t, 16> address_{};
};

/// Why a bind failed; `address_in_use` lets the port allocator try another port.
struct BindError {
  std::string message;
  bool address_in_use = false;
};

/// Asks for a receive buffer of `bytes` on socket `fd`: SO_RCVBUFFORCE (passes
/// net.core.rmem_max, needs CAP_NET_ADMIN), else SO_RCVBUF (capped at rmem_max). Returns
/// what the kernel then reports (getsockopt SO_RCVBUF: Linux doubles the request to cover its
/// bookkeeping), 0 when it cannot be read.
std::size_t setReceiveBuffer(int fd, std::size_t bytes);

/// A non-blocking, close-on-exec UDP socket bound to a local address and port.
class UdpSocket {
 public:
  /// Binds to `address`:`port` with a receive buffer of `receive_buffer_bytes` (see
  /// setReceiveBuffer()). An IPv6 "::" socket also accepts IPv4 (IPV6_V6ONLY off).
  [[nodiscard]] static tl::expected<UdpSocket, BindError> bind(const BindAddress& address,
                                                               uint16_t port,
                                                               std::size_t receive_buffer_bytes);

  int fd() const { return fd_.get(); }
  uint16_t localPort() const { return local_port_; }
  /// The receive buffer the kernel granted (getsockopt SO_RCVBUF), bytes.
  std::size_t receiveBufferBytes() const;

 private:
  UdpSocket(UniqueFd fd, uint16_t local_port) : fd_(std::move(fd)), local_port_(local_port) {}

  UniqueFd fd_;
  uint16_t local_port_ = 0;
};

}  // namespace siprecd::media
