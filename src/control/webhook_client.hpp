#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/result.hpp"

/// Outgoing HTTP POSTs of JSON bodies (webhooks, the newCall callback) over libcurl's
/// multi interface: many requests run concurrently on one thread, each with its own
/// timeout, so a hanging endpoint delays nobody else.
namespace siprecd::control {

struct WebhookRequest {
  std::string url;  ///< http:// or https:// only; redirects are not followed
  std::string body;
  /// Extra request headers; Content-Type: application/json is always sent.
  std::vector<std::pair<std::string, std::string>> headers;
  /// Whole-request limit (connect, send, wait, receive); at least 1 ms.
  std::chrono::milliseconds timeout{10000};
};

struct WebhookResponse {
  int status = 0;
  std::string body;  ///< at most WebhookClient::kMaxResponseBytes; the rest is dropped
  std::chrono::milliseconds elapsed{0};

  bool isSuccess() const { return status >= 200 && status <= 299; }
};

/// An asynchronous HTTP client with its own thread. Construction starts the thread;
/// destruction stops it, abandoning requests still running without calling their
/// completions.
class WebhookClient {
 public:
  using RequestId = uint64_t;
  /// Receives the response (any HTTP status) or a transport error (DNS, connect, TLS,
  /// timeout: the message names it). Runs on the client's thread: keep it short, post
  /// heavier work elsewhere, never call the client's destructor from it.
  using Completion = std::function<void(Result<WebhookResponse>)>;

  static constexpr std::size_t kMaxResponseBytes = 64 * 1024;

  WebhookClient();
  ~WebhookClient();
  WebhookClient(const WebhookClient&) = delete;
  WebhookClient& operator=(const WebhookClient&) = delete;

  /// Starts a POST; returns at once. Thread-safe. `on_done` runs exactly once, unless the
  /// request is cancelled first or the client is destroyed.
  RequestId post(WebhookRequest request, Completion on_done);
  /// Aborts a request. Thread-safe. When it returns, the completion has either already
  /// run, is running now on the client thread, or will never run. Unknown ids are ignored.
  void cancel(RequestId id);
  /// Requests started and not yet completed or cancelled.
  std::size_t inFlight() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace siprecd::control
