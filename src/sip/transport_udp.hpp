#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "sip/asio_headers.hpp"
#include "sip/transport.hpp"

namespace siprecd::sip {

/// One UDP listening socket (RFC 3261 §18, IPv4 or IPv6). Receives with recvmsg on the
/// native handle so that a socket bound to a wildcard address learns the real local
/// address of each datagram (IP_PKTINFO / IPV6_RECVPKTINFO) and answers from it. Internal
/// to the stack (includes asio). SIP thread only; asio handlers keep it alive through
/// shared_from_this and do nothing once close() was called.
class UdpTransport : public std::enable_shared_from_this<UdpTransport> {
 public:
  UdpTransport(asio::io_context& io, TransportUser& user);
  ~UdpTransport();
  UdpTransport(const UdpTransport&) = delete;
  UdpTransport& operator=(const UdpTransport&) = delete;

  /// Binds (SO_REUSEADDR, large buffers, IPV6_V6ONLY for IPv6). Failure names the cause.
  Result<void> open(const ListenSpec& spec);
  /// Starts receiving.
  void start();
  /// Closes the socket; pending handlers become no-ops. Idempotent.
  void close();

  /// The listener with its bound port.
  const ListenSpec& bound() const { return bound_; }
  bool isWildcard() const { return wildcard_; }
  bool isIpv6() const { return ipv6_; }
  /// Sends one datagram now (non-blocking). From destination.local_address when the
  /// socket is a wildcard one and the address is set. Failure names the cause.
  Result<void> send(std::string_view bytes, const PeerAddress& destination);
  /// The local address the kernel would send from to reach `remote_address` (asks the
  /// routing table by connecting a throw-away UDP socket; nothing is sent).
  static std::optional<std::string> sourceAddressFor(asio::io_context& io,
                                                     const std::string& remote_address);

 private:
  void waitReadable();
  void drain();

  TransportUser& user_;
  asio::ip::udp::socket socket_;
  ListenSpec bound_;
  bool wildcard_ = false;
  bool ipv6_ = false;
  bool closed_ = false;
  std::array<char, 65536> buffer_{};
};

}  // namespace siprecd::sip
