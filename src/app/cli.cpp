#include "app/cli.hpp"

#include <array>
#include <ranges>
#include <string_view>

#include <fmt/format.h>
#include <getopt.h>

#include "base/version.hpp"

namespace siprecd::app {
namespace {

enum Option : int {
  kOptionConfig = 'c',
  kOptionHelp = 'h',
  kOptionVersion = 'V',
  kOptionSipListen = 1000,
  kOptionHttpListen,
  kOptionDataDir,
  kOptionRtpPorts,
  kOptionMediaIp,
  kOptionCallbackBase,
  kOptionLogLevel,
  kOptionTlsCert,
  kOptionTlsKey,
  kOptionTlsCa,
  kOptionTlsVerifyClient,
  kOptionCheckConfig,
};

constexpr std::array<option, 16> kLongOptions{{
    {"config", required_argument, nullptr, kOptionConfig},
    {"sip-listen", required_argument, nullptr, kOptionSipListen},
    {"http-listen", required_argument, nullptr, kOptionHttpListen},
    {"data-dir", required_argument, nullptr, kOptionDataDir},
    {"rtp-ports", required_argument, nullptr, kOptionRtpPorts},
    {"media-ip", required_argument, nullptr, kOptionMediaIp},
    {"callback-base", required_argument, nullptr, kOptionCallbackBase},
    {"log-level", required_argument, nullptr, kOptionLogLevel},
    {"tls-cert", required_argument, nullptr, kOptionTlsCert},
    {"tls-key", required_argument, nullptr, kOptionTlsKey},
    {"tls-ca", required_argument, nullptr, kOptionTlsCa},
    {"tls-verify-client", no_argument, nullptr, kOptionTlsVerifyClient},
    {"check-config", no_argument, nullptr, kOptionCheckConfig},
    {"help", no_argument, nullptr, kOptionHelp},
    {"version", no_argument, nullptr, kOptionVersion},
    {nullptr, 0, nullptr, 0},
}};

std::string flagName(int option_code) {
  for (const auto& entry : kLongOptions) {
    if (entry.name != nullptr && entry.val == option_code) {
      return fmt::format("--{}", entry.name);
    }
  }
  return fmt::format("-{}", static_cast<char>(option_code));
}

}  // namespace

Result<CliOptions> parseCommandLine(int argc, char** argv) {
  CliOptions options;
  optind = 0;  // GNU: full re-initialisation, so parsing can run more than once
  opterr = 0;
  for (;;) {
    int index = 0;
    const int code = getopt_long(argc, argv, ":c:hV", kLongOptions.data(), &index);
    if (code == -1) {
      break;
    }
    switch (code) {
      case kOptionConfig:
        options.config_file = optarg;
        break;
      case kOptionSipListen:
        for (const auto part : std::string_view(optarg) | std::views::split(',')) {
          const std::string item(part.begin(), part.end());
          if (!item.empty()) {
            options.sip_listen.push_back(item);
          }
        }
        break;
      case kOptionHttpListen:
        options.http_listen = optarg;
        break;
      case kOptionDataDir:
        options.data_dir = optarg;
        break;
      case kOptionRtpPorts:
        options.rtp_ports = optarg;
        break;
      case kOptionMediaIp:
        options.media_ip = optarg;
        break;
      case kOptionCallbackBase:
        options.callback_base = optarg;
        break;
      case kOptionLogLevel:
        options.log_level = optarg;
        break;
      case kOptionTlsCert:
        options.tls_certificate = optarg;
        break;
      case kOptionTlsKey:
        options.tls_private_key = optarg;
        break;
      case kOptionTlsCa:
        options.tls_ca = optarg;
        break;
      case kOptionTlsVerifyClient:
        options.tls_verify_client = true;
        break;
      case kOptionCheckConfig:
        if (options.action == CliAction::Run) {
          options.action = CliAction::CheckConfig;
        }
        break;
      case kOptionHelp:
        options.action = CliAction::Help;
        break;
      case kOptionVersion:
        if (options.action != CliAction::Help) {
          options.action = CliAction::Version;
        }
        break;
      case ':':
        return fail(fmt::format("{} needs a value (see --help)", flagName(optopt)), 2);
      default: {
        const char* arg = argv[optind - 1];
        if (optopt != 0) {
          return fail(fmt::format("unknown option -{} (see --help)", static_cast<char>(optopt)), 2);
        }
        return fail(fmt::format("unknown option {} (see --help)", arg), 2);
      }
    }
  }
  if (optind < argc) {
    return fail(fmt::format("unexpected argument \"{}\" (see --help)", argv[optind]), 2);
  }
  return options;
}

std::string helpText() {
  return fmt::format(
      R"(Usage: siprecd [OPTIONS]

siprecd {} - SIPREC (RFC 7866) recording server.

Configuration precedence: built-in defaults < YAML file < SIPRECD_* environment
variables < command-line flags. Full reference: docs/configuration.md.

Options (environment variable, default):
  -c, --config FILE          YAML configuration file (SIPRECD_CONFIG; none)
      --sip-listen LIST      SIP listeners, comma-separated TRANSPORT:HOST:PORT with
                             TRANSPORT udp, tcp or tls, IPv6 hosts in brackets
                             (SIPRECD_SIP_LISTEN; udp:0.0.0.0:5060,tcp:0.0.0.0:5060)
      --http-listen HOST:PORT
                             REST API, /metrics, /healthz, /readyz
                             (SIPRECD_HTTP_LISTEN; 127.0.0.1:8080)
      --data-dir DIR         database, spool and temporary recordings
                             (SIPRECD_DATA_DIR; ./siprecd-data)
      --rtp-ports FIRST-LAST RTP/RTCP port range, FIRST even
                             (SIPRECD_RTP_PORTS; 20000-39999)
      --media-ip ADDRESS     address put in SDP answers
                             (SIPRECD_MEDIA_IP; the address the INVITE arrived on)
      --callback-base URL    callback base URL of the domain "default"
                             (SIPRECD_CALLBACK_BASE; none: every call is recorded)
      --log-level LEVEL      trace, debug, info, warn, error, critical, off
                             (SIPRECD_LOG_LEVEL; info)
      --tls-cert FILE        PEM certificate for tls listeners (none)
      --tls-key FILE         PEM private key for tls listeners (none)
      --tls-ca FILE          PEM CA bundle for client certificates (none)
      --tls-verify-client    require and verify TLS client certificates (off)
      --check-config         validate the configuration, print a summary, exit
                             (status 0 when valid, 2 when not)
  -h, --help                 print this help and exit
  -V, --version              print the version and exit

Environment only:
  SIPRECD_CALLBACK_SECRET    callback signing secret of the domain "default"
  SIPRECD_API_KEYS           comma-separated REST API keys of the domain "default"
                             (required with a non-loopback --http-listen unless the
                             file configures credentials)
  SIPRECD_NATS_URL           NATS JetStream server(s) for events and commands
)",
      kVersion);
}

std::string versionText() {
  return kVersion;
}

std::optional<int> handleCliAction(const Result<Config>& config, CliAction action,
                                   std::ostream& out, std::ostream& err) {
  if (action == CliAction::Help) {
    out << helpText();
    return 0;
  }
  if (action == CliAction::Version) {
    out << "siprecd " << versionText() << "\n";
    return 0;
  }
  if (!config) {
    err << "siprecd: invalid configuration: " << config.error().message << "\n";
    return config.error().code != 0 ? config.error().code : 2;
  }
  if (action == CliAction::CheckConfig) {
    out << "configuration OK\n" << configSummary(*config);
    return 0;
  }
  return std::nullopt;
}

}  // namespace siprecd::app
