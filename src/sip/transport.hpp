#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "sip/message.hpp"

namespace siprecd::sip {

/// The SIP transports siprecd speaks (RFC 3261 §18).
enum class TransportKind { Udp, Tcp, Tls };

/// "udp" / "tcp" / "tls" (the spelling of configuration and of URI `transport=`).
std::string_view toString(TransportKind kind);
/// "UDP" / "TCP" / "TLS" (the spelling of Via, RFC 3261 §20.42).
std::string_view viaTransportName(TransportKind kind);
/// Parses "udp"/"tcp"/"tls" in any case; nullopt otherwise.
std::optional<TransportKind> parseTransportKind(std::string_view text);
/// TCP and TLS are reliable (no retransmission timers, RFC 3261 §17).
inline bool isReliable(TransportKind kind) {
  return kind != TransportKind::Udp;
}
/// The default port of a transport: 5060, or 5061 for TLS (RFC 3261 §19.1.2).
inline uint16_t defaultPort(TransportKind kind) {
  return kind == TransportKind::Tls ? 5061 : 5060;
}

/// One listening socket: `address` is an IP literal without brackets ("0.0.0.0", "::1").
struct ListenSpec {
  TransportKind kind = TransportKind::Udp;
  std::string address;
  uint16_t port = 0;
  bool operator==(const ListenSpec&) const = default;
};

/// Parses "udp:0.0.0.0:5060", "tcp:10.0.0.5:5060", "tls:[::1]:5061" (IPv6 in brackets;
/// port 0 asks for an ephemeral port). Failure (code 0) names the faulty part.
Result<ListenSpec> parseListenSpec(std::string_view text);
/// The inverse of parseListenSpec.
std::string toString(const ListenSpec& spec);

/// Where a message came from / goes to. Addresses are IP literals without brackets.
/// `connection_id` identifies a TCP/TLS connection (0 for UDP, or "no connection yet").
/// `local_address` is the address the message really arrived on (not a wildcard) and
/// `local_port` the listener's port.
struct PeerAddress {
  TransportKind transport = TransportKind::Udp;
  std::string remote_address;
  uint16_t remote_port = 0;
  std::string local_address;
  uint16_t local_port = 0;
  uint64_t connection_id = 0;
  bool operator==(const PeerAddress&) const = default;
};

/// The canonical text of an IP literal ("[::1]" or "0:0::1" → "::1", "010.1.1.1" stays
/// invalid); nullopt when `host` is not an IPv4/IPv6 literal (a domain name, garbage).
std::optional<std::string> normalizeIpLiteral(std::string_view host);
/// Whether `address` (no brackets) is IPv6.
bool isIpv6(std::string_view address);
/// "host:port" with IPv6 hosts in brackets, as Via sent-by and URIs want it.
std::string hostPort(std::string_view address, uint16_t port);

/// Invoked (on the SIP thread, never from inside send()) when a message could not be
/// delivered: no route, connection refused or closed, TLS handshake failed.
using SendErrorHandler = std::function<void(const Error& error)>;

/// What the transaction layer sends through; the SipStack implements it over its
/// transports, tests capture it. SIP thread only.
class MessageSender {
 public:
  virtual ~MessageSender() = default;
  /// Serialises and sends `message` to `destination`: over connection
  /// `destination.connection_id` when it is open, else a new connection / UDP datagram to
  /// remote_address:remote_port from the socket bound to local_address:local_port (or the
  /// first listener of that transport and address family). `on_error` may be empty.
  virtual void send(const Message& message, const PeerAddress& destination,
                    SendErrorHandler on_error) = 0;
  /// The "host:port" to put in a Via sent-by (RFC 3261 §18.1.1) for a request that will be
  /// sent to `destination`: the local address it will leave from and the listener's port.
  virtual std::string sentBy(const PeerAddress& destination) = 0;
};

/// What the transports deliver to the stack (implemented by SipStack's core). SIP thread.
class TransportUser {
 public:
  virtual ~TransportUser() = default;
  /// A UDP datagram, not yet parsed.
  virtual void transportDatagram(std::string_view bytes, const PeerAddress& source) = 0;
  /// A message framed and parsed from a TCP/TLS stream.
  virtual void transportMessage(Message message, const PeerAddress& source) = 0;
  /// A TCP/TLS stream could not be framed; the connection is being closed.
  virtual void transportStreamError(const Error& error, const PeerAddress& source) = 0;
  /// A message on a TCP/TLS stream was framed but refused by the parser (`bytes` are the
  /// refused message); the stream goes on. Default: ignored.
  virtual void transportRefusedMessage(std::string_view bytes, const Error& error,
                                       const PeerAddress& source) {
    (void)bytes;
    (void)error;
    (void)source;
  }
};

}  // namespace siprecd::sip
