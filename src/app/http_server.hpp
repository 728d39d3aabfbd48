#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.hpp"

/// A small embedded HTTP/1.1 server (RESTinio underneath; only http_server.cpp sees it)
/// for the REST API, /metrics and the health endpoints.
namespace siprecd::app {

struct HttpRequest {
  std::string method;                          // upper case, "GET"
  std::string path;                            // as sent, without the query; not percent-decoded
  std::string query;                           // as sent, without '?'
  std::map<std::string, std::string> headers;  // lower-case names; repeats joined by ", "
  std::string body;
  std::string remote_address;  // peer IP, no port
  /// The values of the matched route's `{name}` segments, percent-decoded (see route()).
  std::map<std::string, std::string> params;

  /// The header's value, or "" when absent; `name` in lower case.
  std::string header(const std::string& name) const;
  /// The path parameter's value, or "" when the route has no such segment.
  std::string param(const std::string& name) const;
  /// The query parameter's percent-decoded value ('+' is a space), nullopt when absent;
  /// the first one wins when repeated. A parameter without '=' has the value "".
  std::optional<std::string> queryParam(std::string_view name) const;
};

/// A byte range of a file sent as the response body (without copying it into memory).
struct HttpFileBody {
  std::filesystem::path path;
  uint64_t offset = 0;
  std::optional<uint64_t> length;  // nullopt: up to the end of the file
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  /// Extra headers (Content-Type and Content-Length are set by the server).
  std::vector<std::pair<std::string, std::string>> headers;
  /// When set, the body comes from this file range instead of `body`; a file that
  /// cannot be opened turns the response into a 500.
  std::optional<HttpFileBody> file;

  /// A JSON error body: {"success":false,"error":{"code":status,"message":message}}.
  static HttpResponse jsonError(int status, std::string_view message);
};

/// Runs on an HTTP thread; may block briefly (database reads), never for long. An
/// exception escaping it becomes a 500 with a JSON error body.
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

/// Routes requests by method and path to handlers, answering 404 for unknown paths, 405
/// (with Allow) for a known path with another method and 413 for bodies over the limit.
/// HEAD is answered by the GET route of the path (unless a HEAD route exists) with the
/// GET response's status and headers, its Content-Length and no body (RFC 9110 §9.3.2).
class HttpServer {
 public:
  /// `listen` is "HOST:PORT" ("127.0.0.1:8080", "[::1]:8080", port 0: any free port);
  /// `threads` HTTP threads run the handlers; bodies larger than `max_body_bytes` get 413
  /// (far larger ones: the connection is closed).
  explicit HttpServer(std::string listen, std::size_t threads = 1,
                      std::size_t max_body_bytes = 1 << 20);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Adds a route; call before start(). `method` is an HTTP method or "*" (any method).
  /// `path` is exact ("/metrics"), a pattern whose `{name}` segments match one non-empty
  /// path segment each ("/callrecording/{domain}/recordings/{id}"; the values reach the
  /// handler in HttpRequest::params, percent-decoded; a segment that does not decode
  /// fails the match) or a prefix ending in '*' ("/callrecording/*" matches every path
  /// starting with "/callrecording/"). Among the routes whose method fits, an exact path
  /// beats a pattern, a pattern with more literal segments beats one with fewer, and
  /// patterns beat prefixes; the longest prefix wins among prefixes.
  void route(std::string method, std::string path, HttpHandler handler);

  /// Binds and starts serving on the server's own threads. Fails with a message naming
  /// the address when it cannot bind or `listen` is malformed. Call once.
  [[nodiscard]] Result<void> start();
  /// The bound port (useful with port 0); 0 before start().
  uint16_t port() const;
  /// Stops accepting, closes connections (idle keep-alive ones included) and joins the
  /// threads. Idempotent; a stopped server cannot be started again. Never call it from a
  /// handler.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The reason phrase of an HTTP status ("Not Found"); "Unknown" for unlisted codes.
std::string_view httpReasonPhrase(int status);

/// Decodes %XX escapes (and '+' as a space when `plus_is_space`, for query strings);
/// nullopt on a truncated or non-hex escape.
std::optional<std::string> percentDecode(std::string_view text, bool plus_is_space = false);

/// A satisfiable byte range of a representation of known size.
struct ByteRange {
  uint64_t offset = 0;
  uint64_t length = 0;
};

/// Interprets a Range header (RFC 9110 §14.2) for a representation of `size` bytes.
/// One range is served: "bytes=0-99", "bytes=100-" (to the end), "bytes=-100" (the last
/// 100 bytes); a last position past the end is clamped. nullopt (serve the whole
/// representation with 200) when the header is empty, syntactically invalid, uses another
/// unit, or asks for several ranges (a server may ignore Range, §14.2). An error with code
/// 416 when the single range is unsatisfiable (first position >= size, or "bytes=-0").
Result<std::optional<ByteRange>> parseByteRange(std::string_view header, uint64_t size);

/// The response for GET/HEAD of the file at `path` honouring the request's Range header:
/// 200 with the whole file, 206 with Content-Range, or 416 with "Content-Range: bytes */size"
/// (JSON error body); always "Accept-Ranges: bytes". A file that cannot be read gives 404.
HttpResponse fileResponse(const HttpRequest& request, const std::filesystem::path& path,
                          std::string content_type);

}  // namespace siprecd::app
