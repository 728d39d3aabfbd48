#include "sip/transport_stream.hpp"

#include <algorithm>
#include <array>
#include <deque>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "base/log.hpp"
#include "sip/asio_headers.hpp"

namespace siprecd::sip {

using Tcp = asio::ip::tcp;
using TlsStream = asio::ssl::stream<Tcp::socket>;

namespace {

constexpr std::size_t kReadChunkBytes = 16 * 1024;

/// Connection-level trouble (handshakes, limits) is logged at most a few times a second.
log::RateLimiter& connectionLog() {
  static log::RateLimiter limiter(5);
  return limiter;
}
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};

void postError(asio::io_context& io, SendErrorHandler handler, std::string message) {
  if (handler) {
    asio::post(io, [handler = std::move(handler), message = std::move(message)] {
      handler(Error{message, 503});
    });
  }
}

}  // namespace

/// One TCP or TLS connection: framing, write queue, idle timer. See StreamTransport.
class StreamConnection : public std::enable_shared_from_this<StreamConnection> {
 public:
  StreamConnection(std::shared_ptr<StreamTransport> transport,
                   std::shared_ptr<ConnectionBudget> budget, uint64_t id)
      : transport_(std::move(transport)),
        budget_(std::move(budget)),
        id_(id),
        framer_(transport_->settings().limits) {
    ++budget_->active;
  }
  virtual ~StreamConnection() {
    if (counted_) {
      --budget_->active;
    }
  }
  StreamConnection(const StreamConnection&) = delete;
  StreamConnection& operator=(const StreamConnection&) = delete;

  uint64_t id() const { return id_; }
  const PeerAddress& peer() const { return peer_; }
  bool isClosed() const { return closed_; }
  const std::string& endpointKey() const { return endpoint_key_; }
  void setEndpointKey(std::string key) { endpoint_key_ = std::move(key); }

  /// An accepted connection: TLS handshake (server side) if TLS, then reading.
  virtual void startServer() = 0;
  /// An outbound connection: connect, TLS handshake (client side), then reading and
  /// writing what was queued. `on_error` learns of a failure to establish it.
  virtual void startClient(const Tcp::endpoint& remote, SendErrorHandler on_error) = 0;

  /// Queues bytes; they are written in order once the connection is established.
  void send(std::string bytes) {
    if (closed_) {
      return;
    }
    queued_bytes_ += bytes.size();
    if (queued_bytes_ > transport_->settings().max_queued_bytes) {
      close();  // a peer that does not read is cut rather than buffered without bound
      return;
    }
    queue_.push_back(std::move(bytes));
    if (established_ && !writing_) {
      writeNext();
    }
  }
  /// Another sender waits for the connection to be established.
  void addPendingErrorHandler(SendErrorHandler on_error) {
    if (!established_ && on_error) {
      pending_errors_.push_back(std::move(on_error));
    }
  }

  void close() {
    if (closed_) {
      return;
    }
    closed_ = true;
    if (counted_) {
      counted_ = false;
      --budget_->active;
    }
    queue_.clear();
    queued_bytes_ = 0;
    closeSocket();
    transport_->connectionClosed(*this);
  }

 protected:
  virtual void closeSocket() = 0;
  virtual void readSome() = 0;
  virtual void writeFront() = 0;
  virtual asio::steady_timer& idleTimer() = 0;

  void setPeer(PeerAddress peer) { peer_ = std::move(peer); }
  void touch() { last_activity_ = std::chrono::steady_clock::now(); }

  void established() {
    established_ = true;
    pending_errors_.clear();
    readSome();
    if (!writing_) {
      writeNext();
    }
  }

  /// The connection could not be established: close it and tell whoever waited.
  void failToEstablish(const std::string& reason) {
    auto handlers = std::move(pending_errors_);
    pending_errors_.clear();
    close();
    for (auto& handler : handlers) {
      handler(Error{reason, 503});
    }
  }

  void onRead(const std::error_code& error, std::size_t length, const char* data) {
    if (closed_ || transport_->isClosed()) {
      return;
    }
    if (error) {
      close();  // EOF, reset, TLS alert
      return;
    }
    touch();
    framer_.feed(std::string_view(data, length));
    while (!closed_) {
      auto next = framer_.next();
      if (!next) {
        break;
      }
      if (!*next) {
        if (!framer_.broken()) {
          // Framed by Content-Length but refused: answer it, keep the connection.
          transport_->user().transportRefusedMessage(framer_.failedMessageBytes(), next->error(),
                                                     peer_);
          continue;
        }
        transport_->user().transportStreamError(next->error(), peer_);
        close();  // a stream cannot be resynchronised (RFC 3261 §18.3)
        return;
      }
      transport_->user().transportMessage(std::move(**next), peer_);
    }
    if (closed_) {
      return;
    }
    if (framer_.keepAlivesSeen() != keep_alives_answered_) {
      // RFC 5626 §4.4.1: a double-CRLF ping is answered with a single-CRLF pong.
      keep_alives_answered_ = framer_.keepAlivesSeen();
      send("\r\n");
    }
    readSome();
  }

  void onWritten(const std::error_code& error) {
    if (closed_) {
      return;
    }
    if (error) {
      close();
      return;
    }
    touch();
    queued_bytes_ -= queue_.front().size();
    queue_.pop_front();
    writeNext();
  }

  void writeNext() {
    if (closed_ || queue_.empty()) {
      writing_ = false;
      return;
    }
    writing_ = true;
    writeFront();
  }

  /// How long the connection may stay silent: the idle timeout once established, the
  /// (shorter) establish timeout while connecting / handshaking; zero for no limit.
  std::chrono::steady_clock::duration currentLimit() const {
    using Duration = std::chrono::steady_clock::duration;
    const auto& settings = transport_->settings();
    if (established_) {
      return settings.idle_timeout.count() > 0 ? Duration(settings.idle_timeout) : Duration::zero();
    }
    if (settings.idle_timeout.count() <= 0) {
      return Duration(settings.establish_timeout);
    }
    return Duration(std::min(settings.idle_timeout, settings.establish_timeout));
  }

  void armIdleTimer(std::chrono::steady_clock::duration delay) {
    idleTimer().expires_after(delay);
    idleTimer().async_wait([self = shared_from_this()](const std::error_code& error) {
      if (error || self->closed_) {
        return;
      }
      const auto limit = self->currentLimit();
      if (limit == std::chrono::steady_clock::duration::zero()) {
        return;
      }
      const auto idle_for = std::chrono::steady_clock::now() - self->last_activity_;
      if (idle_for < limit) {
        self->armIdleTimer(limit - idle_for);
      } else if (self->established_) {
        self->close();
      } else {
        self->failToEstablish("timed out establishing the connection");
      }
    });
  }

  void startIdleTimer() {
    touch();
    const auto limit = currentLimit();
    if (limit != std::chrono::steady_clock::duration::zero()) {
      armIdleTimer(limit);
    }
  }

  std::shared_ptr<StreamTransport> transport_;
  std::shared_ptr<ConnectionBudget> budget_;
  uint64_t id_;
  PeerAddress peer_;
  std::string endpoint_key_;
  StreamFramer framer_;
  std::size_t keep_alives_answered_ = 0;
  std::deque<std::string> queue_;
  std::size_t queued_bytes_ = 0;
  std::vector<SendErrorHandler> pending_errors_;
  std::chrono::steady_clock::time_point last_activity_ = std::chrono::steady_clock::now();
  bool counted_ = true;
  bool closed_ = false;
  bool established_ = false;
  bool writing_ = false;
};

namespace {

template <typename Stream>
class BasicStreamConnection final : public StreamConnection {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  BasicStreamConnection(std::shared_ptr<StreamTransport> transport,
                        std::shared_ptr<ConnectionBudget> budget, uint64_t id, Tcp::socket socket,
                        asio::ssl::context* tls)
      : StreamConnection(std::move(transport), std::move(budget), id),
        stream_(makeStream(std::move(socket), tls)),
        idle_timer_(socketOf().get_executor()) {}

  void startServer() override {
    describeEndpoints();
    startIdleTimer();
    if constexpr (kTls) {
      stream_.async_handshake(
          asio::ssl::stream_base::server, [self = selfPtr()](const std::error_code& error) {
            if (self->closed_) {
              return;
            }
            if (error) {
              log::limited(
                  connectionLog(), log::Level::Warn, "sip", "tls handshake with {} failed: {}",
                  hostPort(self->peer_.remote_address, self->peer_.remote_port), error.message());
              self->close();
              return;
            }
            self->established();
          });
    } else {
      established();
    }
  }

  void startClient(const Tcp::endpoint& remote, SendErrorHandler on_error) override {
    addPendingErrorHandler(std::move(on_error));
    startIdleTimer();
    socketOf().async_connect(remote, [self = selfPtr(), remote](const std::error_code& error) {
      if (self->closed_) {
        return;
      }
      if (error) {
        self->failToEstablish("connect to " + remote.address().to_string() + ":" +
                              std::to_string(remote.port()) + ": " + error.message());
        return;
      }
      self->describeEndpoints();
      if constexpr (kTls) {
        self->stream_.async_handshake(
            asio::ssl::stream_base::client, [self](const std::error_code& handshake_error) {
              if (self->closed_) {
                return;
              }
              if (handshake_error) {
                self->failToEstablish("tls handshake: " + handshake_error.message());
                return;
              }
              self->established();
            });
      } else {
        self->established();
      }
    });
  }

 protected:
  void closeSocket() override {
    std::error_code ignored;
    idle_timer_.cancel();
    socketOf().close(ignored);
  }

  void readSome() override {
    stream_.async_read_some(asio::buffer(read_buffer_),
                            [self = selfPtr()](const std::error_code& error, std::size_t length) {
                              self->onRead(error, length, self->read_buffer_.data());
                            });
  }

  void writeFront() override {
    asio::async_write(
        stream_, asio::buffer(queue_.front()),
        [self = selfPtr()](const std::error_code& error, std::size_t) { self->onWritten(error); });
  }

  asio::steady_timer& idleTimer() override { return idle_timer_; }

 private:
  static Stream makeStream(Tcp::socket socket, asio::ssl::context* tls) {
    if constexpr (kTls) {
      return Stream(std::move(socket), *tls);
    } else {
      return socket;
    }
  }

  Tcp::socket& socketOf() {
    if constexpr (kTls) {
      return stream_.next_layer();
    } else {
      return stream_;
    }
  }

  std::shared_ptr<BasicStreamConnection> selfPtr() {
    return std::static_pointer_cast<BasicStreamConnection>(shared_from_this());
  }

  void describeEndpoints() {
    std::error_code error;
    PeerAddress peer;
    peer.transport = transport_->kind();
    peer.connection_id = id_;
    const auto remote = socketOf().remote_endpoint(error);
    if (!error) {
      peer.remote_address = remote.address().to_string();
      peer.remote_port = remote.port();
    }
    const auto local = socketOf().local_endpoint(error);
    if (!error) {
      peer.local_address = local.address().to_string();
    }
    // The listener's port: where the peer can reach us again (sent-by, Contact).
    peer.local_port = transport_->bound().port;
    setPeer(std::move(peer));
  }

  Stream stream_;
  asio::steady_timer idle_timer_;
  std::array<char, kReadChunkBytes> read_buffer_{};
};

}  // namespace

StreamTransport::StreamTransport(asio::io_context& io, TransportKind kind, TransportUser& user,
                                 StreamSettings settings, std::shared_ptr<ConnectionBudget> budget,
                                 std::shared_ptr<asio::ssl::context> server_tls,
                                 std::shared_ptr<asio::ssl::context> client_tls)
    : io_(io),
      kind_(kind),
      user_(user),
      settings_(settings),
      budget_(std::move(budget)),
      server_tls_(std::move(server_tls)),
      client_tls_(std::move(client_tls)),
      acceptor_(io),
      accept_retry_(io) {}

StreamTransport::~StreamTransport() {
  close();
}

Result<void> StreamTransport::open(const ListenSpec& spec) {
  if (kind_ == TransportKind::Tls && (!server_tls_ || !client_tls_)) {
    return fail("tls listener without TLS settings");
  }
  std::error_code error;
  const auto address = asio::ip::make_address(spec.address, error);
  if (error) {
    return fail("address '" + spec.address + "': " + error.message());
  }
  const Tcp::endpoint endpoint(address, spec.port);
  acceptor_.open(endpoint.protocol(), error);
  if (error) {
    return fail("socket: " + error.message());
  }
  ipv6_ = address.is_v6();
  wildcard_ = address.is_unspecified();
  if (ipv6_) {
    acceptor_.set_option(asio::ip::v6_only(true), error);
  }
  acceptor_.set_option(asio::socket_base::reuse_address(true), error);
  acceptor_.bind(endpoint, error);
  if (error) {
    acceptor_.close(error);
    return fail("bind " + toString(spec) + ": " + error.message());
  }
  acceptor_.listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    acceptor_.close(error);
    return fail("listen " + toString(spec) + ": " + error.message());
  }
  bound_ = spec;
  bound_.port = acceptor_.local_endpoint(error).port();
  return {};
}

void StreamTransport::start() {
  acceptNext();
}

void StreamTransport::close() {
  if (closed_) {
    return;
  }
  closed_ = true;
  std::error_code ignored;
  acceptor_.close(ignored);
  accept_retry_.cancel();
  // close() removes each connection from the map: work on a copy.
  std::vector<std::shared_ptr<StreamConnection>> open;
  open.reserve(connections_.size());
  for (auto& [id, connection] : connections_) {
    open.push_back(connection);
  }
  for (auto& connection : open) {
    connection->close();
  }
  connections_.clear();
  by_endpoint_.clear();
}

void StreamTransport::acceptNext() {
  if (closed_) {
    return;
  }
  acceptor_.async_accept(
      [self = shared_from_this()](const std::error_code& error, Tcp::socket socket) {
        if (self->closed_ || error == asio::error::operation_aborted) {
          return;
        }
        if (error) {
          log::limited(connectionLog(), log::Level::Warn, "sip", "accept on {} failed: {}",
                       toString(self->bound_), error.message());
          // EMFILE and friends: retry a little later instead of spinning.
          self->accept_retry_.expires_after(kAcceptRetryDelay);
          self->accept_retry_.async_wait([self](const std::error_code& wait_error) {
            if (!wait_error) {
              self->acceptNext();
            }
          });
          return;
        }
        if (self->budget_->active >= self->budget_->max) {
          log::limited(connectionLog(), log::Level::Warn, "sip",
                       "connection limit ({}) reached: refusing a {} connection",
                       self->budget_->max, toString(self->kind_));
          std::error_code ignored;
          socket.close(ignored);  // over the connection limit
        } else {
          std::error_code ignored;
          socket.set_option(Tcp::no_delay(true), ignored);
          auto connection = self->makeConnection(std::move(socket));
          connection->startServer();
        }
        self->acceptNext();
      });
}

std::shared_ptr<StreamConnection> StreamTransport::makeConnection(Tcp::socket socket) {
  const uint64_t id = budget_->next_id++;
  std::shared_ptr<StreamConnection> connection;
  if (kind_ == TransportKind::Tls) {
    connection = std::make_shared<BasicStreamConnection<TlsStream>>(
        shared_from_this(), budget_, id, std::move(socket), server_tls_.get());
  } else {
    connection = std::make_shared<BasicStreamConnection<Tcp::socket>>(
        shared_from_this(), budget_, id, std::move(socket), nullptr);
  }
  connections_.emplace(id, connection);
  return connection;
}

std::string StreamTransport::endpointKey(const std::string& address, uint16_t port) {
  return address + "|" + std::to_string(port);
}

bool StreamTransport::sendOnConnection(uint64_t id, std::string& bytes) {
  const auto it = connections_.find(id);
  if (it == connections_.end() || it->second->isClosed()) {
    return false;
  }
  const auto connection = it->second;  // send() may close it and empty the map entry
  connection->send(std::move(bytes));
  return true;
}

void StreamTransport::connectAndSend(const PeerAddress& destination, std::string bytes,
                                     SendErrorHandler on_error) {
  const std::string where = hostPort(destination.remote_address, destination.remote_port);
  if (closed_) {
    postError(io_, std::move(on_error), std::string(toString(kind_)) + " transport is closed");
    return;
  }
  std::string key = endpointKey(destination.remote_address, destination.remote_port);
  if (const auto found = by_endpoint_.find(key); found != by_endpoint_.end()) {
    const auto it = connections_.find(found->second);
    if (it != connections_.end() && !it->second->isClosed()) {
      const auto connection = it->second;
      connection->addPendingErrorHandler(std::move(on_error));
      connection->send(std::move(bytes));
      return;
    }
  }
  if (budget_->active >= budget_->max) {
    postError(io_, std::move(on_error), "connection limit reached, cannot connect to " + where);
    return;
  }
  std::error_code error;
  const auto address = asio::ip::make_address(destination.remote_address, error);
  if (error || destination.remote_port == 0) {
    postError(io_, std::move(on_error), "cannot connect to '" + where + "': not an IP and port");
    return;
  }
  // TLS client connections use the client context: build them with it.
  std::shared_ptr<StreamConnection> connection;
  const uint64_t id = budget_->next_id++;
  if (kind_ == TransportKind::Tls) {
    connection = std::make_shared<BasicStreamConnection<TlsStream>>(
        shared_from_this(), budget_, id, Tcp::socket(io_), client_tls_.get());
  } else {
    connection = std::make_shared<BasicStreamConnection<Tcp::socket>>(
        shared_from_this(), budget_, id, Tcp::socket(io_), nullptr);
  }
  connections_.emplace(id, connection);
  connection->setEndpointKey(key);
  by_endpoint_[std::move(key)] = id;
  connection->send(std::move(bytes));
  connection->startClient(Tcp::endpoint(address, destination.remote_port), std::move(on_error));
}

void StreamTransport::connectionClosed(StreamConnection& connection) {
  const auto it = connections_.find(connection.id());
  if (it != connections_.end() && it->second.get() == &connection) {
    // The caller holds its own reference (self) for the rest of its handler.
    connections_.erase(it);
  }
  if (!connection.endpointKey().empty()) {
    const auto found = by_endpoint_.find(connection.endpointKey());
    if (found != by_endpoint_.end() && found->second == connection.id()) {
      by_endpoint_.erase(found);
    }
  }
}

}  // namespace siprecd::sip
