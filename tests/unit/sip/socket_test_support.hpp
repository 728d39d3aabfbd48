#pragma once

// Socket-level test support for the SIP stack: raw POSIX peers with timeouts, a Listener
// that answers 200, and a fixture running a SipStack on an IoThread.

#include <cstring>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/asio_event_loop.hpp"
#include "sip/asio_headers.hpp"
#include "sip/message_helpers.hpp"
#include "sip/parser.hpp"
#include "sip/response_builder.hpp"
#include "sip/serializer.hpp"
#include "sip/sip_stack.hpp"

namespace siprecd::sip::testing {

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

inline SockAddr makeAddr(const std::string& ip, uint16_t port) {
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

inline std::pair<std::string, uint16_t> describe(const SockAddr& address) {
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

inline uint16_t localPort(int fd) {
  SockAddr address;
  address.length = sizeof(address.storage);
  getsockname(fd, address.get(), &address.length);
  return describe(address).second;
}

inline Fd udpSocket(const std::string& ip) {
  Fd fd(::socket(ip.find(':') != std::string::npos ? AF_INET6 : AF_INET, SOCK_DGRAM, 0));
  const SockAddr address = makeAddr(ip, 0);
  if (::bind(fd.get(), address.get(), address.length) != 0) {
    return Fd();
  }
  return fd;
}

inline bool readable(int fd, milliseconds timeout) {
  pollfd entry{fd, POLLIN, 0};
  return ::poll(&entry, 1, static_cast<int>(timeout.count())) == 1;
}

struct Datagram {
  std::string bytes;
  std::string from_address;
  uint16_t from_port = 0;
};

inline std::optional<Datagram> receiveDatagram(int fd, milliseconds timeout = milliseconds(3000)) {
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

inline void sendDatagram(int fd, const std::string& bytes, const std::string& ip, uint16_t port) {
  const SockAddr to = makeAddr(ip, port);
  ASSERT_EQ(::sendto(fd, bytes.data(), bytes.size(), 0, to.get(), to.length),
            static_cast<ssize_t>(bytes.size()));
}

inline Fd tcpConnect(const std::string& ip, uint16_t port) {
  Fd fd(::socket(ip.find(':') != std::string::npos ? AF_INET6 : AF_INET, SOCK_STREAM, 0));
  const SockAddr to = makeAddr(ip, port);
  if (::connect(fd.get(), to.get(), to.length) != 0) {
    return Fd();
  }
  return fd;
}

inline void sendAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    ASSERT_GT(n, 0);
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

/// Reads messages from a stream socket until `count` are framed or the timeout passes.
inline std::vector<Message> readStreamMessages(int fd, std::size_t count,
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
inline bool closedByPeer(int fd, milliseconds timeout) {
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

inline std::string optionsRequest(const std::string& via_transport, const std::string& sent_by,
                                  const std::string& branch,
                                  const std::string& via_params = ";rport") {
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

inline Message parseOrFail(const std::string& bytes) {
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

class StackSocketTest : public ::testing::Test {
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

}  // namespace siprecd::sip::testing
