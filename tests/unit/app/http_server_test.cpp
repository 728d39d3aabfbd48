#include "app/http_server.hpp"

#include <atomic>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <unistd.h>

#include "base/strings.hpp"

namespace siprecd::app {
namespace {

struct ClientResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

/// A minimal blocking HTTP/1.1 client: sends `request` as is, reads until the server
/// closes (requests carry Connection: close).
ClientResponse roundTrip(uint16_t port, const std::string& request, int family = AF_INET) {
  const int fd = ::socket(family, SOCK_STREAM, 0);
  if (fd < 0) {
    throw std::runtime_error("socket");
  }
  int rc = -1;
  if (family == AF_INET) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  } else {
    sockaddr_in6 address{};
    address.sin6_family = AF_INET6;
    address.sin6_port = htons(port);
    address.sin6_addr = in6addr_loopback;
    rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  }
  if (rc != 0) {
    ::close(fd);
    throw std::runtime_error("connect");
  }
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  std::size_t sent = 0;
  while (sent < request.size()) {
    const auto n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      break;
    }
    sent += static_cast<std::size_t>(n);
  }
  std::string raw;
  char buffer[4096];
  for (;;) {
    const auto n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) {
      break;
    }
    raw.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);

  ClientResponse response;
  const auto head_end = raw.find("\r\n\r\n");
  if (raw.size() < 12 || head_end == std::string::npos) {
    return response;
  }
  response.status = std::stoi(raw.substr(9, 3));
  const std::string head = raw.substr(0, head_end);
  std::size_t line_start = head.find("\r\n") + 2;
  while (line_start < head.size()) {
    auto line_end = head.find("\r\n", line_start);
    if (line_end == std::string::npos) {
      line_end = head.size();
    }
    const std::string line = head.substr(line_start, line_end - line_start);
    const auto colon = line.find(':');
    response.headers[toLower(line.substr(0, colon))] = std::string(trim(line.substr(colon + 1)));
    line_start = line_end + 2;
  }
  response.body = raw.substr(head_end + 4);
  return response;
}

ClientResponse get(uint16_t port, const std::string& target) {
  return roundTrip(port, "GET " + target + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
}

ClientResponse post(uint16_t port, const std::string& target, const std::string& body) {
  return roundTrip(port, "POST " + target +
                             " HTTP/1.1\r\nHost: t\r\nConnection: close\r\nX-Custom-Header: A\r\n"
                             "Content-Type: application/json\r\nContent-Length: " +
                             std::to_string(body.size()) + "\r\n\r\n" + body);
}

HttpResponse text(std::string body) {
  HttpResponse response;
  response.content_type = "text/plain";
  response.body = std::move(body);
  return response;
}

class HttpServerTest : public testing::Test {
 protected:
  void startServer() {
    auto started = server_.start();
    ASSERT_TRUE(started) << started.error().message;
    ASSERT_NE(server_.port(), 0);
  }
  HttpServer server_{"127.0.0.1:0", 2, 1024};
};

TEST_F(HttpServerTest, RoutesExactPathsAndPassesTheRequest) {
  HttpRequest seen;
  server_.route("POST", "/echo", [&seen](const HttpRequest& request) {
    seen = request;
    return text("got " + request.body);
  });
  startServer();
  auto response = post(server_.port(), "/echo?x=1&y=2", R"({"a":1})");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.headers["content-type"], "text/plain");
  EXPECT_EQ(response.body, R"(got {"a":1})");
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.path, "/echo");
  EXPECT_EQ(seen.query, "x=1&y=2");
  EXPECT_EQ(seen.header("x-custom-header"), "A");
  EXPECT_EQ(seen.header("content-type"), "application/json");
  EXPECT_EQ(seen.remote_address, "127.0.0.1");
}

TEST_F(HttpServerTest, LongestPrefixWinsAndExactBeatsPrefix) {
  server_.route("GET", "/api/*", [](const HttpRequest&) { return text("api"); });
  server_.route("GET", "/api/recordings/*", [](const HttpRequest&) { return text("recordings"); });
  server_.route("GET", "/api/recordings/", [](const HttpRequest&) { return text("list"); });
  startServer();
  EXPECT_EQ(get(server_.port(), "/api/other").body, "api");
  EXPECT_EQ(get(server_.port(), "/api/recordings/r1").body, "recordings");
  EXPECT_EQ(get(server_.port(), "/api/recordings/").body, "list");
  EXPECT_EQ(get(server_.port(), "/api").status, 404);
}

TEST_F(HttpServerTest, UnknownPathIs404Json) {
  server_.route("GET", "/metrics", [](const HttpRequest&) { return text("m"); });
  startServer();
  auto response = get(server_.port(), "/nothing-here");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.headers["content-type"], "application/json");
  const auto json = nlohmann::json::parse(response.body);
  EXPECT_EQ(json["success"], false);
  EXPECT_EQ(json["error"]["code"], 404);
  EXPECT_EQ(get(server_.port(), "/metrics/x").status, 404);
}

TEST_F(HttpServerTest, WrongMethodIs405WithAllow) {
  server_.route("GET", "/healthz", [](const HttpRequest&) { return text("ok"); });
  server_.route("HEAD", "/healthz", [](const HttpRequest&) { return text(""); });
  startServer();
  auto response = post(server_.port(), "/healthz", "{}");
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(response.headers["allow"], "GET, HEAD");
  EXPECT_EQ(nlohmann::json::parse(response.body)["error"]["code"], 405);
}

TEST_F(HttpServerTest, AnyMethodRouteAcceptsEveryMethod) {
  server_.route("*", "/any", [](const HttpRequest& request) { return text(request.method); });
  startServer();
  EXPECT_EQ(get(server_.port(), "/any").body, "GET");
  EXPECT_EQ(post(server_.port(), "/any", "").body, "POST");
}

TEST_F(HttpServerTest, BodyOverTheLimitIs413) {
  std::atomic<int> calls{0};
  server_.route("POST", "/upload", [&calls](const HttpRequest&) {
    ++calls;
    return text("stored");
  });
  startServer();
  EXPECT_EQ(post(server_.port(), "/upload", std::string(1024, 'x')).status, 200);
  EXPECT_EQ(post(server_.port(), "/upload", std::string(1025, 'x')).status, 413);
  // Far beyond the limit the connection is closed without reading the body.
  EXPECT_EQ(post(server_.port(), "/upload", std::string(100000, 'x')).status, 0);
  EXPECT_EQ(calls.load(), 1);
}

TEST_F(HttpServerTest, HandlerExceptionBecomes500AndServerKeepsServing) {
  server_.route("GET", "/boom",
                [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("kaput"); });
  server_.route("GET", "/fine", [](const HttpRequest&) { return text("fine"); });
  startServer();
  auto response = get(server_.port(), "/boom");
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(nlohmann::json::parse(response.body)["error"]["message"], "internal error");
  EXPECT_EQ(get(server_.port(), "/fine").body, "fine");
}

TEST_F(HttpServerTest, ExtraHeadersAndStatusAreSent) {
  server_.route("GET", "/created", [](const HttpRequest&) {
    HttpResponse response = HttpResponse::jsonError(409, "wrong \"state\"");
    response.headers.emplace_back("Retry-After", "5");
    return response;
  });
  startServer();
  auto response = get(server_.port(), "/created");
  EXPECT_EQ(response.status, 409);
  EXPECT_EQ(response.headers["retry-after"], "5");
  EXPECT_EQ(nlohmann::json::parse(response.body)["error"]["message"], "wrong \"state\"");
}

TEST_F(HttpServerTest, SendsAFileRange) {
  const auto file = std::filesystem::temp_directory_path() /
                    ("siprecd-http-test-" + std::to_string(::getpid()) + ".bin");
  std::ofstream(file) << "0123456789";
  server_.route("GET", "/file", [&file](const HttpRequest&) {
    HttpResponse response;
    response.status = 206;
    response.content_type = "application/octet-stream";
    response.file = HttpFileBody{file, 2, 5};
    return response;
  });
  server_.route("GET", "/missing", [](const HttpRequest&) {
    HttpResponse response;
    response.file = HttpFileBody{"/nonexistent/file.wav", 0, std::nullopt};
    return response;
  });
  startServer();
  auto response = get(server_.port(), "/file");
  EXPECT_EQ(response.status, 206);
  EXPECT_EQ(response.body, "23456");
  EXPECT_EQ(response.headers["content-length"], "5");
  EXPECT_EQ(get(server_.port(), "/missing").status, 500);
  std::filesystem::remove(file);
}

TEST(HttpServer, BindFailureNamesTheAddress) {
  HttpServer first("127.0.0.1:0");
  ASSERT_TRUE(first.start());
  HttpServer second("127.0.0.1:" + std::to_string(first.port()));
  const auto result = second.start();
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("127.0.0.1:" + std::to_string(first.port())),
            std::string::npos)
      << result.error().message;
  HttpServer malformed("nonsense");
  ASSERT_FALSE(malformed.start());
}

TEST(HttpServer, ServesOnIpv6Loopback) {
  HttpServer server("[::1]:0");
  server.route("GET", "/v6",
               [](const HttpRequest& request) { return text(request.remote_address); });
  if (!server.start()) {
    GTEST_SKIP() << "no IPv6 loopback here";
  }
  const auto v6 = roundTrip(server.port(),
                            "GET /v6 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", AF_INET6);
  EXPECT_EQ(v6.status, 200);
  EXPECT_EQ(v6.body, "::1");
}

TEST(HttpServer, StopIsIdempotentAndRefusesLaterConnections) {
  HttpServer server("127.0.0.1:0");
  server.route("GET", "/", [](const HttpRequest&) { return text("root"); });
  ASSERT_TRUE(server.start());
  const uint16_t port = server.port();
  EXPECT_EQ(get(port, "/").body, "root");
  server.stop();
  server.stop();
  EXPECT_THROW(get(port, "/"), std::runtime_error);
}

}  // namespace
}  // namespace siprecd::app
