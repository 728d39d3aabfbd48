#include "app/cli.hpp"

#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/version.hpp"

namespace siprecd::app {
namespace {

/// argv storage for getopt_long, which may permute it.
class Args {
 public:
  explicit Args(std::vector<std::string> args) : storage_(std::move(args)) {
    storage_.insert(storage_.begin(), "siprecd");
    for (auto& arg : storage_) {
      pointers_.push_back(arg.data());
    }
    pointers_.push_back(nullptr);
  }
  int argc() const { return static_cast<int>(storage_.size()); }
  char** argv() { return pointers_.data(); }

 private:
  std::vector<std::string> storage_;
  std::vector<char*> pointers_;
};

Result<CliOptions> parse(std::vector<std::string> args) {
  Args storage(std::move(args));
  return parseCommandLine(storage.argc(), storage.argv());
}

TEST(CommandLine, ParsesEveryFlag) {
  const auto options = parse({"--config",
                              "c.yaml",
                              "--sip-listen",
                              "udp:0.0.0.0:5060,tcp:0.0.0.0:5060",
                              "--sip-listen=tls:0.0.0.0:5061",
                              "--http-listen",
                              "127.0.0.1:9",
                              "--data-dir",
                              "d",
                              "--rtp-ports",
                              "2000-3000",
                              "--media-ip",
                              "192.0.2.1",
                              "--callback-base",
                              "http://cb.example",
                              "--log-level",
                              "debug",
                              "--tls-cert",
                              "cert.pem",
                              "--tls-key",
                              "key.pem",
                              "--tls-ca",
                              "ca.pem",
                              "--tls-verify-client",
                              "--check-config"});
  ASSERT_TRUE(options) << options.error().message;
  EXPECT_EQ(options->action, CliAction::CheckConfig);
  EXPECT_EQ(options->config_file, "c.yaml");
  EXPECT_EQ(options->sip_listen,
            (std::vector<std::string>{"udp:0.0.0.0:5060", "tcp:0.0.0.0:5060", "tls:0.0.0.0:5061"}));
  EXPECT_EQ(options->http_listen, "127.0.0.1:9");
  EXPECT_EQ(options->data_dir, "d");
  EXPECT_EQ(options->rtp_ports, "2000-3000");
  EXPECT_EQ(options->media_ip, "192.0.2.1");
  EXPECT_EQ(options->callback_base, "http://cb.example");
  EXPECT_EQ(options->log_level, "debug");
  EXPECT_EQ(options->tls_certificate, "cert.pem");
  EXPECT_EQ(options->tls_private_key, "key.pem");
  EXPECT_EQ(options->tls_ca, "ca.pem");
  EXPECT_TRUE(options->tls_verify_client);
}

TEST(CommandLine, HelpWinsOverOtherActions) {
  EXPECT_EQ(parse({"--version", "--help"})->action, CliAction::Help);
  EXPECT_EQ(parse({"-h", "--check-config"})->action, CliAction::Help);
  EXPECT_EQ(parse({"-V"})->action, CliAction::Version);
  EXPECT_EQ(parse({})->action, CliAction::Run);
}

TEST(CommandLine, RejectsUnknownFlagsMissingValuesAndPositionals) {
  const auto unknown = parse({"--sip-lisen", "x"});
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("--sip-lisen"), std::string::npos);
  EXPECT_EQ(unknown.error().code, 2);
  const auto missing = parse({"--data-dir"});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("--data-dir needs a value"), std::string::npos);
  const auto positional = parse({"extra"});
  ASSERT_FALSE(positional);
  EXPECT_NE(positional.error().message.find("extra"), std::string::npos);
}

TEST(CommandLine, HelpListsEveryFlagAndEnvironmentVariable) {
  const std::string help = helpText();
  EXPECT_NE(help.find(std::string("siprecd ") + siprecd::kVersion + " - "), std::string::npos);
  for (const char* word : {"--config",           "--sip-listen",
                           "--http-listen",      "--data-dir",
                           "--rtp-ports",        "--media-ip",
                           "--callback-base",    "--log-level",
                           "--tls-cert",         "--tls-key",
                           "--tls-ca",           "--tls-verify-client",
                           "--check-config",     "--help",
                           "--version",          "SIPRECD_CONFIG",
                           "SIPRECD_SIP_LISTEN", "SIPRECD_HTTP_LISTEN",
                           "SIPRECD_DATA_DIR",   "SIPRECD_RTP_PORTS",
                           "SIPRECD_MEDIA_IP",   "SIPRECD_CALLBACK_BASE",
                           "SIPRECD_LOG_LEVEL",  "SIPRECD_CALLBACK_SECRET",
                           "20000-39999",        "127.0.0.1:8080"}) {
    EXPECT_NE(help.find(word), std::string::npos) << word;
  }
}

TEST(CliAction, CheckConfigPrintsOkAndSummary) {
  std::ostringstream out;
  std::ostringstream err;
  Config config;
  config.domains.push_back(DomainConfig{.name = "default"});
  EXPECT_EQ(handleCliAction(config, CliAction::CheckConfig, out, err), 0);
  EXPECT_EQ(out.str().rfind("configuration OK\n", 0), 0u);
  EXPECT_NE(out.str().find("sip.listen"), std::string::npos);
  EXPECT_TRUE(err.str().empty());
}

TEST(CliAction, InvalidConfigurationExitsWithTwoNamingTheKey) {
  std::ostringstream out;
  std::ostringstream err;
  const Result<Config> bad = fail("media.rtp_ports: first port must be even", 2);
  EXPECT_EQ(handleCliAction(bad, CliAction::CheckConfig, out, err), 2);
  EXPECT_NE(err.str().find("media.rtp_ports"), std::string::npos);
  EXPECT_EQ(handleCliAction(bad, CliAction::Run, out, err), 2);
}

TEST(CliAction, HelpAndVersionExitZeroAndRunContinues) {
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(handleCliAction(Config{}, CliAction::Version, out, err), 0);
  EXPECT_EQ(out.str(), "siprecd " + versionText() + "\n");
  EXPECT_EQ(versionText(), std::string(siprecd::kVersion));
  EXPECT_EQ(handleCliAction(Config{}, CliAction::Help, out, err), 0);
  EXPECT_EQ(handleCliAction(Config{}, CliAction::Run, out, err), std::nullopt);
}

}  // namespace
}  // namespace siprecd::app
