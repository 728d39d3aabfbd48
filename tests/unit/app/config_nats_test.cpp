#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "app/config.hpp"
#include "support/temp_dir.hpp"

namespace siprecd::app {
namespace {

using test_support::TempDir;

Result<Config> loadYaml(const TempDir& dir, const std::string& yaml,
                        const std::map<std::string, std::string>& env = {}) {
  const auto file = dir.write("siprecd.yaml", yaml);
  std::vector<std::string> args{"siprecd", "--config", file.string()};
  std::vector<char*> argv;
  for (auto& arg : args) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  CliAction action = CliAction::Run;
  return loadConfig(static_cast<int>(args.size()), argv.data(), env, &action);
}

TEST(ConfigNats, IsOffByDefault) {
  TempDir dir;
  const auto config = loadYaml(dir, "log_level: info\n");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_TRUE(config->nats.url.empty());
  EXPECT_EQ(config->nats.events_stream, "SIPRECD_EVENTS");
  EXPECT_EQ(config->nats.commands_stream, "SIPRECD_COMMANDS");
  EXPECT_TRUE(config->nats.commands);
  EXPECT_TRUE(config->nats.replies);
  EXPECT_EQ(configSummary(*config).find("nats"), std::string::npos);
}

TEST(ConfigNats, ReadsEveryKeyAndHidesCredentialsInTheSummary) {
  TempDir dir;
  const auto creds = dir.write("siprecd.creds", "creds");
  const auto config = loadYaml(dir,
                               "nats:\n"
                               "  url: nats://app:pw@10.0.0.5:4222, nats://10.0.0.6:4222\n"
                               "  user: u\n"
                               "  password: p\n"
                               "  token: t\n"
                               "  credentials: " +
                                   creds.string() +
                                   "\n"
                                   "  events_stream: EV\n"
                                   "  commands_stream: CMD\n"
                                   "  commands: false\n"
                                   "  replies: false\n");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->nats.url, "nats://app:pw@10.0.0.5:4222, nats://10.0.0.6:4222");
  EXPECT_EQ(config->nats.user, "u");
  EXPECT_EQ(config->nats.password, "p");
  EXPECT_EQ(config->nats.token, "t");
  EXPECT_EQ(config->nats.credentials, creds.string());
  EXPECT_EQ(config->nats.events_stream, "EV");
  EXPECT_EQ(config->nats.commands_stream, "CMD");
  EXPECT_FALSE(config->nats.commands);
  EXPECT_FALSE(config->nats.replies);
  const std::string summary = configSummary(*config);
  EXPECT_NE(summary.find("nats://10.0.0.5:4222, nats://10.0.0.6:4222"), std::string::npos)
      << summary;
  EXPECT_EQ(summary.find("pw"), std::string::npos) << summary;
}

TEST(ConfigNats, UrlComesFromTheEnvironment) {
  TempDir dir;
  const auto config = loadYaml(dir, "log_level: info\n", {{"SIPRECD_NATS_URL", "nats://n:4222"}});
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->nats.url, "nats://n:4222");
}

TEST(ConfigNats, RefusesBadValuesNamingTheKey) {
  TempDir dir;
  for (const auto& [yaml, key] : std::vector<std::pair<std::string, std::string>>{
           {"nats: {url: \"http://x:4222\"}\n", "nats.url"},
           {"nats: {url: \" , \"}\n", "nats.url"},
           {"nats: {url: \"nats://x:4222\", user: u}\n", "nats.user"},
           {"nats: {url: \"nats://x:4222\", credentials: /nonexistent.creds}\n",
            "nats.credentials"},
           {"nats: {url: \"nats://x:4222\", events_stream: \"a.b\"}\n", "nats.events_stream"},
           {"nats: {url: \"nats://x:4222\", commands_stream: SIPRECD_EVENTS}\n",
            "nats.commands_stream"},
           {"nats: {url: \"nats://x:4222\", nope: 1}\n", "nats.nope"},
           {"nats: {url: \"nats://x:4222\"}\ndomains:\n  - name: a.b\n  - name: a_b\n",
            "domains[1].name"}}) {
    const auto config = loadYaml(dir, yaml);
    ASSERT_FALSE(config) << yaml;
    EXPECT_NE(config.error().message.find(key), std::string::npos)
        << yaml << " -> " << config.error().message;
  }
}

}  // namespace
}  // namespace siprecd::app
