#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "app/config.hpp"
#include "base/result.hpp"

namespace siprecd::app {

/// The command line, before it is merged into the configuration. Unset optionals mean
/// "not given"; list flags (--sip-listen) are comma-separated and may be repeated.
struct CliOptions {
  CliAction action = CliAction::Run;
  std::optional<std::string> config_file;
  std::vector<std::string> sip_listen;
  std::optional<std::string> http_listen;
  std::optional<std::string> data_dir;
  std::optional<std::string> rtp_ports;
  std::optional<std::string> media_ip;
  std::optional<std::string> callback_base;
  std::optional<std::string> log_level;
  std::optional<std::string> tls_certificate;
  std::optional<std::string> tls_private_key;
  std::optional<std::string> tls_ca;
  bool tls_verify_client = false;
};

/// Parses the flags with getopt_long (global state: main thread, start-up only). Fails
/// on an unknown flag, a missing argument or a positional argument, naming it.
Result<CliOptions> parseCommandLine(int argc, char** argv);

/// Completes every action but Run: prints help, version, the check-config verdict, or
/// the configuration error (to `err`). Returns the exit status, or nullopt when the
/// server should start.
std::optional<int> handleCliAction(const Result<Config>& config, CliAction action,
                                   std::ostream& out, std::ostream& err);

}  // namespace siprecd::app
