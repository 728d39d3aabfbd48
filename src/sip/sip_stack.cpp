#include "sip/sip_stack.hpp"

#include <exception>
#include <utility>

#include <openssl/ssl.h>

#include "base/log.hpp"
#include "sip/asio_headers.hpp"
#include "sip/serializer.hpp"
#include "sip/transaction_layer.hpp"
#include "sip/transport_stream.hpp"
#include "sip/transport_udp.hpp"

namespace siprecd::sip {
namespace {

bool onlyLineBreaks(std::string_view bytes) {
  return bytes.find_first_not_of("\r\n") == std::string_view::npos;
}

Result<std::shared_ptr<asio::ssl::context>> makeTlsContext(const TlsSettings& tls, bool server) {
  try {
    auto context = std::make_shared<asio::ssl::context>(server ? asio::ssl::context::tls_server
                                                               : asio::ssl::context::tls_client);
    std::error_code error;
    context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                             asio::ssl::context::no_sslv3 | asio::ssl::context::single_dh_use,
                         error);
    SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
    SSL_CTX_set_options(context->native_handle(), SSL_OP_NO_RENEGOTIATION);
    if (server && (tls.certificate_file.empty() || tls.private_key_file.empty())) {
      return fail("tls: certificate_file and private_key_file are required for a tls listener");
    }
    if (!tls.certificate_file.empty()) {
      context->use_certificate_chain_file(tls.certificate_file, error);
      if (error) {
        return fail("tls: certificate_file '" + tls.certificate_file + "': " + error.message());
      }
    }
    if (!tls.private_key_file.empty()) {
      context->use_private_key_file(tls.private_key_file, asio::ssl::context::pem, error);
      if (error) {
        return fail("tls: private_key_file '" + tls.private_key_file + "': " + error.message());
      }
    }
    if (!tls.ca_file.empty()) {
      context->load_verify_file(tls.ca_file, error);
      if (error) {
        return fail("tls: ca_file '" + tls.ca_file + "': " + error.message());
      }
    }
    if (server) {
      if (tls.verify_client) {
        if (tls.ca_file.empty()) {
          return fail("tls: verify_client needs a ca_file");
        }
        context->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert,
                                 error);
      } else {
        context->set_verify_mode(asio::ssl::verify_none, error);
      }
    } else {
      // Outbound: verified against ca_file when one is configured. The peer is an IP
      // literal (no DNS here), so no host name check applies.
      context->set_verify_mode(
          tls.ca_file.empty() ? asio::ssl::verify_none : asio::ssl::verify_peer, error);
    }
    if (error) {
      return fail("tls: verify mode: " + error.message());
    }
    return context;
  } catch (const std::exception& exception) {
    return fail(std::string("tls: ") + exception.what());
  }
}

}  // namespace

class SipStack::Impl final : public MessageSender, public TransportUser {
 public:
  Impl(EventLoop& loop, asio::io_context& io, StackSettings settings, Listener& listener)
      : loop_(loop),
        io_(io),
        settings_(std::move(settings)),
        budget_(std::make_shared<ConnectionBudget>()),
        layer_(loop, *this, listener, TransactionTimers{settings_.t1, settings_.t2, settings_.t4},
               settings_.user_agent) {
    budget_->max = settings_.max_connections;
  }

  ~Impl() override { stop(); }

  Result<void> start() {
    if (started_) {
      return fail("sip stack already started");
    }
    bool needs_tls = false;
    for (const auto& spec : settings_.listen) {
      needs_tls = needs_tls || spec.kind == TransportKind::Tls;
    }
    std::shared_ptr<asio::ssl::context> server_tls;
    std::shared_ptr<asio::ssl::context> client_tls;
    if (needs_tls) {
      auto server = makeTlsContext(settings_.tls, true);
      if (!server) {
        return tl::unexpected(server.error());
      }
      auto client = makeTlsContext(settings_.tls, false);
      if (!client) {
        return tl::unexpected(client.error());
      }
      server_tls = std::move(*server);
      client_tls = std::move(*client);
    }
    const StreamSettings stream_settings{settings_.limits, settings_.tcp_idle_timeout};
    for (const auto& spec : settings_.listen) {
      Result<void> opened;
      if (spec.kind == TransportKind::Udp) {
        auto transport = std::make_shared<UdpTransport>(io_, *this);
        opened = transport->open(spec);
        udp_.push_back(std::move(transport));
      } else {
        auto transport = std::make_shared<StreamTransport>(io_, spec.kind, *this, stream_settings,
                                                           budget_, server_tls, client_tls);
        opened = transport->open(spec);
        streams_.push_back(std::move(transport));
      }
      if (!opened) {
        closeTransports();
        udp_.clear();
        streams_.clear();
        return fail("listen " + toString(spec) + ": " + opened.error().message);
      }
    }
    started_ = true;
    for (const auto& spec : boundListeners()) {
      log::info("sip", "listening on {}", toString(spec));
    }
    for (auto& transport : udp_) {
      transport->start();
    }
    for (auto& transport : streams_) {
      transport->start();
    }
    return {};
  }

  void stop() {
    stopped_ = true;
    closeTransports();
  }

  std::vector<ListenSpec> boundListeners() const {
    std::vector<ListenSpec> out;
    for (const auto& transport : udp_) {
      out.push_back(transport->bound());
    }
    for (const auto& transport : streams_) {
      out.push_back(transport->bound());
    }
    return out;
  }

  void sendRequest(Message request, const PeerAddress& target,
                   std::function<void(Result<Message>)> on_final) {
    layer_.sendRequest(std::move(request), target, std::move(on_final));
  }

  Stats stats() const {
    const auto& counters = layer_.counters();
    Stats stats;
    stats.requests_in = counters.requests_in;
    stats.responses_out = counters.responses_out;
    stats.parse_errors = parse_errors_;
    stats.retransmissions_absorbed = counters.retransmissions_absorbed;
    stats.transactions_active = layer_.serverTransactionCount() + layer_.clientTransactionCount();
    stats.connections_active = budget_->active;
    return stats;
  }

  // MessageSender
  void send(const Message& message, const PeerAddress& destination,
            SendErrorHandler on_error) override {
    if (stopped_) {
      reportError(std::move(on_error), "sip stack stopped");
      return;
    }
    std::string bytes = serialize(message);
    if (destination.transport == TransportKind::Udp) {
      UdpTransport* transport = pickUdp(destination);
      if (transport == nullptr) {
        reportError(std::move(on_error), "no udp listener for " + destination.remote_address);
        return;
      }
      if (auto sent = transport->send(bytes, destination); !sent) {
        log::limited(send_error_log_, log::Level::Warn, "sip", "{}", sent.error().message);
        reportError(std::move(on_error), sent.error().message);
      }
      return;
    }
    if (destination.connection_id != 0) {
      for (auto& transport : streams_) {
        if (transport->kind() == destination.transport &&
            transport->sendOnConnection(destination.connection_id, bytes)) {
          return;
        }
      }
    }
    StreamTransport* transport = pickStream(destination);
    if (transport == nullptr) {
      reportError(std::move(on_error),
                  "no " + std::string(toString(destination.transport)) + " listener");
      return;
    }
    transport->connectAndSend(destination, std::move(bytes), guard(std::move(on_error)));
  }

  std::string sentBy(const PeerAddress& destination) override {
    const ListenSpec* listener = nullptr;
    const bool v6 = isIpv6(destination.remote_address);
    if (destination.transport == TransportKind::Udp) {
      UdpTransport* udp = pickUdp(destination);
      listener = udp != nullptr ? &udp->bound() : nullptr;
    } else if (StreamTransport* stream = pickStream(destination)) {
      listener = &stream->bound();
    }
    if (listener == nullptr) {
      const auto all = boundListeners();
      return hostPort(destination.local_address.empty() ? (v6 ? "::1" : "127.0.0.1")
                                                        : destination.local_address,
                      all.empty() ? defaultPort(destination.transport) : all.front().port);
    }
    const bool wildcard = listener->address == "0.0.0.0" || listener->address == "::";
    if (!wildcard) {
      return hostPort(listener->address, listener->port);
    }
    if (!destination.local_address.empty() && isIpv6(destination.local_address) == v6) {
      return hostPort(destination.local_address, listener->port);
    }
    const auto source = UdpTransport::sourceAddressFor(io_, destination.remote_address);
    return hostPort(source ? *source : listener->address, listener->port);
  }

  // TransportUser
  void transportDatagram(std::string_view bytes, const PeerAddress& source) override {
    if (stopped_ || onlyLineBreaks(bytes)) {
      return;  // CRLF keep-alives (RFC 5626 §3.5.1 style) carry no message
    }
    auto parsed = parseMessage(bytes, Framing::Datagram, settings_.limits);
    if (!parsed) {
      transportRefusedMessage(bytes, parsed.error(), source);
      return;
    }
    dispatch(std::move(*parsed), source);
  }

  /// A message the parser refused: counted, logged rate-limited, answered with 400 when
  /// enough of it is readable to route a response (RFC 3261 §8.2 / RFC 4475 §3.1.2).
  void transportRefusedMessage(std::string_view bytes, const Error& error,
                               const PeerAddress& source) override {
    if (stopped_) {
      return;
    }
    ++parse_errors_;
    log::limited(bad_input_log_, log::Level::Warn, "sip", "unparsable {} message from {}: {}",
                 toString(source.transport), hostPort(source.remote_address, source.remote_port),
                 error.message);
    if (auto salvaged = salvageRequestForErrorResponse(bytes)) {
      layer_.rejectMalformedRequest(std::move(*salvaged), source, error.message);
    }
  }

  void transportMessage(Message message, const PeerAddress& source) override {
    if (!stopped_) {
      dispatch(std::move(message), source);
    }
  }

  void transportStreamError(const Error& error, const PeerAddress& source) override {
    ++parse_errors_;
    log::limited(bad_input_log_, log::Level::Warn, "sip", "closing {} connection from {}: {}",
                 toString(source.transport), hostPort(source.remote_address, source.remote_port),
                 error.message);
  }

 private:
  void dispatch(Message message, const PeerAddress& source) {
    if (message.isRequest()) {
      layer_.receiveRequest(std::move(message), source);
    } else {
      layer_.receiveResponse(std::move(message), source);
    }
  }

  /// The UDP socket to send from: the one bound to the destination's local port and
  /// address family (exact local address preferred), else the first of that family.
  UdpTransport* pickUdp(const PeerAddress& destination) {
    const bool v6 = isIpv6(destination.remote_address);
    UdpTransport* fallback = nullptr;
    for (auto& transport : udp_) {
      if (transport->isIpv6() != v6) {
        continue;
      }
      const auto& bound = transport->bound();
      if (bound.port == destination.local_port &&
          (transport->isWildcard() || bound.address == destination.local_address)) {
        return transport.get();
      }
      if (fallback == nullptr) {
        fallback = transport.get();
      }
    }
    return fallback;
  }

  StreamTransport* pickStream(const PeerAddress& destination) {
    const bool v6 = isIpv6(destination.remote_address);
    StreamTransport* fallback = nullptr;
    for (auto& transport : streams_) {
      if (transport->kind() != destination.transport) {
        continue;
      }
      if (transport->isIpv6() == v6 && transport->bound().port == destination.local_port) {
        return transport.get();
      }
      if (fallback == nullptr || (transport->isIpv6() == v6 && fallback->isIpv6() != v6)) {
        fallback = transport.get();
      }
    }
    return fallback;
  }

  /// Wraps an error handler so that it never runs after the stack is gone.
  SendErrorHandler guard(SendErrorHandler handler) {
    if (!handler) {
      return handler;
    }
    return [alive = std::weak_ptr<int>(alive_), handler = std::move(handler)](const Error& error) {
      if (alive.lock()) {
        handler(error);
      }
    };
  }

  /// Reports a send failure on a later turn of the loop (never inside send()).
  void reportError(SendErrorHandler handler, std::string message) {
    if (!handler) {
      return;
    }
    loop_.post([guarded = guard(std::move(handler)), message = std::move(message)] {
      guarded(Error{message, 503});
    });
  }

  void closeTransports() {
    for (auto& transport : udp_) {
      transport->close();
    }
    for (auto& transport : streams_) {
      transport->close();
    }
  }

  EventLoop& loop_;
  asio::io_context& io_;
  StackSettings settings_;
  std::shared_ptr<ConnectionBudget> budget_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
  std::vector<std::shared_ptr<UdpTransport>> udp_;
  std::vector<std::shared_ptr<StreamTransport>> streams_;
  TransactionLayer layer_;
  uint64_t parse_errors_ = 0;
  log::RateLimiter bad_input_log_{5};
  log::RateLimiter send_error_log_{5};
  bool started_ = false;
  bool stopped_ = false;
};

SipStack::SipStack(EventLoop& loop, asio::io_context& io, StackSettings settings,
                   Listener& listener)
    : impl_(std::make_unique<Impl>(loop, io, std::move(settings), listener)) {}

SipStack::~SipStack() = default;

Result<void> SipStack::start() {
  return impl_->start();
}

std::vector<ListenSpec> SipStack::boundListeners() const {
  return impl_->boundListeners();
}

void SipStack::sendRequest(Message request, const PeerAddress& target,
                           std::function<void(Result<Message>)> on_final) {
  impl_->sendRequest(std::move(request), target, std::move(on_final));
}

void SipStack::stop() {
  impl_->stop();
}

SipStack::Stats SipStack::stats() const {
  return impl_->stats();
}

}  // namespace siprecd::sip
