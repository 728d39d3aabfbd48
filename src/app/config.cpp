#include "app/config.hpp"

#include <algorithm>
#include <array>
#include <set>
#include <system_error>

#include <fmt/format.h>

#include "app/api_key_hash.hpp"
#include "app/cidr.hpp"
#include "app/cli.hpp"
#include "app/config_control.hpp"
#include "app/config_yaml.hpp"
#include "base/log.hpp"
#include "base/strings.hpp"

namespace siprecd::app {
namespace {

constexpr int kUsageExit = 2;

tl::unexpected<Error> keyError(std::string_view key, std::string_view message) {
  return fail(fmt::format("{}: {}", key, message), kUsageExit);
}

std::vector<std::string> splitList(std::string_view text) {
  std::vector<std::string> items;
  for (const auto part : split(text, ',')) {
    const auto item = trim(part);
    if (!item.empty()) {
      items.emplace_back(item);
    }
  }
  return items;
}

std::optional<uint16_t> parsePort(std::string_view text) {
  const auto port = parseUnsigned(text);
  if (!port || *port > 65535) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(*port);
}

bool validHostName(std::string_view host) {
  if (host.empty() || host.size() > 253) {
    return false;
  }
  return std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_';
  });
}

bool validDomainName(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_';
  });
}

bool knownCodec(std::string_view codec) {
  static constexpr std::array<std::string_view, 6> kCodecs{"PCMU", "PCMA", "G722",
                                                           "G729", "opus", "L16"};
  return std::any_of(kCodecs.begin(), kCodecs.end(),
                     [&](std::string_view known) { return iequals(known, codec); });
}

bool validHttpUrl(std::string_view url) {
  std::string_view rest;
  if (istartsWith(url, "http://")) {
    rest = url.substr(7);
  } else if (istartsWith(url, "https://")) {
    rest = url.substr(8);
  } else {
    return false;
  }
  const auto authority = rest.substr(0, rest.find_first_of("/?#"));
  return !authority.empty() &&
         std::none_of(url.begin(), url.end(), [](char c) { return c <= ' ' || c == 0x7F; });
}

Result<void> checkFileReadable(std::string_view key, const std::string& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    return keyError(key, fmt::format("file not found: {}", file));
  }
  return {};
}

Result<void> checkPositive(std::string_view key, int value, int min) {
  if (value < min) {
    return keyError(key, fmt::format("must be at least {} (got {})", min, value));
  }
  return {};
}

/// A JetStream stream name: letters, digits, '-' and '_'.
bool validStreamName(std::string_view name) {
  return !name.empty() && name.size() <= 255 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

Result<void> validateNats(const Config& config) {
  const NatsConfig& nats = config.nats;
  if (nats.url.empty()) {
    return {};
  }
  for (const auto url : split(nats.url, ',')) {
    const auto item = trim(url);
    if (!item.empty() && !istartsWith(item, "nats://") && !istartsWith(item, "tls://")) {
      return keyError("nats.url", fmt::format("\"{}\" is not a nats:// or tls:// URL", item));
    }
  }
  if (splitList(nats.url).empty()) {
    return keyError("nats.url", "no server URL");
  }
  if (nats.user.empty() != nats.password.empty()) {
    return keyError("nats.user", "nats.user and nats.password go together");
  }
  if (nats.tls_certificate.empty() != nats.tls_private_key.empty()) {
    return keyError("nats.tls_certificate",
                    "nats.tls_certificate and nats.tls_private_key go together");
  }
  for (const auto& [key, file] :
       {std::pair<std::string_view, const std::string&>{"nats.credentials", nats.credentials},
        {"nats.tls_ca", nats.tls_ca},
        {"nats.tls_certificate", nats.tls_certificate},
        {"nats.tls_private_key", nats.tls_private_key}}) {
    if (!file.empty()) {
      if (auto ok = checkFileReadable(key, file); !ok) {
        return ok;
      }
    }
  }
  for (const auto& [key, name] :
       {std::pair<std::string_view, const std::string&>{"nats.events_stream", nats.events_stream},
        {"nats.commands_stream", nats.commands_stream}}) {
    if (!validStreamName(name)) {
      return keyError(key,
                      fmt::format("\"{}\" is not a stream name (letters, digits, - and _)", name));
    }
  }
  if (nats.events_stream == nats.commands_stream) {
    return keyError("nats.commands_stream", "must differ from nats.events_stream");
  }
  // In subjects a domain name's '.' becomes '_': two names must not meet there.
  std::map<std::string, std::string> tokens;
  for (std::size_t i = 0; i < config.domains.size(); ++i) {
    std::string token = config.domains[i].name;
    std::replace(token.begin(), token.end(), '.', '_');
    const auto [it, inserted] = tokens.emplace(token, config.domains[i].name);
    if (!inserted) {
      return keyError(fmt::format("domains[{}].name", i),
                      fmt::format("\"{}\" and \"{}\" share the NATS subject token \"{}\"",
                                  it->second, config.domains[i].name, token));
    }
  }
  return {};
}

Result<void> validateDomain(const DomainConfig& domain, const std::string& path) {
  if (!validDomainName(domain.name)) {
    return keyError(path + ".name", fmt::format("\"{}\" is not a valid domain name (letters, "
                                                "digits, '.', '-', '_'; at most 64)",
                                                domain.name));
  }
  for (std::size_t i = 0; i < domain.match_hosts.size(); ++i) {
    std::string_view host = domain.match_hosts[i];
    if (host.starts_with("*.")) {
      host.remove_prefix(2);
    }
    if (!validHostName(host) && !parseIpAddress(host)) {
      return keyError(fmt::format("{}.match.hosts[{}]", path, i),
                      fmt::format("\"{}\" is not a host name", domain.match_hosts[i]));
    }
  }
  for (std::size_t i = 0; i < domain.match_cidrs.size(); ++i) {
    if (auto cidr = parseCidr(domain.match_cidrs[i]); !cidr) {
      return keyError(fmt::format("{}.match.cidrs[{}]", path, i), cidr.error().message);
    }
  }
  for (std::size_t i = 0; i < domain.allow_sources.size(); ++i) {
    if (auto cidr = parseCidr(domain.allow_sources[i]); !cidr) {
      return keyError(fmt::format("{}.allow_sources[{}]", path, i), cidr.error().message);
    }
  }
  if (!domain.callback_base.empty() && !validHttpUrl(domain.callback_base)) {
    return keyError(path + ".callback_base",
                    fmt::format("\"{}\" is not an http:// or https:// URL", domain.callback_base));
  }
  if (domain.decision_delay_ms < 0 || domain.decision_delay_ms > 60000) {
    return keyError(path + ".decision_delay_ms", "must be within 0..60000");
  }
  if (domain.codecs.empty()) {
    return keyError(path + ".codecs", "at least one codec is needed");
  }
  for (std::size_t i = 0; i < domain.codecs.size(); ++i) {
    if (!knownCodec(domain.codecs[i])) {
      return keyError(fmt::format("{}.codecs[{}]", path, i),
                      fmt::format("unknown codec \"{}\" (PCMU, PCMA, G722, G729, opus, L16)",
                                  domain.codecs[i]));
    }
  }
  return {};
}

void setDefaultDomainField(Config& config, std::string DomainConfig::*field, std::string value) {
  for (auto& domain : config.domains) {
    if (domain.name == "default") {
      domain.*field = std::move(value);
      return;
    }
  }
}

}  // namespace

Result<ListenSpec> parseListenSpec(std::string_view text) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    return fail(fmt::format("\"{}\": expected TRANSPORT:HOST:PORT", text));
  }
  ListenSpec spec;
  spec.transport = toLower(text.substr(0, colon));
  if (spec.transport != "udp" && spec.transport != "tcp" && spec.transport != "tls") {
    return fail(fmt::format("unknown transport \"{}\" (udp, tcp or tls)", text.substr(0, colon)));
  }
  auto host_port = parseHostPort(text.substr(colon + 1));
  if (!host_port) {
    return fail(fmt::format("\"{}\": {}", text, host_port.error().message));
  }
  spec.host = std::move(host_port->host);
  spec.port = host_port->port;
  if (spec.port == 0) {
    return fail(fmt::format("\"{}\": port 0 is not allowed for SIP", text));
  }
  return spec;
}

Result<HostPort> parseHostPort(std::string_view text) {
  HostPort result;
  std::string_view port_text;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return fail("expected [IPv6]:PORT");
    }
    const auto host = text.substr(1, close - 1);
    const auto address = parseIpAddress(host);
    if (!address || !address->v6) {
      return fail(fmt::format("\"{}\" is not an IPv6 address", host));
    }
    result.host = std::string(host);
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return fail("expected HOST:PORT");
    }
    const auto host = text.substr(0, colon);
    if (host.find(':') != std::string_view::npos) {
      return fail("IPv6 addresses must be in brackets: [::1]:PORT");
    }
    if (!validHostName(host)) {
      return fail(fmt::format("\"{}\" is not a host name or address", host));
    }
    result.host = std::string(host);
    port_text = text.substr(colon + 1);
  }
  const auto port = parsePort(port_text);
  if (!port) {
    return fail(fmt::format("\"{}\" is not a port (0..65535)", port_text));
  }
  result.port = *port;
  return result;
}

Result<PortRange> parsePortRange(std::string_view text) {
  const auto dash = text.find('-');
  if (dash == std::string_view::npos) {
    return fail(fmt::format("\"{}\": expected FIRST-LAST", text));
  }
  const auto first = parsePort(trim(text.substr(0, dash)));
  const auto last = parsePort(trim(text.substr(dash + 1)));
  if (!first || !last || *first < 1024) {
    return fail(fmt::format("\"{}\": ports must be within 1024..65535", text));
  }
  if (*first % 2 != 0 || *first >= *last) {
    return fail(
        fmt::format("\"{}\": first port must be even and <= last (room for one "
                    "RTP/RTCP pair at least)",
                    text));
  }
  return PortRange{*first, *last};
}

Result<void> validateConfig(const Config& config) {
  if (auto level = log::parseLevel(config.log_level); !level) {
    return keyError("log_level", level.error().message);
  }
  if (config.data_dir.empty()) {
    return keyError("data_dir", "must not be empty");
  }
  if (config.sip_listen.empty()) {
    return keyError("sip.listen", "at least one listener is needed");
  }
  bool has_tls = false;
  std::set<std::string> listeners;
  for (std::size_t i = 0; i < config.sip_listen.size(); ++i) {
    const std::string key = fmt::format("sip.listen[{}]", i);
    auto spec = parseListenSpec(config.sip_listen[i]);
    if (!spec) {
      return keyError(key, spec.error().message);
    }
    if (!listeners.insert(fmt::format("{}:{}:{}", spec->transport, spec->host, spec->port))
             .second) {
      return keyError(key, fmt::format("\"{}\" is listed twice", config.sip_listen[i]));
    }
    has_tls = has_tls || spec->transport == "tls";
  }
  if (has_tls && (config.tls_certificate.empty() || config.tls_private_key.empty())) {
    return keyError("sip.tls.certificate",
                    "a tls listener needs sip.tls.certificate and sip.tls.private_key");
  }
  if (config.tls_verify_client && config.tls_ca.empty()) {
    return keyError("sip.tls.ca", "verify_client needs a CA file");
  }
  for (const auto& [key, file] : {std::pair<std::string_view, const std::string&>{
                                      "sip.tls.certificate", config.tls_certificate},
                                  {"sip.tls.private_key", config.tls_private_key},
                                  {"sip.tls.ca", config.tls_ca}}) {
    if (!file.empty()) {
      if (auto ok = checkFileReadable(key, file); !ok) {
        return ok;
      }
    }
  }
  if (config.sip_max_message_bytes < 4096 || config.sip_max_message_bytes > (16u << 20)) {
    return keyError("sip.max_message_bytes", "must be within 4096..16777216");
  }
  for (const auto& [key, value, min] :
       {std::tuple<std::string_view, int, int>{"sip.tcp_idle_timeout_s",
                                               config.sip_tcp_idle_timeout_s, 1},
        {"sip.session_min_se_s", config.session_min_se_s, 90},
        {"sip.drain_retry_after_s", config.drain_retry_after_s, 0},
        {"sip.drain_timeout_s", config.drain_timeout_s, 0},
        {"media.rtp_timeout_s", config.rtp_timeout_s, 0}}) {
    if (auto ok = checkPositive(key, value, min); !ok) {
      return ok;
    }
  }
  if (auto http = parseHostPort(config.http_listen); !http) {
    return keyError("http.listen", http.error().message);
  }
  if (!config.media_ip.empty() && !parseIpAddress(config.media_ip)) {
    return keyError("media.ip", fmt::format("\"{}\" is not an IP address", config.media_ip));
  }
  if (auto range = parsePortRange(config.rtp_ports); !range) {
    return keyError("media.rtp_ports", range.error().message);
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i < config.domains.size(); ++i) {
    const std::string path = fmt::format("domains[{}]", i);
    if (auto ok = validateDomain(config.domains[i], path); !ok) {
      return ok;
    }
    if (!names.insert(config.domains[i].name).second) {
      return keyError(path + ".name",
                      fmt::format("duplicate domain name \"{}\"", config.domains[i].name));
    }
    if (auto ok = validateDomainControl(config.domains[i], path); !ok) {
      return ok;
    }
  }
  for (const auto& [key, value, min, max] :
       {std::tuple<std::string_view, int, int, int>{"media.threads", config.media_threads, 0, 256},
        {"media.spool_flush_ms", config.spool_flush_ms, 10, 60000},
        {"media.socket_buffer_bytes", config.media_socket_buffer_bytes, 4096, 1 << 30},
        {"media.descriptor_reserve", config.media_descriptor_reserve, 64, 1000000},
        {"events.max_age_s", config.events_max_age_s, 60, 30 * 86400},
        {"retention.check_interval_s", config.retention_check_interval_s, 1, 86400},
        {"http.rate_limit_per_s", config.http_rate_limit_per_s, 0, 1000000},
        {"http.rate_limit_burst", config.http_rate_limit_burst, 1, 1000000},
        {"http.threads", config.http_threads, 1, 64}}) {
    if (value < min || value > max) {
      return keyError(key, fmt::format("must be within {}..{} (got {})", min, max, value));
    }
  }
  // The names MediaSettings' parseReceiveBackend() accepts (server.cpp converts).
  if (config.media_receive_backend != "recvmmsg" && config.media_receive_backend != "io_uring") {
    return keyError("media.receive_backend", fmt::format("\"{}\" is not recvmmsg or io_uring",
                                                         config.media_receive_backend));
  }
  if (auto ok = validateNats(config); !ok) {
    return ok;
  }
  return validateApiExposure(config);
}

Result<LoadedConfig> loadConfig(int argc, char** argv,
                                const std::map<std::string, std::string>& env) {
  LoadedConfig loaded;
  auto config = loadConfig(argc, argv, env, &loaded.action);
  if (!config) {
    return tl::unexpected(config.error());
  }
  loaded.config = std::move(*config);
  return loaded;
}

Result<Config> loadConfig(int argc, char** argv, const std::map<std::string, std::string>& env,
                          CliAction* action) {
  *action = CliAction::Run;
  auto cli = parseCommandLine(argc, argv);
  if (!cli) {
    return tl::unexpected(Error{cli.error().message, kUsageExit});
  }
  *action = cli->action;
  Config config;
  if (cli->action == CliAction::Help || cli->action == CliAction::Version) {
    config.domains.push_back(DomainConfig{.name = "default"});
    return config;
  }

  const auto envValue = [&](const char* name) -> std::optional<std::string> {
    const auto it = env.find(name);
    if (it == env.end()) {
      return std::nullopt;
    }
    return it->second;
  };

  std::optional<std::string> config_file = cli->config_file;
  if (!config_file) {
    config_file = envValue("SIPRECD_CONFIG");
  }
  if (config_file && !config_file->empty()) {
    if (auto ok = applyYamlFile(*config_file, config); !ok) {
      return tl::unexpected(ok.error());
    }
  }

  // Environment, then flags: later assignments win.
  std::optional<std::string> callback_base = envValue("SIPRECD_CALLBACK_BASE");
  std::optional<std::string> callback_secret = envValue("SIPRECD_CALLBACK_SECRET");
  std::optional<std::string> api_keys = envValue("SIPRECD_API_KEYS");
  if (auto v = envValue("SIPRECD_LOG_LEVEL")) {
    config.log_level = *v;
  }
  if (auto v = envValue("SIPRECD_DATA_DIR")) {
    config.data_dir = *v;
  }
  if (auto v = envValue("SIPRECD_SIP_LISTEN")) {
    config.sip_listen = splitList(*v);
  }
  if (auto v = envValue("SIPRECD_HTTP_LISTEN")) {
    config.http_listen = *v;
  }
  if (auto v = envValue("SIPRECD_MEDIA_IP")) {
    config.media_ip = *v;
  }
  if (auto v = envValue("SIPRECD_RTP_PORTS")) {
    config.rtp_ports = *v;
  }
  if (auto v = envValue("SIPRECD_NATS_URL")) {
    config.nats.url = *v;
  }

  if (cli->log_level) {
    config.log_level = *cli->log_level;
  }
  if (cli->data_dir) {
    config.data_dir = *cli->data_dir;
  }
  if (!cli->sip_listen.empty()) {
    config.sip_listen = cli->sip_listen;
  }
  if (cli->http_listen) {
    config.http_listen = *cli->http_listen;
  }
  if (cli->media_ip) {
    config.media_ip = *cli->media_ip;
  }
  if (cli->rtp_ports) {
    config.rtp_ports = *cli->rtp_ports;
  }
  if (cli->tls_certificate) {
    config.tls_certificate = *cli->tls_certificate;
  }
  if (cli->tls_private_key) {
    config.tls_private_key = *cli->tls_private_key;
  }
  if (cli->tls_ca) {
    config.tls_ca = *cli->tls_ca;
  }
  if (cli->tls_verify_client) {
    config.tls_verify_client = true;
  }
  if (cli->callback_base) {
    callback_base = cli->callback_base;
  }

  if (config.domains.empty()) {
    config.domains.push_back(DomainConfig{.name = "default"});
  }
  const bool has_default =
      std::any_of(config.domains.begin(), config.domains.end(),
                  [](const DomainConfig& domain) { return domain.name == "default"; });
  if ((callback_base || callback_secret || api_keys) && !has_default) {
    return keyError(cli->callback_base ? "--callback-base"
                    : api_keys         ? "SIPRECD_API_KEYS"
                                       : "SIPRECD_CALLBACK_BASE",
                    "applies to the domain named \"default\", which the configuration "
                    "file does not define");
  }
  if (callback_base) {
    setDefaultDomainField(config, &DomainConfig::callback_base, *callback_base);
  }
  if (callback_secret) {
    setDefaultDomainField(config, &DomainConfig::callback_secret, *callback_secret);
  }
  if (api_keys) {
    for (auto& domain : config.domains) {
      if (domain.name != "default") {
        continue;
      }
      domain.api_key_hashes.clear();
      for (const auto& key : splitList(*api_keys)) {
        auto hash = apiKeyHash(key);
        if (!hash) {
          return keyError("SIPRECD_API_KEYS", hash.error().message);
        }
        domain.api_key_hashes.push_back(*hash);
      }
    }
  }

  if (auto ok = validateConfig(config); !ok) {
    return tl::unexpected(ok.error());
  }
  return config;
}

std::map<std::string, std::string> siprecdEnvironment(char** envp) {
  std::map<std::string, std::string> env;
  for (char** entry = envp; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const auto equals = text.find('=');
    if (equals != std::string_view::npos && text.starts_with("SIPRECD_")) {
      env.emplace(std::string(text.substr(0, equals)), std::string(text.substr(equals + 1)));
    }
  }
  return env;
}

std::string configSummary(const Config& config) {
  std::string out;
  const auto line = [&out](std::string_view key, std::string_view value) {
    out += fmt::format("  {:<22} {}\n", key, value);
  };
  const auto join = [](const std::vector<std::string>& items) {
    return items.empty() ? std::string("(none)") : fmt::format("{}", fmt::join(items, ", "));
  };
  line("log_level", config.log_level);
  line("data_dir", config.data_dir.string());
  line("sip.listen", join(config.sip_listen));
  if (!config.tls_certificate.empty()) {
    line("sip.tls.certificate", config.tls_certificate);
    line("sip.tls.verify_client", config.tls_verify_client ? "true" : "false");
  }
  line("sip.max_message_bytes", std::to_string(config.sip_max_message_bytes));
  line("sip.drain", fmt::format("retry_after {} s, timeout {} s", config.drain_retry_after_s,
                                config.drain_timeout_s));
  line("http.listen", config.http_listen);
  line("media.ip", config.media_ip.empty() ? "(address the INVITE arrived on)" : config.media_ip);
  line("media.rtp_ports", config.rtp_ports);
  line("media.rtp_timeout_s", std::to_string(config.rtp_timeout_s));
  line("media.receive_backend", config.media_receive_backend);
  if (!config.nats.url.empty()) {
    // URLs may carry user:password@: print the host part only.
    std::vector<std::string> hosts;
    for (const auto& url : splitList(config.nats.url)) {
      const auto scheme = url.find("://");
      const auto at = url.rfind('@');
      hosts.push_back(at != std::string::npos && scheme != std::string::npos && at > scheme
                          ? url.substr(0, scheme + 3) + url.substr(at + 1)
                          : url);
    }
    line("nats.url",
         fmt::format("{}; events -> {}{}", fmt::join(hosts, ", "), config.nats.events_stream,
                     config.nats.commands
                         ? fmt::format("; commands <- {}", config.nats.commands_stream)
                         : std::string()));
  }
  for (const auto& domain : config.domains) {
    std::string match = domain.name == "default" ? "calls no other domain takes" : "nothing";
    if (!domain.match_hosts.empty() || !domain.match_cidrs.empty()) {
      match = fmt::format("hosts [{}] cidrs [{}]", fmt::join(domain.match_hosts, ", "),
                          fmt::join(domain.match_cidrs, ", "));
    }
    line(fmt::format("domain {}", domain.name),
         fmt::format(
             "match {}; callbacks {}{}; codecs {}{}{}", match,
             domain.callback_base.empty() ? "(none: record every call)" : domain.callback_base,
             domain.callback_secret.empty() ? "" : " (signed)", fmt::join(domain.codecs, ","),
             domain.require_siprec ? "; SIPREC required" : "",
             domain.allow_sources.empty()
                 ? std::string()
                 : fmt::format("; sources {}", fmt::join(domain.allow_sources, ", "))));
    if (!domain.sns_topic_arn.empty()) {
      line(fmt::format("domain {} sns", domain.name),
           fmt::format("events -> {}{}", domain.sns_topic_arn,
                       domain.aws.endpoint.empty() ? "" : " via " + domain.aws.endpoint));
    }
    if (!domain.sqs_queue_url.empty()) {
      line(fmt::format("domain {} sqs", domain.name),
           fmt::format("commands <- {}{}; visibility {} s, max receives {}{}", domain.sqs_queue_url,
                       domain.aws.endpoint.empty() ? "" : " via " + domain.aws.endpoint,
                       domain.sqs_visibility_timeout_s, domain.sqs_max_receives,
                       domain.sqs_dead_letter_queue_url.empty()
                           ? "; no dead-letter queue"
                           : "; dead letters -> " + domain.sqs_dead_letter_queue_url));
    }
  }
  return out;
}

bool hostMatches(std::string_view pattern, std::string_view host) {
  const auto strip = [](std::string_view text) {
    if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
      return text.substr(1, text.size() - 2);
    }
    return text;
  };
  pattern = strip(pattern);
  host = strip(host);
  if (host.empty()) {
    return false;
  }
  if (pattern.starts_with("*.")) {
    const auto suffix = pattern.substr(1);  // ".example.com"
    return host.size() > suffix.size() && iequals(host.substr(host.size() - suffix.size()), suffix);
  }
  return iequals(pattern, host);
}

const DomainConfig* matchDomain(const Config& config, std::string_view request_uri_host,
                                std::string_view to_host, std::string_view source_ip) {
  const auto source = parseIpAddress(source_ip);
  const DomainConfig* fallback = nullptr;
  for (const auto& domain : config.domains) {
    for (const auto& pattern : domain.match_hosts) {
      if (hostMatches(pattern, request_uri_host) || hostMatches(pattern, to_host)) {
        return &domain;
      }
    }
    if (source) {
      for (const auto& text : domain.match_cidrs) {
        const auto cidr = parseCidr(text);
        if (cidr && cidrContains(*cidr, *source)) {
          return &domain;
        }
      }
    }
    if (domain.name == "default") {
      fallback = &domain;
    }
  }
  return fallback;
}

bool sourceAllowed(const DomainConfig& domain, std::string_view source_ip) {
  if (domain.allow_sources.empty()) {
    return true;
  }
  return std::any_of(domain.allow_sources.begin(), domain.allow_sources.end(),
                     [&](const std::string& cidr) { return cidrContains(cidr, source_ip); });
}

}  // namespace siprecd::app
