#include "control/webhook_client.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <curl/curl.h>

#include "base/log.hpp"
#include "base/version.hpp"
#include "storage/curl_handles.hpp"

namespace siprecd::control {
namespace {

constexpr std::string_view kComponent = "events";

using storage::appendHeader;
using storage::ensureCurlGlobalInit;
using EasyHandle = storage::CurlEasy;
using MultiHandle = storage::CurlMulti;
using HeaderList = storage::CurlHeaders;

struct Transfer {
  WebhookClient::RequestId id = 0;
  WebhookRequest request;
  WebhookClient::Completion on_done;
  EasyHandle easy;
  HeaderList headers;
  std::string response_body;
  std::array<char, CURL_ERROR_SIZE> error_text{};
  std::chrono::steady_clock::time_point started;
};

/// The URL without user information and query, for messages (they may carry secrets).
std::string redactUrl(std::string_view url) {
  url = url.substr(0, url.find_first_of("?#"));
  const std::size_t scheme = url.find("://");
  const std::size_t authority = scheme == std::string_view::npos ? 0 : scheme + 3;
  const std::size_t path = url.find('/', authority);
  const std::size_t at = url.substr(0, path).rfind('@');
  if (at != std::string_view::npos && at >= authority) {
    return std::string(url.substr(0, authority)) + std::string(url.substr(at + 1));
  }
  return std::string(url);
}

size_t onResponseData(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t bytes = size * count;
  const size_t room = WebhookClient::kMaxResponseBytes - transfer->response_body.size();
  transfer->response_body.append(data, std::min(bytes, room));
  return bytes;
}

}  // namespace

struct WebhookClient::Impl {
  struct Queued {
    RequestId id;
    WebhookRequest request;
    Completion on_done;
  };

  mutable std::mutex mutex;
  std::deque<Queued> queued;      // guarded by mutex
  std::set<RequestId> cancelled;  // guarded by mutex; cancels since the loop's last pass
  bool stopping = false;          // guarded by mutex
  RequestId next_id = 1;          // guarded by mutex
  std::atomic<std::size_t> in_flight{0};

  MultiHandle multi;
  std::map<RequestId, std::unique_ptr<Transfer>> active;  // client thread only
  std::thread thread;

  void run();
  void start(Queued queued_request);
  void finish(CURL* easy, CURLcode code);
  /// Aborts an active transfer (a cancel() seen at the top of the loop).
  void drop(RequestId id);
  /// Runs a completion unless the request was cancelled meanwhile.
  void complete(RequestId id, Completion& on_done, Result<WebhookResponse> result);
};

WebhookClient::WebhookClient() : impl_(std::make_unique<Impl>()) {
  ensureCurlGlobalInit();
  impl_->multi.reset(curl_multi_init());
  if (!impl_->multi) {
    std::abort();  // out of memory at start-up
  }
  impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
}

WebhookClient::~WebhookClient() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  curl_multi_wakeup(impl_->multi.get());
  impl_->thread.join();
  for (auto& [id, transfer] : impl_->active) {
    curl_multi_remove_handle(impl_->multi.get(), transfer->easy.get());
  }
  impl_->active.clear();
}

WebhookClient::RequestId WebhookClient::post(WebhookRequest request, Completion on_done) {
  RequestId id = 0;
  {
    std::lock_guard lock(impl_->mutex);
    id = impl_->next_id++;
    impl_->queued.push_back(Impl::Queued{id, std::move(request), std::move(on_done)});
  }
  impl_->in_flight.fetch_add(1, std::memory_order_relaxed);
  curl_multi_wakeup(impl_->multi.get());
  return id;
}

void WebhookClient::cancel(RequestId id) {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->cancelled.insert(id);
  }
  curl_multi_wakeup(impl_->multi.get());
}

std::size_t WebhookClient::inFlight() const {
  return impl_->in_flight.load(std::memory_order_relaxed);
}

void WebhookClient::Impl::run() {
  while (true) {
    std::deque<Queued> starting;
    std::set<RequestId> cancelling;
    {
      std::lock_guard lock(mutex);
      if (stopping) {
        return;
      }
      starting.swap(queued);
      cancelling.swap(cancelled);
    }
    for (const RequestId id : cancelling) {
      drop(id);
    }
    for (Queued& item : starting) {
      if (cancelling.contains(item.id)) {
        in_flight.fetch_sub(1, std::memory_order_relaxed);
        continue;
      }
      start(std::move(item));
    }
    int running = 0;
    curl_multi_perform(multi.get(), &running);
    int left = 0;
    while (CURLMsg* message = curl_multi_info_read(multi.get(), &left)) {
      if (message->msg == CURLMSG_DONE) {
        finish(message->easy_handle, message->data.result);
      }
    }
    curl_multi_poll(multi.get(), nullptr, 0, 1000, nullptr);
  }
}

void WebhookClient::Impl::start(Queued item) {
  auto transfer = std::make_unique<Transfer>();
  transfer->id = item.id;
  transfer->request = std::move(item.request);
  transfer->on_done = std::move(item.on_done);
  transfer->started = std::chrono::steady_clock::now();
  transfer->easy.reset(curl_easy_init());
  bool ok = transfer->easy != nullptr &&
            appendHeader(transfer->headers, "Content-Type: application/json") &&
            appendHeader(transfer->headers, "Expect:");
  for (const auto& [name, value] : transfer->request.headers) {
    ok = ok && appendHeader(transfer->headers, name + ": " + value);
  }
  if (!ok) {
    complete(transfer->id, transfer->on_done, fail("webhook: out of memory"));
    return;
  }
  CURL* easy = transfer->easy.get();
  // 0 would mean "no limit" to libcurl: a request always has one.
  const auto timeout_ms = std::max(1L, static_cast<long>(transfer->request.timeout.count()));
  const std::string user_agent = std::string("siprecd/") + kVersion;
  const bool set =
      curl_easy_setopt(easy, CURLOPT_URL, transfer->request.url.c_str()) == CURLE_OK &&
      curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
      curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
      curl_easy_setopt(easy, CURLOPT_POST, 1L) == CURLE_OK &&
      curl_easy_setopt(easy, CURLOPT_POSTFIELDS, transfer->request.body.data()) == CURLE_OK &&
      curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(transfer->request.body.size())) == CURLE_OK &&
      curl_easy_setopt(easy, CURLOPT_HTTPHEADER, transfer->headers.get()) == CURLE_OK &&
      curl_easy_setopt(easy, CURLOPT_USERAGENT, user_agent.c_str()) == CURLE_OK &&
      curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms) == CURLE_OK &&
      curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms) == CURLE_OK &&
      curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &onResponseData) == CURLE_OK &&
      curl_easy_setopt(easy, CURLOPT_WRITEDATA, transfer.get()) == CURLE_OK &&
      curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer->error_text.data()) == CURLE_OK &&
      curl_easy_setopt(easy, CURLOPT_PRIVATE, transfer.get()) == CURLE_OK;
  if (!set || curl_multi_add_handle(multi.get(), easy) != CURLM_OK) {
    complete(transfer->id, transfer->on_done,
             fail("webhook " + redactUrl(transfer->request.url) + ": cannot set up the request"));
    return;
  }
  const RequestId id = transfer->id;
  active.emplace(id, std::move(transfer));
}

void WebhookClient::Impl::finish(CURL* easy, CURLcode code) {
  void* user = nullptr;
  curl_easy_getinfo(easy, CURLINFO_PRIVATE, &user);
  auto* raw = static_cast<Transfer*>(user);
  const auto it = active.find(raw->id);
  if (it == active.end()) {
    return;
  }
  std::unique_ptr<Transfer> transfer = std::move(it->second);
  active.erase(it);
  curl_multi_remove_handle(multi.get(), easy);
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - transfer->started);
  if (code != CURLE_OK) {
    std::string detail = transfer->error_text.data();
    if (detail.empty()) {
      detail = curl_easy_strerror(code);
    }
    complete(transfer->id, transfer->on_done,
             fail("webhook " + redactUrl(transfer->request.url) + ": " + detail));
    return;
  }
  long status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  WebhookResponse response;
  response.status = static_cast<int>(status);
  response.body = std::move(transfer->response_body);
  response.elapsed = elapsed;
  complete(transfer->id, transfer->on_done, std::move(response));
}

void WebhookClient::Impl::drop(RequestId id) {
  const auto it = active.find(id);
  if (it == active.end()) {
    return;
  }
  curl_multi_remove_handle(multi.get(), it->second->easy.get());
  active.erase(it);
  in_flight.fetch_sub(1, std::memory_order_relaxed);
}

void WebhookClient::Impl::complete(RequestId id, Completion& on_done,
                                   Result<WebhookResponse> result) {
  {
    std::lock_guard lock(mutex);
    in_flight.fetch_sub(1, std::memory_order_relaxed);
    if (cancelled.erase(id) > 0) {
      return;
    }
  }
  if (on_done) {
    on_done(std::move(result));
  }
}

}  // namespace siprecd::control
