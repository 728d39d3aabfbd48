#pragma once

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "control/eventually.hpp"
#include "control/nats_connection.hpp"
#include "support/temp_dir.hpp"

extern char** environ;

// Not `siprecd::testing`: unqualified `testing::Test` inside siprecd would then find it.
namespace siprecd::test_support {

/// A real `nats-server -js` on 127.0.0.1, on a free port it picks itself (read back from
/// its ports file), with its JetStream store in a temporary directory that survives
/// restart(). Tests skip when /usr/sbin/nats-server is not installed.
class NatsTestServer {
 public:
  static constexpr const char* kBinary = "/usr/sbin/nats-server";

  static bool installed() { return ::access(kBinary, X_OK) == 0; }

  NatsTestServer() = default;
  ~NatsTestServer() { stop(); }
  NatsTestServer(const NatsTestServer&) = delete;
  NatsTestServer& operator=(const NatsTestServer&) = delete;

  /// Starts the server (on its previous port after a stop()); false (with a test failure)
  /// when it does not come up within 10 s.
  bool start() {
    const std::string port = port_ ? std::to_string(*port_) : "-1";
    const std::string store = (dir_.path() / "store").string();
    const std::string ports_dir = dir_.path().string();
    const std::string log = (dir_.path() / "nats-server.log").string();
    std::vector<std::string> args{kBinary, "-js", "-a",  "127.0.0.1",        "-p",
                                  port,    "-sd", store, "--ports_file_dir", ports_dir};
    std::vector<char*> argv;
    for (auto& arg : args) {
      argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    const int spawned = posix_spawn(&pid_, kBinary, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) {
      ADD_FAILURE() << "cannot start " << kBinary;
      pid_ = -1;
      return false;
    }
    const auto ports_file = dir_.path() / ("nats-server_" + std::to_string(pid_) + ".ports");
    const bool up = eventually(
        [&] {
          std::ifstream in(ports_file);
          std::stringstream text;
          text << in.rdbuf();
          std::smatch match;
          const std::string content = text.str();
          if (!std::regex_search(content, match, std::regex(R"(nats://127\.0\.0\.1:(\d+))"))) {
            return false;
          }
          port_ = std::stoi(match[1]);
          return true;
        },
        std::chrono::seconds(10));
    if (!up) {
      ADD_FAILURE() << "nats-server did not come up; log:\n" << logText();
    }
    return up;
  }

  /// Stops the server (SIGTERM, then SIGKILL after 5 s). Idempotent.
  void stop() {
    if (pid_ <= 0) {
      return;
    }
    ::kill(pid_, SIGTERM);
    int status = 0;
    const bool exited = eventually([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; },
                                   std::chrono::seconds(5));
    if (!exited) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
    std::error_code ignored;
    std::filesystem::remove(dir_.path() / ("nats-server_" + std::to_string(pid_) + ".ports"),
                            ignored);
    pid_ = -1;
  }

  /// Stops and starts again on the same port with the same store.
  bool restart() {
    stop();
    return start();
  }

  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_.value_or(0)); }

  std::string logText() const {
    std::ifstream in(dir_.path() / "nats-server.log");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  TempDir dir_;
  pid_t pid_ = -1;
  std::optional<int> port_;
};

/// Settings of a test connection to `url` with short timeouts.
inline control::NatsSettings natsTestSettings(const std::string& url) {
  control::NatsSettings settings;
  settings.url = url;
  settings.name = "siprecd-test";
  settings.connect_timeout = std::chrono::milliseconds(500);
  settings.reconnect_wait = std::chrono::milliseconds(100);
  settings.request_timeout = std::chrono::milliseconds(2000);
  return settings;
}

/// Opens a connection and waits until it is connected.
inline std::unique_ptr<control::NatsConnection> connectTo(const std::string& url) {
  auto connection = control::NatsConnection::open(natsTestSettings(url));
  EXPECT_TRUE(connection) << (connection ? "" : connection.error().message);
  if (!connection) {
    return nullptr;
  }
  EXPECT_TRUE(eventually([&] { return (*connection)->connected(); }));
  return std::move(*connection);
}

/// A message as a test sees it.
struct NatsReceived {
  std::string subject;
  std::string data;
  std::string header(const char* key) const {
    for (const auto& [name, value] : headers) {
      if (name == key) {
        return value;
      }
    }
    return {};
  }
  std::vector<std::pair<std::string, std::string>> headers;
};

inline NatsReceived receivedFrom(natsMsg* message) {
  NatsReceived received;
  received.subject = natsMsg_GetSubject(message);
  received.data.assign(natsMsg_GetData(message),
                       static_cast<std::size_t>(natsMsg_GetDataLength(message)));
  const char** keys = nullptr;
  int count = 0;
  if (natsMsgHeader_Keys(message, &keys, &count) == NATS_OK) {
    for (int i = 0; i < count; ++i) {
      const char* value = nullptr;
      if (natsMsgHeader_Get(message, keys[i], &value) == NATS_OK && value != nullptr) {
        received.headers.emplace_back(keys[i], value);
      }
    }
    // natsMsgHeader_Keys allocates the array (not the strings) with malloc.
    std::free(static_cast<void*>(keys));
  }
  return received;
}

/// The next message of a synchronous subscription within `timeout`, or nullopt.
inline std::optional<NatsReceived> nextMessage(
    natsSubscription* subscription, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  natsMsg* raw = nullptr;
  if (natsSubscription_NextMsg(&raw, subscription, timeout.count()) != NATS_OK) {
    return std::nullopt;
  }
  control::NatsPtr<natsMsg> message(raw);
  return receivedFrom(message.get());
}

/// Number of messages stored in `stream`, nullopt when it does not exist.
inline std::optional<uint64_t> streamMessages(control::NatsConnection& connection,
                                              const std::string& stream) {
  jsStreamInfo* raw = nullptr;
  jsErrCode error = static_cast<jsErrCode>(0);
  if (js_GetStreamInfo(&raw, connection.jetStream(), stream.c_str(), nullptr, &error) != NATS_OK) {
    return std::nullopt;
  }
  control::NatsPtr<jsStreamInfo> info(raw);
  return info->State.Msgs;
}

}  // namespace siprecd::test_support
