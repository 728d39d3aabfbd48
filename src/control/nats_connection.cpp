#include "control/nats_connection.hpp"

#include <array>
#include <fstream>
#include <utility>

#include <fmt/format.h>

#include "base/log.hpp"
#include "base/metrics.hpp"
#include "base/strings.hpp"

namespace siprecd::control {
namespace {

constexpr std::string_view kComponent = "nats";
constexpr int kConfigError = 2;
constexpr int64_t kNanosPerSecond = 1'000'000'000;

struct ConnectionMetrics {
  Gauge& connected = metrics().gauge("siprecd_nats_connected", "1 while connected to NATS.");
  Counter& reconnects =
      metrics().counter("siprecd_nats_reconnects_total", "Reconnections to NATS after a loss.");
};

ConnectionMetrics& connectionMetrics() {
  static ConnectionMetrics instance;
  return instance;
}

/// The server the connection uses now, "" when none.
std::string connectedUrl(natsConnection* connection) {
  std::array<char, 256> buffer{};
  if (natsConnection_GetConnectedUrl(connection, buffer.data(), buffer.size()) != NATS_OK) {
    return {};
  }
  return std::string(buffer.data());
}

// cnats calls these on its own threads, possibly after the NatsConnection is gone (a
// close posts its callbacks): they touch only the connection they are given and globals.
void onConnected(natsConnection* connection, void* /*closure*/) {
  connectionMetrics().connected.set(1);
  log::info(kComponent, "connected to {}", connectedUrl(connection));
}

void onDisconnected(natsConnection* connection, void* /*closure*/) {
  connectionMetrics().connected.set(0);
  if (!natsConnection_IsClosed(connection)) {
    log::warn(kComponent, "connection to NATS lost; reconnecting");
  }
}

void onReconnected(natsConnection* connection, void* /*closure*/) {
  connectionMetrics().connected.set(1);
  connectionMetrics().reconnects.inc();
  log::info(kComponent, "reconnected to {}", connectedUrl(connection));
}

void onAsyncError(natsConnection* /*connection*/, natsSubscription* /*subscription*/,
                  natsStatus status, void* /*closure*/) {
  static log::RateLimiter limiter(1);
  log::limited(limiter, log::Level::Warn, kComponent, "asynchronous error: {}",
               natsStatus_GetText(status));
}

Result<void> check(natsStatus status, std::string_view key) {
  if (status == NATS_OK) {
    return {};
  }
  return fail(fmt::format("{}: {}", key, natsErrorText(status)), kConfigError);
}

Result<void> checkReadable(const std::string& file, std::string_view key) {
  if (file.empty()) {
    return {};
  }
  std::ifstream in(file);
  if (!in) {
    return fail(fmt::format("{}: cannot read {}", key, file), kConfigError);
  }
  return {};
}

Result<NatsPtr<natsOptions>> buildOptions(const NatsSettings& settings) {
  const std::vector<std::string> urls = splitNatsUrls(settings.url);
  if (urls.empty()) {
    return fail("nats.url: no server URL", kConfigError);
  }
  if (settings.user.empty() != settings.password.empty()) {
    return fail("nats.user and nats.password: set both or neither", kConfigError);
  }
  if (settings.tls_certificate.empty() != settings.tls_private_key.empty()) {
    return fail("nats.tls_certificate and nats.tls_private_key: set both or neither", kConfigError);
  }
  for (const auto& [file, key] : {std::pair<const std::string&, std::string_view>{
                                      settings.credentials_file, "nats.credentials"},
                                  {settings.tls_ca, "nats.tls_ca"},
                                  {settings.tls_certificate, "nats.tls_certificate"},
                                  {settings.tls_private_key, "nats.tls_private_key"}}) {
    if (auto ok = checkReadable(file, key); !ok) {
      return tl::unexpected(ok.error());
    }
  }
  natsOptions* raw = nullptr;
  if (auto ok = check(natsOptions_Create(&raw), "nats"); !ok) {
    return tl::unexpected(ok.error());
  }
  NatsPtr<natsOptions> options(raw);
  std::vector<const char*> servers;
  servers.reserve(urls.size());
  bool tls = !settings.tls_ca.empty() || !settings.tls_certificate.empty();
  for (const auto& url : urls) {
    servers.push_back(url.c_str());
    tls = tls || istartsWith(url, "tls://");
  }
  Result<void> ok =
      check(natsOptions_SetServers(options.get(), servers.data(), static_cast<int>(servers.size())),
            "nats.url");
  const auto step = [&ok](natsStatus status, std::string_view key) {
    if (ok) {
      ok = check(status, key);
    }
  };
  step(natsOptions_SetName(options.get(), settings.name.c_str()), "nats");
  step(natsOptions_SetTimeout(options.get(), settings.connect_timeout.count()), "nats");
  step(natsOptions_SetMaxReconnect(options.get(), -1), "nats");
  step(natsOptions_SetReconnectWait(options.get(), settings.reconnect_wait.count()), "nats");
  step(natsOptions_SetPingInterval(options.get(), settings.ping_interval.count()), "nats");
  step(natsOptions_SetMaxPingsOut(options.get(), settings.max_pings_out), "nats");
  step(natsOptions_SetRetryOnFailedConnect(options.get(), true, &onConnected, nullptr), "nats");
  step(natsOptions_SetDisconnectedCB(options.get(), &onDisconnected, nullptr), "nats");
  step(natsOptions_SetReconnectedCB(options.get(), &onReconnected, nullptr), "nats");
  step(natsOptions_SetErrorHandler(options.get(), &onAsyncError, nullptr), "nats");
  if (!settings.user.empty()) {
    step(natsOptions_SetUserInfo(options.get(), settings.user.c_str(), settings.password.c_str()),
         "nats.user");
  }
  if (!settings.token.empty()) {
    step(natsOptions_SetToken(options.get(), settings.token.c_str()), "nats.token");
  }
  if (!settings.credentials_file.empty()) {
    step(natsOptions_SetUserCredentialsFromFiles(options.get(), settings.credentials_file.c_str(),
                                                 nullptr),
         "nats.credentials");
  }
  if (tls) {
    step(natsOptions_SetSecure(options.get(), true), "nats.url");
  }
  if (!settings.tls_ca.empty()) {
    step(natsOptions_LoadCATrustedCertificates(options.get(), settings.tls_ca.c_str()),
         "nats.tls_ca");
  }
  if (!settings.tls_certificate.empty()) {
    step(natsOptions_LoadCertificatesChain(options.get(), settings.tls_certificate.c_str(),
                                           settings.tls_private_key.c_str()),
         "nats.tls_certificate");
  }
  if (!ok) {
    return tl::unexpected(ok.error());
  }
  return options;
}

}  // namespace

std::string natsErrorText(natsStatus status, jsErrCode js_error) {
  std::string text = natsStatus_GetText(status);
  if (js_error != 0) {
    text += fmt::format(" (JetStream error {})", static_cast<int>(js_error));
  }
  natsStatus last_status = NATS_OK;
  const char* last = nats_GetLastError(&last_status);
  if (last != nullptr && *last != '\0' && text.find(last) == std::string::npos) {
    text += ": ";
    text += last;
  }
  return text;
}

std::string natsSubjectToken(std::string_view domain) {
  std::string token(domain);
  for (char& c : token) {
    if (c == '.' || c == '*' || c == '>' || c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      c = '_';
    }
  }
  return token;
}

std::vector<std::string> splitNatsUrls(std::string_view url) {
  std::vector<std::string> urls;
  for (const std::string_view item : split(url, ',')) {
    const std::string_view trimmed = trim(item);
    if (!trimmed.empty()) {
      urls.emplace_back(trimmed);
    }
  }
  return urls;
}

Result<std::unique_ptr<NatsConnection>> NatsConnection::open(const NatsSettings& settings) {
  auto options = buildOptions(settings);
  if (!options) {
    return tl::unexpected(options.error());
  }
  natsConnection* raw_connection = nullptr;
  const natsStatus status = natsConnection_Connect(&raw_connection, options->get());
  NatsPtr<natsConnection> connection(raw_connection);
  if (status == NATS_NOT_YET_CONNECTED) {
    log::warn(kComponent, "no NATS server answers at {} yet; retrying in the background",
              fmt::join(splitNatsUrls(settings.url), ", "));
  } else if (status != NATS_OK) {
    return fail("nats: " + natsErrorText(status), kConfigError);
  } else {
    connectionMetrics().connected.set(1);
    log::info(kComponent, "connected to {}", connectedUrl(connection.get()));
  }
  jsOptions js_options;
  jsOptions_Init(&js_options);
  js_options.Wait = settings.request_timeout.count();
  jsCtx* raw_context = nullptr;
  if (const natsStatus js = natsConnection_JetStream(&raw_context, connection.get(), &js_options);
      js != NATS_OK) {
    return fail("nats: JetStream context: " + natsErrorText(js), kConfigError);
  }
  return std::make_unique<NatsConnection>(Key(), std::move(connection), NatsPtr<jsCtx>(raw_context),
                                          settings.request_timeout);
}

NatsConnection::NatsConnection(Key /*key*/, NatsPtr<natsConnection> connection,
                               NatsPtr<jsCtx> jet_stream, std::chrono::milliseconds request_timeout)
    : connection_(std::move(connection)),
      jet_stream_(std::move(jet_stream)),
      request_timeout_(request_timeout) {}

NatsConnection::~NatsConnection() {
  jet_stream_.reset();
  natsConnection_Close(connection_.get());
  connectionMetrics().connected.set(0);
}

bool NatsConnection::connected() const {
  return natsConnection_Status(connection_.get()) == NATS_CONN_STATUS_CONNECTED;
}

Result<void> NatsConnection::ensureStream(const NatsStreamSpec& spec) {
  jsStreamInfo* raw_info = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  natsStatus status =
      js_GetStreamInfo(&raw_info, jet_stream_.get(), spec.name.c_str(), nullptr, &js_error);
  NatsPtr<jsStreamInfo> info(raw_info);
  if (status == NATS_OK) {
    return {};
  }
  if (status != NATS_NOT_FOUND && js_error != JSStreamNotFoundErr) {
    return fail(fmt::format("stream {}: {}", spec.name, natsErrorText(status, js_error)));
  }
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  std::array<const char*, 1> subjects{spec.subject.c_str()};
  config.Name = spec.name.c_str();
  config.Subjects = subjects.data();
  config.SubjectsLen = static_cast<int>(subjects.size());
  config.Retention = spec.work_queue ? js_WorkQueuePolicy : js_LimitsPolicy;
  config.Storage = js_FileStorage;
  config.MaxAge = spec.max_age.count() * kNanosPerSecond;
  config.Duplicates = spec.duplicate_window.count() * kNanosPerSecond;
  raw_info = nullptr;
  js_error = static_cast<jsErrCode>(0);
  status = js_AddStream(&raw_info, jet_stream_.get(), &config, nullptr, &js_error);
  info.reset(raw_info);
  if (status == NATS_OK) {
    log::info(kComponent, "created JetStream stream {} on {}", spec.name, spec.subject);
    return {};
  }
  if (js_error == JSStreamNameExistErr) {
    return {};  // another node was quicker
  }
  return fail(fmt::format("cannot create stream {} on {}: {}", spec.name, spec.subject,
                          natsErrorText(status, js_error)));
}

}  // namespace siprecd::control
