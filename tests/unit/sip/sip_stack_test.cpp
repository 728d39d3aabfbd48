#include "sip/sip_stack.hpp"

#include <cstdio>
#include <filesystem>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/asio_event_loop.hpp"
#include "base/random.hpp"
#include "sip/asio_headers.hpp"
#include "sip/message_helpers.hpp"
#include "sip/parser.hpp"
#include "sip/response_builder.hpp"
#include "sip/serializer.hpp"

namespace siprecd::sip {
namespace {

using std::chrono::milliseconds;

// ---------------------------------------------------------------- raw POSIX peers

/// An owned file descriptor.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = -1;
  }

 private:
  int fd_;
};

struct SockAddr {
  sockaddr_storage storage{};
  socklen_t length = 0;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage); }
};

SockAddr makeAddr(const std::string& ip, uint16_t port) {
  SockAddr out;
  if (ip.find(':') != std::string::npos) {
    sockaddr_in6 v6{};
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(port);
    inet_pton(AF_INET6, ip.c_str(), &v6.sin6_addr);
    std::memcpy(&out.storage, &v6, sizeof(v6));
    out.length = sizeof(v6);
  } else {
    sockaddr_in v4{};
    v4.sin_family = AF_INET;
    v4.sin_port = htons(port);
    inet_pton(AF_INET, ip.c_str(), &v4.sin_addr);
    std::memcpy(&out.storage, &v4, sizeof(v4));
    out.length = sizeof(v4);
  }
  return out;
}

std::pair<std::string, uint16_t> describe(const SockAddr& address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.storage.ss_family == AF_INET6) {
    sockaddr_in6 v6{};
    std::memcpy(&v6, &address.storage, sizeof(v6));
    inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof(text));
    return {text, ntohs(v6.sin6_port)};
  }
  sockaddr_in v4{};
  std::memcpy(&v4, &address.storage, sizeof(v4));
  inet_ntop(AF_INET, &v4.sin_addr, text, sizeof(text));
  return {text, ntohs(v4.sin_port)};
}

uint16_t localPort(int fd) {
  SockAddr address;
  address.length = sizeof(address.storage);
  getsockname(fd, address.get(), &address.length);
  return describe(address).second;
}

Fd udpSocket(const std::string& ip) {
  Fd fd(::socket(ip.find(':') != std::string::npos ? AF_INET6 : AF_INET, SOCK_DGRAM, 0));
  const SockAddr address = makeAddr(ip, 0);
  if (::bind(fd.get(), address.get(), address.length) != 0) {
    return Fd();
  }
  return fd;
}

bool readable(int fd, milliseconds timeout) {
  pollfd entry{fd, POLLIN, 0};
  return ::poll(&entry, 1, static_cast<int>(timeout.count())) == 1;
}

struct Datagram {
  std::string bytes;
  std::string from_address;
  uint16_t from_port = 0;
};

std::optional<Datagram> receiveDatagram(int fd, milliseconds timeout = milliseconds(3000)) {
  if (!readable(fd, timeout)) {
    return std::nullopt;
  }
  std::string buffer(65536, '\0');
  SockAddr from;
  from.length = sizeof(from.storage);
  const ssize_t n = ::recvfrom(fd, buffer.data(), buffer.size(), 0, from.get(), &from.length);
  if (n < 0) {
    return std::nullopt;
  }
  buffer.resize(static_cast<std::size_t>(n));
  auto [address, port] = describe(from);
  return Datagram{std::move(buffer), address, port};
}

void sendDatagram(int fd, const std::string& bytes, const std::string& ip, uint16_t port) {
  const SockAddr to = makeAddr(ip, port);
  ASSERT_EQ(::sendto(fd, bytes.data(), bytes.size(), 0, to.get(), to.length),
            static_cast<ssize_t>(bytes.size()));
}

Fd tcpConnect(const std::string& ip, uint16_t port) {
  Fd fd(::socket(ip.find(':') != std::string::npos ? AF_INET6 : AF_INET, SOCK_STREAM, 0));
  const SockAddr to = makeAddr(ip, port);
  if (::connect(fd.get(), to.get(), to.length) != 0) {
    return Fd();
  }
  return fd;
}

void sendAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    ASSERT_GT(n, 0);
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

/// Reads messages from a stream socket until `count` are framed or the timeout passes.
std::vector<Message> readStreamMessages(int fd, std::size_t count,
                                        milliseconds timeout = milliseconds(3000)) {
  StreamFramer framer{ParseLimits{}};
  std::vector<Message> out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.size() < count) {
    const auto left =
        std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !readable(fd, left)) {
      break;
    }
    char buffer[8192];
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) {
      break;
    }
    framer.feed(std::string_view(buffer, static_cast<std::size_t>(n)));
    while (auto next = framer.next()) {
      if (!*next) {
        return out;
      }
      out.push_back(std::move(**next));
    }
  }
  return out;
}

/// Whether the peer closed the stream within `timeout` (EOF or reset).
bool closedByPeer(int fd, milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!readable(fd, milliseconds(50))) {
      continue;
    }
    char buffer[1024];
    if (::recv(fd, buffer, sizeof(buffer), 0) <= 0) {
      return true;
    }
  }
  return false;
}

std::string optionsRequest(const std::string& via_transport, const std::string& sent_by,
                           const std::string& branch, const std::string& via_params = ";rport") {
  return "OPTIONS sip:srs@127.0.0.1 SIP/2.0\r\n"
         "Via: SIP/2.0/" +
         via_transport + " " + sent_by + ";branch=" + branch + via_params +
         "\r\n"
         "Max-Forwards: 70\r\n"
         "From: <sip:ping@example.com>;tag=ping1\r\n"
         "To: <sip:srs@example.com>\r\n"
         "Call-ID: " +
         branch +
         "@test\r\n"
         "CSeq: 1 OPTIONS\r\n"
         "Content-Length: 0\r\n\r\n";
}

Message parseOrFail(const std::string& bytes) {
  auto parsed = parseMessage(bytes, Framing::Datagram, ParseLimits{});
  EXPECT_TRUE(parsed.has_value()) << (parsed ? "" : parsed.error().message) << "\n" << bytes;
  return parsed ? std::move(*parsed) : Message::response(599, "unparsable");
}

// ---------------------------------------------------------------- the stack under test

/// Records what the TU saw; answers OPTIONS with 200 unless told to hold requests.
class SocketListener : public SipStack::Listener {
 public:
  void onSipRequest(std::shared_ptr<ServerTransaction> transaction) override {
    std::lock_guard lock(mutex);
    peers.push_back(transaction->peer());
    methods.push_back(transaction->request().method());
    if (hold) {
      held.push_back(transaction);
      return;
    }
    transaction->respond(makeResponse(transaction->request(), 200, "srs-tag"));
  }
  void onSipAck(const Message&, const PeerAddress&) override {}
  void onSipCancel(ServerTransaction&) override {}
  void onSipAckTimeout(const Message&, const PeerAddress&) override {}

  std::mutex mutex;
  std::vector<PeerAddress> peers;
  std::vector<std::string> methods;
  std::vector<std::shared_ptr<ServerTransaction>> held;
  bool hold = false;
};

class SipStackTest : public ::testing::Test {
 protected:
  template <typename F>
  auto onLoop(F function) {
    std::packaged_task<decltype(function())()> task(std::move(function));
    auto future = task.get_future();
    asio::post(io.context(), [&task] { task(); });
    return future.get();
  }

  void TearDown() override {
    onLoop([this] {
      if (stack) {
        stack->stop();
      }
      stack.reset();
      return 0;
    });
  }

  /// Starts a stack; returns false (test failure recorded) if it cannot bind.
  bool start(StackSettings settings) {
    auto result = onLoop([&] {
      stack = std::make_unique<SipStack>(loop, io.context(), std::move(settings), listener);
      return stack->start();
    });
    EXPECT_TRUE(result.has_value()) << (result ? "" : result.error().message);
    if (!result) {
      return false;
    }
    listeners = onLoop([this] { return stack->boundListeners(); });
    return true;
  }

  uint16_t port(TransportKind kind) const {
    for (const auto& spec : listeners) {
      if (spec.kind == kind) {
        return spec.port;
      }
    }
    return 0;
  }

  SipStack::Stats stats() {
    return onLoop([this] { return stack->stats(); });
  }

  static StackSettings settingsFor(std::initializer_list<const char*> specs) {
    StackSettings settings;
    for (const char* text : specs) {
      settings.listen.push_back(*parseListenSpec(text));
    }
    return settings;
  }

  IoThread io{"sip-test"};
  SystemClock clock;
  AsioEventLoop loop{io.context(), clock};
  SocketListener listener;
  std::unique_ptr<SipStack> stack;
  std::vector<ListenSpec> listeners;
};

TEST_F(SipStackTest, BoundListenersReportTheRealPorts) {
  ASSERT_TRUE(start(settingsFor({"udp:127.0.0.1:0", "tcp:127.0.0.1:0"})));
  ASSERT_EQ(listeners.size(), 2U);
  EXPECT_NE(listeners[0].port, 0);
  EXPECT_NE(listeners[1].port, 0);
  EXPECT_EQ(listeners[0].address, "127.0.0.1");
}

TEST_F(SipStackTest, StartFailsNamingTheListenerWhenThePortIsTaken) {
  ASSERT_TRUE(start(settingsFor({"tcp:127.0.0.1:0"})));
  const std::string taken = "tcp:127.0.0.1:" + std::to_string(port(TransportKind::Tcp));
  auto second = onLoop([&] {
    SipStack other(loop, io.context(), settingsFor({taken.c_str()}), listener);
    return other.start();
  });
  ASSERT_FALSE(second.has_value());
  EXPECT_NE(second.error().message.find(taken), std::string::npos) << second.error().message;
}

TEST_F(SipStackTest, UdpOptionsIsAnswered200WithReceivedAndRport) {
  ASSERT_TRUE(start(settingsFor({"udp:127.0.0.1:0"})));
  Fd client = udpSocket("127.0.0.1");
  const uint16_t client_port = localPort(client.get());
  // The sent-by (127.0.0.2:5999) is not where we are: only received/rport can reach us.
  sendDatagram(client.get(), optionsRequest("UDP", "127.0.0.2:5999", "z9hG4bKudp1"), "127.0.0.1",
               port(TransportKind::Udp));
  const auto reply = receiveDatagram(client.get());
  ASSERT_TRUE(reply.has_value());
  const Message response = parseOrFail(reply->bytes);
  EXPECT_EQ(response.statusCode(), 200);
  EXPECT_EQ(response.header("Server"), "siprecd");
  const auto via = topVia(response);
  ASSERT_TRUE(via.has_value());
  EXPECT_EQ(via->params.get("received"), "127.0.0.1");
  EXPECT_EQ(via->params.get("rport"), std::to_string(client_port));
  EXPECT_EQ(reply->from_port, port(TransportKind::Udp));

  const auto peer = onLoop([this] { return listener.peers.at(0); });
  EXPECT_EQ(peer.transport, TransportKind::Udp);
  EXPECT_EQ(peer.remote_address, "127.0.0.1");
  EXPECT_EQ(peer.remote_port, client_port);
  EXPECT_EQ(peer.local_address, "127.0.0.1");
  EXPECT_EQ(peer.local_port, port(TransportKind::Udp));
  const auto counters = stats();
  EXPECT_EQ(counters.requests_in, 1U);
  EXPECT_EQ(counters.responses_out, 1U);
}

TEST_F(SipStackTest, UdpRetransmissionIsAbsorbedAndAnsweredAgain) {
  ASSERT_TRUE(start(settingsFor({"udp:127.0.0.1:0"})));
  Fd client = udpSocket("127.0.0.1");
  const std::string request = optionsRequest("UDP", "127.0.0.1:5999", "z9hG4bKretx");
  sendDatagram(client.get(), request, "127.0.0.1", port(TransportKind::Udp));
  ASSERT_TRUE(receiveDatagram(client.get()).has_value());
  sendDatagram(client.get(), request, "127.0.0.1", port(TransportKind::Udp));
  ASSERT_TRUE(receiveDatagram(client.get()).has_value());
  EXPECT_EQ(onLoop([this] { return listener.methods.size(); }), 1U);
  EXPECT_EQ(stats().retransmissions_absorbed, 1U);
}

TEST_F(SipStackTest, WildcardUdpReportsTheAddressEachDatagramArrivedOn) {
  ASSERT_TRUE(start(settingsFor({"udp:0.0.0.0:0"})));
  Fd client = udpSocket("127.0.0.1");
  // All of 127/8 is local on Linux: two different destination addresses, one socket.
  sendDatagram(client.get(), optionsRequest("UDP", "127.0.0.1:5999", "z9hG4bKwild1"), "127.0.0.1",
               port(TransportKind::Udp));
  const auto first = receiveDatagram(client.get());
  sendDatagram(client.get(), optionsRequest("UDP", "127.0.0.1:5999", "z9hG4bKwild2"), "127.0.0.5",
               port(TransportKind::Udp));
  const auto second = receiveDatagram(client.get());
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(first->from_address, "127.0.0.1");
  EXPECT_EQ(second->from_address, "127.0.0.5");  // answered from the address it came to
  const auto peers = onLoop([this] { return listener.peers; });
  ASSERT_EQ(peers.size(), 2U);
  EXPECT_EQ(peers[0].local_address, "127.0.0.1");
  EXPECT_EQ(peers[1].local_address, "127.0.0.5");
}

TEST_F(SipStackTest, Ipv6UdpOptionsIsAnswered) {
  Fd probe = udpSocket("::1");
  if (probe.get() < 0) {
    GTEST_SKIP() << "no IPv6 loopback on this machine";
  }
  ASSERT_TRUE(start(settingsFor({"udp:[::1]:0"})));
  const uint16_t client_port = localPort(probe.get());
  sendDatagram(probe.get(), optionsRequest("UDP", "[::1]:5999", "z9hG4bKv6"), "::1",
               port(TransportKind::Udp));
  const auto reply = receiveDatagram(probe.get());
  ASSERT_TRUE(reply.has_value());
  const Message response = parseOrFail(reply->bytes);
  EXPECT_EQ(response.statusCode(), 200);
  EXPECT_EQ(topVia(response)->params.get("rport"), std::to_string(client_port));
  EXPECT_EQ(topVia(response)->params.get("received"), "::1");  // rport forces received
}

TEST_F(SipStackTest, GarbageIsDroppedAndAMalformedRequestIsAnswered400) {
  ASSERT_TRUE(start(settingsFor({"udp:127.0.0.1:0"})));
  Fd client = udpSocket("127.0.0.1");
  const uint16_t client_port = localPort(client.get());
  sendDatagram(client.get(), "\x01\x02 this is not SIP \xff", "127.0.0.1",
               port(TransportKind::Udp));
  EXPECT_FALSE(receiveDatagram(client.get(), milliseconds(300)).has_value());
  const std::string malformed =
      "OPTIONS sip:srs@127.0.0.1 SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 127.0.0.1:" +
      std::to_string(client_port) +
      ";branch=z9hG4bKbad\r\n"
      "From: <sip:ping@example.com>;tag=1\r\n"
      "To: <sip:srs@example.com>\r\n"
      "Call-ID: bad@test\r\n"
      "CSeq: 1 OPTIONS\r\n"
      "Content-Length: twelve\r\n\r\n";
  sendDatagram(client.get(), malformed, "127.0.0.1", port(TransportKind::Udp));
  const auto reply = receiveDatagram(client.get());
  ASSERT_TRUE(reply.has_value());
  const Message response = parseOrFail(reply->bytes);
  EXPECT_EQ(response.statusCode(), 400);
  ASSERT_TRUE(response.hasHeader("Warning"));
  EXPECT_NE(response.header("Warning")->find("Content-Length"), std::string_view::npos);
  EXPECT_EQ(stats().parse_errors, 2U);
  EXPECT_TRUE(onLoop([this] { return listener.methods.empty(); }));
}

TEST_F(SipStackTest, TcpHandlesTwoMessagesInOneSegmentAndOneSplitAcrossSegments) {
  ASSERT_TRUE(start(settingsFor({"tcp:127.0.0.1:0"})));
  Fd client = tcpConnect("127.0.0.1", port(TransportKind::Tcp));
  ASSERT_GE(client.get(), 0);
  sendAll(client.get(), optionsRequest("TCP", "127.0.0.1:5999", "z9hG4bKtcp1") +
                            optionsRequest("TCP", "127.0.0.1:5999", "z9hG4bKtcp2"));
  auto responses = readStreamMessages(client.get(), 2);
  ASSERT_EQ(responses.size(), 2U);
  EXPECT_EQ(topVia(responses[0])->branch(), "z9hG4bKtcp1");
  EXPECT_EQ(topVia(responses[1])->branch(), "z9hG4bKtcp2");

  const std::string split = optionsRequest("TCP", "127.0.0.1:5999", "z9hG4bKtcp3");
  sendAll(client.get(), split.substr(0, 40));
  std::this_thread::sleep_for(milliseconds(50));
  sendAll(client.get(), split.substr(40, 100));
  std::this_thread::sleep_for(milliseconds(50));
  sendAll(client.get(), split.substr(140));
  responses = readStreamMessages(client.get(), 1);
  ASSERT_EQ(responses.size(), 1U);
  EXPECT_EQ(responses[0].statusCode(), 200);
  EXPECT_EQ(topVia(responses[0])->branch(), "z9hG4bKtcp3");

  const auto peers = onLoop([this] { return listener.peers; });
  ASSERT_EQ(peers.size(), 3U);
  EXPECT_EQ(peers[0].transport, TransportKind::Tcp);
  EXPECT_NE(peers[0].connection_id, 0U);
  EXPECT_EQ(peers[0].connection_id, peers[2].connection_id);
  EXPECT_EQ(peers[0].local_address, "127.0.0.1");
  EXPECT_EQ(stats().connections_active, 1U);
  client.reset();
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_EQ(stats().connections_active, 0U);
}

TEST_F(SipStackTest, TcpUnframeableStreamIsClosedAndCounted) {
  ASSERT_TRUE(start(settingsFor({"tcp:127.0.0.1:0"})));
  Fd client = tcpConnect("127.0.0.1", port(TransportKind::Tcp));
  std::string no_length = optionsRequest("TCP", "127.0.0.1:5999", "z9hG4bKnolen");
  no_length.erase(no_length.find("Content-Length: 0\r\n"), 19);
  sendAll(client.get(), no_length);
  EXPECT_TRUE(closedByPeer(client.get(), milliseconds(3000)));
  EXPECT_EQ(stats().parse_errors, 1U);
}

TEST_F(SipStackTest, TcpIdleConnectionsAreClosed) {
  StackSettings settings = settingsFor({"tcp:127.0.0.1:0"});
  settings.tcp_idle_timeout = std::chrono::seconds(1);
  ASSERT_TRUE(start(std::move(settings)));
  Fd client = tcpConnect("127.0.0.1", port(TransportKind::Tcp));
  EXPECT_FALSE(closedByPeer(client.get(), milliseconds(500)));
  EXPECT_TRUE(closedByPeer(client.get(), milliseconds(2500)));
}

TEST_F(SipStackTest, ConnectionsBeyondTheLimitAreRefused) {
  StackSettings settings = settingsFor({"tcp:127.0.0.1:0"});
  settings.max_connections = 1;
  ASSERT_TRUE(start(std::move(settings)));
  Fd first = tcpConnect("127.0.0.1", port(TransportKind::Tcp));
  std::this_thread::sleep_for(milliseconds(100));
  Fd second = tcpConnect("127.0.0.1", port(TransportKind::Tcp));
  EXPECT_TRUE(closedByPeer(second.get(), milliseconds(2000)));
  sendAll(first.get(), optionsRequest("TCP", "127.0.0.1:5999", "z9hG4bKfirst"));
  EXPECT_EQ(readStreamMessages(first.get(), 1).size(), 1U);
}

TEST_F(SipStackTest, TcpResponseOpensANewConnectionWhenTheOriginalClosed) {
  ASSERT_TRUE(start(settingsFor({"tcp:127.0.0.1:0"})));
  // The client's own listener, named in its Via sent-by.
  Fd client_listener(::socket(AF_INET, SOCK_STREAM, 0));
  const SockAddr any = makeAddr("127.0.0.1", 0);
  ASSERT_EQ(::bind(client_listener.get(), any.get(), any.length), 0);
  ASSERT_EQ(::listen(client_listener.get(), 4), 0);
  const uint16_t client_port = localPort(client_listener.get());

  listener.hold = true;
  {
    Fd client = tcpConnect("127.0.0.1", port(TransportKind::Tcp));
    sendAll(client.get(),
            optionsRequest("TCP", "127.0.0.1:" + std::to_string(client_port), "z9hG4bKreopen", ""));
    for (int i = 0; i < 100 && onLoop([this] { return listener.held.size(); }) == 0; ++i) {
      std::this_thread::sleep_for(milliseconds(10));
    }
  }  // closed before the TU answers
  std::this_thread::sleep_for(milliseconds(100));
  onLoop([this] {
    auto& transaction = listener.held.at(0);
    transaction->respond(makeResponse(transaction->request(), 200, "t"));
    return 0;
  });
  ASSERT_TRUE(readable(client_listener.get(), milliseconds(3000)));
  Fd accepted(::accept(client_listener.get(), nullptr, nullptr));
  const auto responses = readStreamMessages(accepted.get(), 1);
  ASSERT_EQ(responses.size(), 1U);
  EXPECT_EQ(responses[0].statusCode(), 200);
}

TEST_F(SipStackTest, SendRequestOverUdpCompletesWithTheResponse) {
  ASSERT_TRUE(start(settingsFor({"udp:127.0.0.1:0"})));
  Fd peer_socket = udpSocket("127.0.0.1");
  const uint16_t peer_port = localPort(peer_socket.get());
  std::promise<Result<Message>> outcome;
  onLoop([&] {
    Message bye = Message::request("BYE", "sip:src@127.0.0.1:" + std::to_string(peer_port));
    bye.addHeader("From", "<sip:srs@example.com>;tag=srs");
    bye.addHeader("To", "<sip:src@example.com>;tag=src");
    bye.addHeader("Call-ID", "bye@test");
    bye.addHeader("CSeq", "2 BYE");
    PeerAddress target{
        TransportKind::Udp, "127.0.0.1", peer_port, "127.0.0.1", port(TransportKind::Udp), 0};
    stack->sendRequest(std::move(bye), target,
                       [&](Result<Message> result) { outcome.set_value(std::move(result)); });
    return 0;
  });
  const auto received = receiveDatagram(peer_socket.get());
  ASSERT_TRUE(received.has_value());
  const Message bye = parseOrFail(received->bytes);
  EXPECT_EQ(bye.method(), "BYE");
  const auto via = topVia(bye);
  ASSERT_TRUE(via.has_value());
  EXPECT_EQ(via->host, "127.0.0.1");
  EXPECT_EQ(via->port, port(TransportKind::Udp));
  EXPECT_TRUE(hasMagicCookie(via->branch()));
  sendDatagram(peer_socket.get(), serialize(makeResponse(bye, 200)), "127.0.0.1",
               port(TransportKind::Udp));
  auto future = outcome.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(3)), std::future_status::ready);
  const auto result = future.get();
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->statusCode(), 200);
}

TEST_F(SipStackTest, SendRequestReusesTheTcpConnectionOfTheDialog) {
  ASSERT_TRUE(start(settingsFor({"tcp:127.0.0.1:0"})));
  Fd client = tcpConnect("127.0.0.1", port(TransportKind::Tcp));
  sendAll(client.get(), optionsRequest("TCP", "127.0.0.1:5999", "z9hG4bKdlg"));
  ASSERT_EQ(readStreamMessages(client.get(), 1).size(), 1U);
  std::promise<Result<Message>> outcome;
  onLoop([&] {
    PeerAddress target = listener.peers.at(0);
    Message bye = Message::request("BYE", "sip:src@127.0.0.1:5999;transport=tcp");
    bye.addHeader("From", "<sip:srs@example.com>;tag=srs");
    bye.addHeader("To", "<sip:src@example.com>;tag=src");
    bye.addHeader("Call-ID", "dlg@test");
    bye.addHeader("CSeq", "1 BYE");
    stack->sendRequest(std::move(bye), target,
                       [&](Result<Message> result) { outcome.set_value(std::move(result)); });
    return 0;
  });
  const auto requests = readStreamMessages(client.get(), 1);
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(requests[0].method(), "BYE");
  EXPECT_EQ(topVia(requests[0])->transport, "TCP");
  sendAll(client.get(), serialize(makeResponse(requests[0], 200)));
  auto future = outcome.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(3)), std::future_status::ready);
  const auto result = future.get();
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->statusCode(), 200);
}

TEST_F(SipStackTest, SendRequestToAClosedTcpPortFailsWith503) {
  ASSERT_TRUE(start(settingsFor({"tcp:127.0.0.1:0"})));
  Fd unused(::socket(AF_INET, SOCK_STREAM, 0));
  const SockAddr any = makeAddr("127.0.0.1", 0);
  ASSERT_EQ(::bind(unused.get(), any.get(), any.length), 0);
  const uint16_t dead_port = localPort(unused.get());  // bound, never listening
  std::promise<Result<Message>> outcome;
  onLoop([&] {
    Message bye = Message::request("BYE", "sip:src@127.0.0.1");
    bye.addHeader("From", "<sip:srs@example.com>;tag=srs");
    bye.addHeader("To", "<sip:src@example.com>;tag=src");
    bye.addHeader("Call-ID", "dead@test");
    bye.addHeader("CSeq", "1 BYE");
    PeerAddress target{TransportKind::Tcp, "127.0.0.1", dead_port, "", 0, 0};
    stack->sendRequest(std::move(bye), target,
                       [&](Result<Message> result) { outcome.set_value(std::move(result)); });
    return 0;
  });
  auto future = outcome.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(3)), std::future_status::ready);
  const auto result = future.get();
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, 503);
}

// ---------------------------------------------------------------- TLS

/// A self-signed certificate (CA:TRUE, so it can also be its own trust anchor) and key,
/// written as PEM files into a fresh temporary directory.
class TestCertificate {
 public:
  TestCertificate() {
    directory_ = std::filesystem::temp_directory_path() / ("siprecd-tls-" + randomToken(10));
    std::filesystem::create_directories(directory_);
    EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    X509* certificate = X509_new();
    X509_set_version(certificate, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(certificate), 1);
    X509_gmtime_adj(X509_getm_notBefore(certificate), -60);
    X509_gmtime_adj(X509_getm_notAfter(certificate), 3600);
    X509_set_pubkey(certificate, key);
    X509_NAME* name = X509_get_subject_name(certificate);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("siprecd-test"), -1, -1, 0);
    X509_set_issuer_name(certificate, name);
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, certificate, certificate, nullptr, nullptr, 0);
    for (const auto& [nid, value] :
         {std::pair{NID_basic_constraints, "critical,CA:TRUE"},
          std::pair{NID_key_usage, "critical,digitalSignature,keyCertSign"},
          std::pair{NID_subject_alt_name, "IP:127.0.0.1"}}) {
      X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
      X509_add_ext(certificate, extension, -1);
      X509_EXTENSION_free(extension);
    }
    X509_sign(certificate, key, EVP_sha256());
    FILE* key_file = std::fopen(keyFile().c_str(), "w");
    PEM_write_PrivateKey(key_file, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(key_file);
    FILE* certificate_file = std::fopen(certificateFile().c_str(), "w");
    PEM_write_X509(certificate_file, certificate);
    std::fclose(certificate_file);
    X509_free(certificate);
    EVP_PKEY_free(key);
  }
  ~TestCertificate() {
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
  }
  std::string certificateFile() const { return (directory_ / "cert.pem").string(); }
  std::string keyFile() const { return (directory_ / "key.pem").string(); }

 private:
  std::filesystem::path directory_;
};

/// A blocking-style TLS client over asio with a deadline on every step.
class TlsClient {
 public:
  TlsClient(const TestCertificate& certificate, bool present_certificate)
      : context_(makeContext(certificate, present_certificate)), stream_(io_, context_) {}

  std::error_code connect(uint16_t port) {
    std::error_code result = asio::error::timed_out;
    stream_.next_layer().async_connect(
        asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
        [&](const std::error_code& error) {
          result = error;
          if (!error) {
            stream_.async_handshake(asio::ssl::stream_base::client,
                                    [&](const std::error_code& handshake) { result = handshake; });
          }
        });
    run();
    return result;
  }

  std::error_code write(const std::string& bytes) {
    std::error_code result = asio::error::timed_out;
    asio::async_write(stream_, asio::buffer(bytes),
                      [&](const std::error_code& error, std::size_t) { result = error; });
    run();
    return result;
  }

  /// Reads one Content-Length: 0 message (headers only).
  Result<std::string> readHead() {
    std::error_code result = asio::error::timed_out;
    std::size_t length = 0;
    asio::async_read_until(stream_, asio::dynamic_buffer(buffer_), "\r\n\r\n",
                           [&](const std::error_code& error, std::size_t n) {
                             result = error;
                             length = n;
                           });
    run();
    if (result) {
      return fail(result.message());
    }
    std::string head = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return head;
  }

 private:
  // Configured before the stream exists: an SSL object copies its context's settings.
  static asio::ssl::context makeContext(const TestCertificate& certificate,
                                        bool present_certificate) {
    asio::ssl::context context(asio::ssl::context::tls_client);
    context.load_verify_file(certificate.certificateFile());
    context.set_verify_mode(asio::ssl::verify_peer);
    if (present_certificate) {
      context.use_certificate_chain_file(certificate.certificateFile());
      context.use_private_key_file(certificate.keyFile(), asio::ssl::context::pem);
    }
    return context;
  }

  void run() {
    io_.restart();
    io_.run_for(std::chrono::seconds(5));
  }

  asio::io_context io_;
  asio::ssl::context context_;
  asio::ssl::stream<asio::ip::tcp::socket> stream_;
  std::string buffer_;
};

TEST_F(SipStackTest, TlsOptionsIsAnsweredOverTheEncryptedConnection) {
  TestCertificate certificate;
  StackSettings settings = settingsFor({"tls:127.0.0.1:0"});
  settings.tls.certificate_file = certificate.certificateFile();
  settings.tls.private_key_file = certificate.keyFile();
  ASSERT_TRUE(start(std::move(settings)));
  TlsClient client(certificate, false);
  ASSERT_FALSE(client.connect(port(TransportKind::Tls)));
  ASSERT_FALSE(client.write(optionsRequest("TLS", "127.0.0.1:5999", "z9hG4bKtls")));
  const auto head = client.readHead();
  ASSERT_TRUE(head.has_value()) << head.error().message;
  const Message response = parseOrFail(*head);
  EXPECT_EQ(response.statusCode(), 200);
  const auto peers = onLoop([this] { return listener.peers; });
  ASSERT_EQ(peers.size(), 1U);
  EXPECT_EQ(peers[0].transport, TransportKind::Tls);
}

TEST_F(SipStackTest, TlsWithVerifyClientRequiresAClientCertificate) {
  TestCertificate certificate;
  StackSettings settings = settingsFor({"tls:127.0.0.1:0"});
  settings.tls.certificate_file = certificate.certificateFile();
  settings.tls.private_key_file = certificate.keyFile();
  settings.tls.ca_file = certificate.certificateFile();
  settings.tls.verify_client = true;
  ASSERT_TRUE(start(std::move(settings)));

  TlsClient trusted(certificate, true);
  ASSERT_FALSE(trusted.connect(port(TransportKind::Tls)));
  ASSERT_FALSE(trusted.write(optionsRequest("TLS", "127.0.0.1:5999", "z9hG4bKmtls")));
  const auto head = trusted.readHead();
  ASSERT_TRUE(head.has_value()) << head.error().message;
  EXPECT_EQ(parseOrFail(*head).statusCode(), 200);

  // Without a certificate: the handshake fails, or (TLS 1.3) the first read does.
  TlsClient anonymous(certificate, false);
  bool refused = static_cast<bool>(anonymous.connect(port(TransportKind::Tls)));
  if (!refused) {
    anonymous.write(optionsRequest("TLS", "127.0.0.1:5999", "z9hG4bKanon"));
    refused = !anonymous.readHead().has_value();
  }
  EXPECT_TRUE(refused);
  EXPECT_EQ(onLoop([this] { return listener.peers.size(); }), 1U);
}

TEST_F(SipStackTest, TlsListenerWithoutCertificateFailsToStart) {
  auto result = onLoop([&] {
    SipStack other(loop, io.context(), settingsFor({"tls:127.0.0.1:0"}), listener);
    return other.start();
  });
  ASSERT_FALSE(result.has_value());
  EXPECT_NE(result.error().message.find("certificate_file"), std::string::npos);
}

}  // namespace
}  // namespace siprecd::sip
