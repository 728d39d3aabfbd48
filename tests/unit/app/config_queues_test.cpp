#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "app/config.hpp"
#include "support/temp_dir.hpp"

namespace siprecd::app {
namespace {

using test_support::TempDir;

Result<Config> loadYaml(const TempDir& dir, const std::string& yaml) {
  const auto file = dir.write("siprecd.yaml", yaml);
  std::vector<std::string> args{"siprecd", "--config", file.string()};
  std::vector<char*> argv;
  for (auto& arg : args) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  CliAction action = CliAction::Run;
  return loadConfig(static_cast<int>(args.size()), argv.data(), {}, &action);
}

const std::string kDomain = "domains:\n  - name: acme\n";

TEST(ConfigQueues, AreOffByDefault) {
  TempDir dir;
  const auto config = loadYaml(dir, kDomain);
  ASSERT_TRUE(config) << config.error().message;
  const DomainConfig& domain = config->domains.at(0);
  EXPECT_TRUE(domain.sns_topic_arn.empty());
  EXPECT_TRUE(domain.sqs_queue_url.empty());
  EXPECT_EQ(domain.sqs_visibility_timeout_s, 60);
  EXPECT_EQ(domain.sqs_max_receives, 10);
  EXPECT_EQ(configSummary(*config).find("sqs"), std::string::npos);
}

TEST(ConfigQueues, ReadsEveryKeyAndKeepsSecretsOutOfTheSummary) {
  TempDir dir;
  const auto config = loadYaml(
      dir, kDomain +
               "    sns_topic_arn: arn:aws:sns:eu-west-1:123456789012:events\n"
               "    sqs_queue_url: https://sqs.eu-west-1.amazonaws.com/123456789012/commands\n"
               "    sqs_dead_letter_queue_url: "
               "https://sqs.eu-west-1.amazonaws.com/123456789012/dead\n"
               "    sqs_visibility_timeout_s: 120\n"
               "    sqs_max_receives: 5\n"
               "    aws:\n"
               "      region: eu-west-1\n"
               "      endpoint: http://127.0.0.1:4566\n"
               "      access_key_id: AKIAEXAMPLE\n"
               "      secret_access_key: s3cr3t-value\n"
               "      session_token: t0ken-value\n"
               "      profile: archive\n");
  ASSERT_TRUE(config) << config.error().message;
  const DomainConfig& domain = config->domains.at(0);
  EXPECT_EQ(domain.sns_topic_arn, "arn:aws:sns:eu-west-1:123456789012:events");
  EXPECT_EQ(domain.sqs_queue_url, "https://sqs.eu-west-1.amazonaws.com/123456789012/commands");
  EXPECT_EQ(domain.sqs_dead_letter_queue_url,
            "https://sqs.eu-west-1.amazonaws.com/123456789012/dead");
  EXPECT_EQ(domain.sqs_visibility_timeout_s, 120);
  EXPECT_EQ(domain.sqs_max_receives, 5);
  EXPECT_EQ(domain.aws.region, "eu-west-1");
  EXPECT_EQ(domain.aws.endpoint, "http://127.0.0.1:4566");
  EXPECT_EQ(domain.aws.access_key_id, "AKIAEXAMPLE");
  EXPECT_EQ(domain.aws.secret_access_key, "s3cr3t-value");
  EXPECT_EQ(domain.aws.session_token, "t0ken-value");
  EXPECT_EQ(domain.aws.profile, "archive");
  const std::string summary = configSummary(*config);
  EXPECT_NE(summary.find("events -> arn:aws:sns:eu-west-1:123456789012:events"), std::string::npos)
      << summary;
  EXPECT_NE(summary.find("dead letters -> "), std::string::npos) << summary;
  EXPECT_EQ(summary.find("s3cr3t"), std::string::npos) << summary;
  EXPECT_EQ(summary.find("t0ken"), std::string::npos) << summary;
}

TEST(ConfigQueues, RefusesBadValuesNamingTheKey) {
  TempDir dir;
  const std::string queue = "    sqs_queue_url: http://127.0.0.1:4566/000000000000/c\n";
  for (const auto& [yaml, key] : std::vector<std::pair<std::string, std::string>>{
           {"    sns_topic_arn: arn:aws:sqs:eu-west-1:1:events\n", "sns_topic_arn"},
           {"    sns_topic_arn: events\n", "sns_topic_arn"},
           {"    sqs_queue_url: https://sqs.eu-west-1.amazonaws.com/commands\n", "sqs_queue_url"},
           {"    sqs_queue_url: sqs://x/1/c\n", "sqs_queue_url"},
           {"    sqs_dead_letter_queue_url: http://h/1/dead\n", "sqs_dead_letter_queue_url"},
           {queue + "    sqs_dead_letter_queue_url: http://127.0.0.1:4566/000000000000/c\n",
            "sqs_dead_letter_queue_url"},
           {queue + "    sqs_visibility_timeout_s: 0\n", "sqs_visibility_timeout_s"},
           {queue + "    sqs_visibility_timeout_s: 50000\n", "sqs_visibility_timeout_s"},
           {queue + "    sqs_max_receives: 0\n", "sqs_max_receives"},
           {"    aws:\n      endpoint: 127.0.0.1:4566\n", "aws.endpoint"},
           {"    aws:\n      access_key_id: AK\n", "aws.access_key_id"},
           {"    aws:\n      session_token: t\n", "aws.session_token"},
           {"    aws:\n      region: EU_WEST\n", "aws.region"},
           {"    aws:\n      regoin: eu-west-1\n", "aws.regoin"},
       }) {
    const auto config = loadYaml(dir, kDomain + yaml);
    ASSERT_FALSE(config) << yaml;
    EXPECT_NE(config.error().message.find(key), std::string::npos)
        << yaml << " -> " << config.error().message;
  }
}

}  // namespace
}  // namespace siprecd::app
