// RESTinio 0.6 uses asio APIs that ASIO_NO_DEPRECATED hides (buffer_cast,
// address::from_string). No
// asio object crosses this file's boundary (the header is RESTinio-free), so this file
// alone may see them.
#undef ASIO_NO_DEPRECATED

#include "app/http_server.hpp"

#include <algorithm>
#include <atomic>
#include <future>
#include <thread>

#include <fmt/format.h>
#include <restinio/all.hpp>

#include "app/config.hpp"
#include "base/log.hpp"
#include "base/metrics.hpp"
#include "base/strings.hpp"

namespace siprecd::app {
namespace {

constexpr std::string_view kComponent = "http";
constexpr std::size_t kMaxConnections = 1024;

/// Routes RESTinio's own diagnostics (mostly malformed client input) to debug logs.
class RestinioLogger {
 public:
  template <typename Builder>
  void trace(Builder&&) const noexcept {}
  template <typename Builder>
  void info(Builder&&) const noexcept {}
  template <typename Builder>
  void warn(Builder&& builder) const noexcept {
    emit(std::forward<Builder>(builder));
  }
  template <typename Builder>
  void error(Builder&& builder) const noexcept {
    emit(std::forward<Builder>(builder));
  }

 private:
  template <typename Builder>
  static void emit(Builder&& builder) noexcept {
    try {
      if (log::enabled(log::Level::Debug)) {
        log::debug(kComponent, "{}", builder());
      }
    } catch (...) {
      // A failing diagnostic must not break the connection handling.
    }
  }
};

struct Traits : restinio::traits_t<restinio::asio_timer_manager_t, RestinioLogger> {
  static constexpr bool use_connection_count_limiter = true;
};

using Server = restinio::http_server_t<Traits>;

enum class RouteKind { Exact, Pattern, Prefix };

struct Route {
  std::string method;
  std::string path;  // without the trailing '*' for prefixes
  RouteKind kind = RouteKind::Exact;
  std::vector<std::string> segments;  // patterns: the path split at '/'
  std::size_t literal_segments = 0;   // patterns: segments that are not {name}
  HttpHandler handler;
};

bool isParameter(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

/// Whether `route` matches `path`; fills `params` for patterns.
bool pathMatches(const Route& route, std::string_view path,
                 std::map<std::string, std::string>& params) {
  switch (route.kind) {
    case RouteKind::Exact:
      return path == route.path;
    case RouteKind::Prefix:
      return path.starts_with(route.path);
    case RouteKind::Pattern:
      break;
  }
  const auto parts = split(path, '/');
  if (parts.size() != route.segments.size()) {
    return false;
  }
  std::map<std::string, std::string> values;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string& segment = route.segments[i];
    if (!isParameter(segment)) {
      if (parts[i] != segment) {
        return false;
      }
      continue;
    }
    auto decoded = percentDecode(parts[i]);
    if (parts[i].empty() || !decoded) {
      return false;
    }
    values[segment.substr(1, segment.size() - 2)] = std::move(*decoded);
  }
  params = std::move(values);
  return true;
}

/// True when `candidate` is a better match than `best` (both match the path).
bool betterRoute(const Route& candidate, const Route& best) {
  if (candidate.kind != best.kind) {
    return static_cast<int>(candidate.kind) < static_cast<int>(best.kind);
  }
  if (candidate.kind == RouteKind::Pattern) {
    return candidate.literal_segments > best.literal_segments;
  }
  return candidate.path.size() > best.path.size();
}

}  // namespace

std::string HttpRequest::header(const std::string& name) const {
  const auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

std::string HttpRequest::param(const std::string& name) const {
  const auto it = params.find(name);
  return it == params.end() ? std::string() : it->second;
}

std::optional<std::string> HttpRequest::queryParam(std::string_view name) const {
  if (query.empty()) {
    return std::nullopt;
  }
  for (const std::string_view pair : split(query, '&')) {
    const auto equals = pair.find('=');
    const auto key = percentDecode(pair.substr(0, equals), true);
    if (!key || *key != name) {
      continue;
    }
    if (equals == std::string_view::npos) {
      return std::string();
    }
    if (auto value = percentDecode(pair.substr(equals + 1), true)) {
      return value;
    }
  }
  return std::nullopt;
}

std::optional<std::string> percentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) {
        return std::nullopt;
      }
      const int high = hexDigitValue(text[i + 1]);
      const int low = hexDigitValue(text[i + 2]);
      if (high < 0 || low < 0) {
        return std::nullopt;
      }
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Result<std::optional<ByteRange>> parseByteRange(std::string_view header, uint64_t size) {
  const std::string_view value = trim(header);
  constexpr std::string_view kUnit = "bytes=";
  if (value.empty() || !istartsWith(value, kUnit)) {
    return std::nullopt;
  }
  const std::string_view spec = trim(value.substr(kUnit.size()));
  if (spec.find(',') != std::string_view::npos) {
    return std::nullopt;
  }
  const auto dash = spec.find('-');
  if (dash == std::string_view::npos) {
    return std::nullopt;
  }
  const std::string_view first_text = trim(spec.substr(0, dash));
  const std::string_view last_text = trim(spec.substr(dash + 1));
  const auto unsatisfiable = [size] {
    return fail(fmt::format("range not satisfiable for {} bytes", size), 416);
  };
  if (first_text.empty()) {
    // A suffix range: the last N bytes (RFC 9110 §14.1.2).
    const auto suffix = parseUnsigned(last_text);
    if (!suffix) {
      return std::nullopt;
    }
    if (*suffix == 0 || size == 0) {
      return unsatisfiable();
    }
    const uint64_t length = std::min(*suffix, size);
    return ByteRange{size - length, length};
  }
  const auto first = parseUnsigned(first_text);
  if (!first) {
    return std::nullopt;
  }
  uint64_t last = size == 0 ? 0 : size - 1;
  if (!last_text.empty()) {
    const auto parsed = parseUnsigned(last_text);
    if (!parsed || *parsed < *first) {
      return std::nullopt;
    }
    last = std::min(*parsed, last);
  }
  if (*first >= size) {
    return unsatisfiable();
  }
  return ByteRange{*first, last - *first + 1};
}

HttpResponse fileResponse(const HttpRequest& request, const std::filesystem::path& path,
                          std::string content_type) {
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) {
    return HttpResponse::jsonError(404, "the file is not available");
  }
  auto range = parseByteRange(request.header("range"), size);
  if (!range) {
    auto response = HttpResponse::jsonError(416, range.error().message);
    response.headers.emplace_back("Content-Range", fmt::format("bytes */{}", size));
    response.headers.emplace_back("Accept-Ranges", "bytes");
    return response;
  }
  HttpResponse response;
  response.content_type = std::move(content_type);
  response.headers.emplace_back("Accept-Ranges", "bytes");
  if (*range) {
    const ByteRange& part = **range;
    response.status = 206;
    response.headers.emplace_back(
        "Content-Range",
        fmt::format("bytes {}-{}/{}", part.offset, part.offset + part.length - 1, size));
    response.file = HttpFileBody{path, part.offset, part.length};
  } else {
    response.file = HttpFileBody{path, 0, size};
  }
  return response;
}

HttpResponse HttpResponse::jsonError(int status, std::string_view message) {
  HttpResponse response;
  response.status = status;
  std::string escaped;
  for (const char c : message) {
    if (c == '"' || c == '\\') {
      escaped.push_back('\\');
      escaped.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      escaped += fmt::format("\\u{:04x}", static_cast<int>(c));
    } else {
      escaped.push_back(c);
    }
  }
  response.body =
      fmt::format(R"({{"success":false,"error":{{"code":{},"message":"{}"}}}})", status, escaped);
  return response;
}

/// An io_context whose services can be shut down before it is destroyed: shutdown()
/// destroys the handlers still queued (the reads of idle keep-alive connections), and the
/// connections with them, while the server whose connection limiter they reference exists.
class ServerIoContext : public asio::io_context {
 public:
  using asio::io_context::shutdown;
};

struct HttpServer::Impl {
  std::string listen;
  std::size_t threads;
  std::size_t max_body_bytes;
  std::vector<Route> routes;
  ServerIoContext io_context;
  std::unique_ptr<Server> server;
  std::vector<std::thread> workers;
  std::atomic<uint16_t> port{0};
  bool started = false;
  bool stopped = false;  ///< once stopped, the io_context's services are shut down
  Counter& requests = metrics().counter("siprecd_http_requests_total", "HTTP requests answered");
  Counter& errors =
      metrics().counter("siprecd_http_handler_errors_total", "HTTP handlers that threw (500)");

  Impl(std::string listen_spec, std::size_t thread_count, std::size_t max_body)
      : listen(std::move(listen_spec)),
        threads(thread_count == 0 ? 1 : thread_count),
        max_body_bytes(max_body) {}

  /// Picks the route for `request` (filling its params) or answers 404/405 itself.
  HttpResponse dispatch(HttpRequest& request) const {
    const Route* best = nullptr;
    std::map<std::string, std::string> best_params;
    bool path_known = false;
    std::vector<std::string> allowed;
    for (const auto& route : routes) {
      std::map<std::string, std::string> params;
      if (!pathMatches(route, request.path, params)) {
        continue;
      }
      path_known = true;
      const bool method_fits = route.method == "*" || route.method == request.method ||
                               (request.method == "HEAD" && route.method == "GET");
      if (!method_fits) {
        allowed.push_back(route.method);
        if (route.method == "GET") {
          allowed.emplace_back("HEAD");
        }
        continue;
      }
      // An explicit HEAD route beats the GET route it would otherwise borrow.
      const bool same_rank =
          best != nullptr && !betterRoute(route, *best) && !betterRoute(*best, route);
      if (best == nullptr || betterRoute(route, *best) ||
          (same_rank && request.method == "HEAD" && route.method == "HEAD")) {
        best = &route;
        best_params = std::move(params);
      }
    }
    if (best == nullptr) {
      if (!path_known) {
        return HttpResponse::jsonError(404, fmt::format("no resource at {}", request.path));
      }
      std::sort(allowed.begin(), allowed.end());
      allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
      auto response = HttpResponse::jsonError(
          405, fmt::format("method {} not allowed for {}", request.method, request.path));
      response.headers.emplace_back("Allow", fmt::format("{}", fmt::join(allowed, ", ")));
      return response;
    }
    request.params = std::move(best_params);
    if (request.body.size() > max_body_bytes) {
      return HttpResponse::jsonError(413,
                                     fmt::format("request body exceeds {} bytes", max_body_bytes));
    }
    try {
      return best->handler(request);
    } catch (const std::exception& e) {
      errors.inc();
      log::error(kComponent, "handler for {} {} failed: {}", request.method, request.path,
                 e.what());
    } catch (...) {
      errors.inc();
      log::error(kComponent, "handler for {} {} failed", request.method, request.path);
    }
    return HttpResponse::jsonError(500, "internal error");
  }

  restinio::request_handling_status_t handle(const restinio::request_handle_t& req) const {
    HttpRequest request;
    const auto& header = req->header();
    request.method = header.method().c_str();
    request.path = std::string(header.path());
    request.query = std::string(header.query());
    header.for_each_field([&request](const restinio::http_header_field_t& field) {
      auto& value = request.headers[toLower(field.name())];
      if (!value.empty()) {
        value += ", ";
      }
      value += field.value();
    });
    request.body = req->body();
    request.remote_address = req->remote_endpoint().address().to_string();

    HttpResponse response = dispatch(request);
    requests.inc();

    std::optional<restinio::sendfile_t> file_body;
    uint64_t file_length = 0;
    if (response.file) {
      try {
        file_body.emplace(restinio::sendfile(response.file->path.string()));
        const uint64_t size = file_body->meta().file_total_size();
        const uint64_t offset = std::min(response.file->offset, size);
        file_length = std::min(response.file->length.value_or(size), size - offset);
        file_body->offset_and_size(offset, file_length);
      } catch (const std::exception& e) {
        log::error(kComponent, "cannot send {}: {}", response.file->path.string(), e.what());
        file_body.reset();
        response = HttpResponse::jsonError(500, "cannot read the file");
      }
    }

    const restinio::http_status_line_t status_line{
        restinio::http_status_code_t{static_cast<std::uint16_t>(response.status)},
        std::string(httpReasonPhrase(response.status))};
    if (request.method == "HEAD") {
      // RFC 9110 §9.3.2: the GET response's headers, its Content-Length, no content.
      auto builder = req->create_response<restinio::user_controlled_output_t>(status_line);
      appendHeaders(builder, response);
      builder.set_content_length(file_body ? file_length : response.body.size());
      return builder.done();
    }
    auto builder = req->create_response(status_line);
    appendHeaders(builder, response);
    if (file_body) {
      builder.set_body(std::move(*file_body));
    } else {
      builder.set_body(std::move(response.body));
    }
    return builder.done();
  }

  template <typename Builder>
  static void appendHeaders(Builder& builder, const HttpResponse& response) {
    builder.append_header(restinio::http_field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) {
      builder.append_header(name, value);
    }
  }
};

HttpServer::HttpServer(std::string listen, std::size_t threads, std::size_t max_body_bytes)
    : impl_(std::make_unique<Impl>(std::move(listen), threads, max_body_bytes)) {}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::route(std::string method, std::string path, HttpHandler handler) {
  Route route;
  route.method = std::move(method);
  route.path = std::move(path);
  route.handler = std::move(handler);
  if (route.path.ends_with('*')) {
    route.path.pop_back();
    route.kind = RouteKind::Prefix;
  } else if (route.path.find('{') != std::string::npos) {
    route.kind = RouteKind::Pattern;
    for (const std::string_view segment : split(route.path, '/')) {
      route.segments.emplace_back(segment);
      route.literal_segments += isParameter(segment) ? 0 : 1;
    }
  }
  impl_->routes.push_back(std::move(route));
}

Result<void> HttpServer::start() {
  if (impl_->started) {
    return fail("HTTP server already started");
  }
  if (impl_->stopped) {
    return fail("HTTP server stopped: it cannot be started again");
  }
  auto endpoint = parseHostPort(impl_->listen);
  if (!endpoint) {
    return fail(fmt::format("http.listen \"{}\": {}", impl_->listen, endpoint.error().message));
  }
  try {
    asio::error_code ec;
    auto address = asio::ip::make_address(endpoint->host, ec);
    if (ec) {
      asio::ip::tcp::resolver resolver(impl_->io_context);
      const auto results = resolver.resolve(endpoint->host, "");
      if (results.empty()) {
        return fail(
            fmt::format("http.listen \"{}\": cannot resolve {}", impl_->listen, endpoint->host));
      }
      address = results.begin()->endpoint().address();
    }
    // Bodies up to twice the limit are read so that they can be refused with 413;
    // larger ones close the connection.
    const uint64_t hard_body_limit = static_cast<uint64_t>(impl_->max_body_bytes) * 2 + 1024;
    Impl* impl = impl_.get();
    impl_->server = std::make_unique<Server>(
        restinio::external_io_context(impl_->io_context), [&](auto& settings) {
          settings.address(address)
              .port(endpoint->port)
              .max_parallel_connections(kMaxConnections)
              .read_next_http_message_timelimit(std::chrono::seconds(60))
              .write_http_response_timelimit(std::chrono::seconds(60))
              .handle_request_timeout(std::chrono::seconds(60))
              .incoming_http_msg_limits(restinio::incoming_http_msg_limits_t{}
                                            .max_url_size(8192)
                                            .max_field_name_size(1024)
                                            .max_field_value_size(16384)
                                            .max_field_count(128)
                                            .max_body_size(hard_body_limit))
              .acceptor_post_bind_hook([impl](asio::ip::tcp::acceptor& acceptor) {
                impl->port.store(acceptor.local_endpoint().port());
              })
              .request_handler(
                  [impl](const restinio::request_handle_t& req) { return impl->handle(req); });
        });
    impl_->server->open_sync();
  } catch (const std::exception& e) {
    impl_->server.reset();
    return fail(fmt::format("http.listen \"{}\": cannot listen: {}", impl_->listen, e.what()));
  }
  impl_->started = true;
  for (std::size_t i = 0; i < impl_->threads; ++i) {
    impl_->workers.emplace_back([impl = impl_.get()] {
      try {
        impl->io_context.run();
      } catch (const std::exception& e) {
        log::critical(kComponent, "HTTP thread stopped: {}", e.what());
      }
    });
  }
  log::info(kComponent, "HTTP server listening on {} (port {})", impl_->listen, port());
  return {};
}

uint16_t HttpServer::port() const {
  return impl_->port.load();
}

void HttpServer::stop() {
  if (!impl_ || !impl_->started) {
    return;
  }
  impl_->started = false;
  impl_->stopped = true;
  std::promise<void> closed;
  impl_->server->close_async([&closed] { closed.set_value(); },
                             [&closed](std::exception_ptr) { closed.set_value(); });
  closed.get_future().wait();
  impl_->io_context.stop();
  for (auto& worker : impl_->workers) {
    worker.join();
  }
  impl_->workers.clear();
  // Connections still open (idle keep-alive) own a monitor of the server's connection
  // limiter; destroying their queued reads with the io_context, after the server, would
  // touch the freed limiter. Shut the services down now: the io_context cannot run again,
  // which is why a stopped HttpServer cannot be started again.
  impl_->io_context.shutdown();
  impl_->server.reset();
}

std::string_view httpReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

}  // namespace siprecd::app
