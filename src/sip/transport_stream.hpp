#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "base/result.hpp"
#include "sip/asio_headers.hpp"
#include "sip/parser.hpp"
#include "sip/transport.hpp"

namespace siprecd::sip {

/// Connection bookkeeping shared by every TCP/TLS transport of one stack: ids unique
/// across transports and the stack-wide connection limit. Shared so that connections
/// finishing after the stack is gone stay safe.
struct ConnectionBudget {
  uint64_t next_id = 1;
  std::size_t active = 0;
  std::size_t max = 4096;
};

struct StreamSettings {
  ParseLimits limits;
  std::chrono::seconds idle_timeout{300};  ///< 0: established connections never time out
  /// Connect + TLS handshake must finish within this (and within idle_timeout).
  std::chrono::seconds establish_timeout{10};
  std::size_t max_queued_bytes = 4 * 1024 * 1024;  ///< unsent bytes before a slow peer is cut
};

class StreamConnection;

/// One TCP or TLS listener and the connections it accepted or opened (RFC 3261 §18.3,
/// RFC 5630 for TLS): a StreamFramer per connection, an idle timeout, the stack-wide
/// connection limit, a write queue. Internal to the stack (includes asio). SIP thread
/// only; handlers keep objects alive through shared_from_this and do nothing once closed.
class StreamTransport : public std::enable_shared_from_this<StreamTransport> {
 public:
  /// `server_tls` / `client_tls` are required for TLS (ignored for TCP).
  StreamTransport(asio::io_context& io, TransportKind kind, TransportUser& user,
                  StreamSettings settings, std::shared_ptr<ConnectionBudget> budget,
                  std::shared_ptr<asio::ssl::context> server_tls,
                  std::shared_ptr<asio::ssl::context> client_tls);
  ~StreamTransport();
  StreamTransport(const StreamTransport&) = delete;
  StreamTransport& operator=(const StreamTransport&) = delete;

  /// Binds and listens. Failure names the cause.
  Result<void> open(const ListenSpec& spec);
  /// Starts accepting.
  void start();
  /// Closes the listener and every connection. Idempotent.
  void close();

  const ListenSpec& bound() const { return bound_; }
  TransportKind kind() const { return kind_; }
  bool isIpv6() const { return ipv6_; }
  bool isWildcard() const { return wildcard_; }
  /// Queues `bytes` on connection `id` if this transport owns it and it is open.
  bool sendOnConnection(uint64_t id, std::string& bytes);
  /// Sends over an open connection to destination's remote address and port, or opens one
  /// (bytes are queued until it is connected / the TLS handshake is done). `on_error` runs
  /// (from an asio handler) if the connection cannot be established.
  void connectAndSend(const PeerAddress& destination, std::string bytes, SendErrorHandler on_error);
  std::size_t connectionCount() const { return connections_.size(); }

  // Connection callbacks.
  void connectionClosed(StreamConnection& connection);
  TransportUser& user() { return user_; }
  bool isClosed() const { return closed_; }
  const StreamSettings& settings() const { return settings_; }

 private:
  void acceptNext();
  std::shared_ptr<StreamConnection> makeConnection(asio::ip::tcp::socket socket);
  static std::string endpointKey(const std::string& address, uint16_t port);

  asio::io_context& io_;
  TransportKind kind_;
  TransportUser& user_;
  StreamSettings settings_;
  std::shared_ptr<ConnectionBudget> budget_;
  std::shared_ptr<asio::ssl::context> server_tls_;
  std::shared_ptr<asio::ssl::context> client_tls_;
  asio::ip::tcp::acceptor acceptor_;
  asio::steady_timer accept_retry_;
  ListenSpec bound_;
  bool ipv6_ = false;
  bool wildcard_ = false;
  bool closed_ = false;
  std::unordered_map<uint64_t, std::shared_ptr<StreamConnection>> connections_;
  /// Connections by "remote address|port", for reuse by outbound sends.
  std::unordered_map<std::string, uint64_t> by_endpoint_;
};

}  // namespace siprecd::sip
