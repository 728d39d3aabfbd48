#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "app/http_server.hpp"
#include "base/clock.hpp"

// Not `siprecd::testing`: unqualified `testing::Test` inside siprecd would then find it.
namespace siprecd::test_support {

/// A real HTTP endpoint on 127.0.0.1 (any free port) that records every request and answers
/// with `respond` (default: 200 {}). Used as the application's callback receiver.
class WebhookReceiver {
 public:
  using Responder = std::function<app::HttpResponse(const app::HttpRequest&)>;

  explicit WebhookReceiver(std::size_t threads = 4) : server_("127.0.0.1:0", threads) {
    server_.route("*", "/*", [this](const app::HttpRequest& request) {
      Responder respond;
      {
        std::lock_guard lock(mutex_);
        respond = respond_;
      }
      app::HttpResponse response;
      response.body = "{}";
      if (respond) {
        response = respond(request);
      }
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(request);
      }
      changed_.notify_all();
      return response;
    });
    const auto started = server_.start();
    EXPECT_TRUE(started.has_value()) << (started ? "" : started.error().message);
  }
  ~WebhookReceiver() { server_.stop(); }

  /// "http://127.0.0.1:PORT" + `path`.
  std::string url(const std::string& path = "") const {
    return "http://127.0.0.1:" + std::to_string(server_.port()) + path;
  }
  void respondWith(Responder respond) {
    std::lock_guard lock(mutex_);
    respond_ = std::move(respond);
  }
  /// Waits (real time) until at least `count` requests have been answered.
  bool waitForRequests(std::size_t count,
                       std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, limit, [&] { return requests_.size() >= count; });
  }
  std::vector<app::HttpRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  std::size_t requestCount() const {
    std::lock_guard lock(mutex_);
    return requests_.size();
  }

 private:
  app::HttpServer server_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  Responder respond_;                       // guarded by mutex_
  std::vector<app::HttpRequest> requests_;  // guarded by mutex_
};

/// A manual clock that may be advanced while other threads read it (the dispatcher's).
class SharedManualClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point steadyNow() const override {
    return std::chrono::steady_clock::time_point(std::chrono::milliseconds(offset_ms_.load()));
  }
  std::chrono::system_clock::time_point systemNow() const override {
    return std::chrono::system_clock::time_point(
        std::chrono::milliseconds(kEpochStartMs + offset_ms_.load()));
  }
  void advance(std::chrono::milliseconds delta) { offset_ms_ += delta.count(); }

  static constexpr int64_t kEpochStartMs = 1'700'000'000'000;

 private:
  std::atomic<int64_t> offset_ms_{1'000'000};
};

/// A gate that handlers block on until the test opens it (a hanging endpoint).
class Gate {
 public:
  void open() {
    {
      std::lock_guard lock(mutex_);
      open_ = true;
    }
    changed_.notify_all();
  }
  /// Blocks until open() or `limit` (a safety net so a failing test cannot hang).
  void wait(std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, limit, [&] { return open_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = false;
};

}  // namespace siprecd::test_support
