#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/event_loop.hpp"
#include "base/result.hpp"
#include "sip/message.hpp"
#include "sip/parser.hpp"
#include "sip/response_builder.hpp"
#include "sip/transaction_server.hpp"
#include "sip/transport.hpp"

namespace asio {
class io_context;
}  // namespace asio

namespace siprecd::sip {

/// TLS material. Files are PEM. `ca_file` verifies client certificates (verify_client) and
/// the servers siprecd connects to (when set; without it outbound TLS is unverified).
struct TlsSettings {
  std::string certificate_file;  ///< certificate chain presented by siprecd
  std::string private_key_file;
  std::string ca_file;
  bool verify_client = false;  ///< require and verify a client certificate against ca_file
};

struct StackSettings {
  std::vector<ListenSpec> listen;
  TlsSettings tls;
  ParseLimits limits;
  std::chrono::seconds tcp_idle_timeout{300};  ///< TCP/TLS connection without traffic → closed
  std::size_t max_connections = 4096;          ///< TCP+TLS, accepted and opened together
  std::chrono::milliseconds t1{500}, t2{4000}, t4{5000};  ///< RFC 3261 §17.1.1.1
  std::string user_agent = "siprecd";                     ///< Server header on responses
};

class TransactionLayer;

/// siprecd's SIP transports (UDP, TCP, TLS; RFC 3261 §18) and transaction layer (§17,
/// RFC 6026). Lives on one thread — the thread running `io`, which must be the thread of
/// `loop` — and every method is called there (start() may also run before `io` runs).
/// Callbacks to the Listener run on that thread; the TU may call stop() or sendRequest()
/// from them but must not destroy the stack there. Borrowed: loop, io, listener outlive it.
/// Nothing here throws on network input; failures are counted (stats()) and logged
/// rate-limited (component "sip").
class SipStack {
 public:
  /// The transaction user (the SIPREC session layer).
  class Listener {
   public:
    virtual ~Listener() = default;
    /// A new request (not a retransmission, not ACK, not a CANCEL). INVITE: 100 Trying was
    /// already sent. The TU answers through transaction->respond().
    virtual void onSipRequest(std::shared_ptr<ServerTransaction> transaction) = 0;
    /// An ACK for a 2xx (it is its own transaction; RFC 3261 §17.1.1.3) — passed up once;
    /// also any ACK that matches no transaction (e.g., late), which the TU may ignore.
    virtual void onSipAck(const Message& ack, const PeerAddress& peer) = 0;
    /// A CANCEL matched an INVITE server transaction that has no final response yet. The
    /// stack already answered the CANCEL with 200; the TU should answer the INVITE with 487.
    virtual void onSipCancel(ServerTransaction& invite) = 0;
    /// A 2xx to an INVITE was retransmitted until Timer L / 64*T1 without any ACK (RFC 6026).
    virtual void onSipAckTimeout(const Message& invite, const PeerAddress& peer) = 0;
  };

  /// Counters since construction.
  struct Stats {
    uint64_t requests_in = 0;               ///< parsed requests, retransmissions included
    uint64_t responses_out = 0;             ///< responses handed to a transport
    uint64_t parse_errors = 0;              ///< datagrams/stream messages the parser refused
    uint64_t retransmissions_absorbed = 0;  ///< retransmitted requests and ACKs absorbed
    uint64_t transactions_active = 0;       ///< server + client transactions alive now
    uint64_t connections_active = 0;        ///< TCP + TLS connections open now
  };

  SipStack(EventLoop& loop, asio::io_context& io, StackSettings settings, Listener& listener);
  ~SipStack();
  SipStack(const SipStack&) = delete;
  SipStack& operator=(const SipStack&) = delete;

  /// Binds every listener of settings.listen (and loads TLS material if a tls listener is
  /// configured). On failure nothing stays bound and the error names the listener.
  Result<void> start();
  /// The listeners, with their actual ports (0 replaced by the bound port).
  std::vector<ListenSpec> boundListeners() const;
  /// Non-INVITE client transaction (RFC 3261 §17.1.2), e.g. BYE: adds a top Via with a
  /// fresh branch (z9hG4bK...) and rport, sends to `target` (over connection
  /// `target.connection_id` if still open, else a new connection / UDP), retransmits per
  /// Timer E on UDP; Timer F (64*T1) → on_final(fail("timeout", 408)); transport error →
  /// on_final(fail(..., 503)). on_final runs once, on the loop, never inside this call.
  void sendRequest(Message request, const PeerAddress& target,
                   std::function<void(Result<Message>)> on_final);
  /// Closes listeners and connections. Transactions still alive stop sending. Idempotent.
  void stop();
  Stats stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace siprecd::sip
