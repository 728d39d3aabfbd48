#include "app/config_control.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "app/api_key_hash.hpp"
#include "app/config.hpp"
#include "support/temp_dir.hpp"

namespace siprecd::app {
namespace {

using test_support::TempDir;

Result<Config> loadYaml(const std::string& yaml,
                        const std::map<std::string, std::string>& env = {}) {
  TempDir dir;
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

std::string errorOf(const Result<Config>& config) {
  return config ? std::string("(no error)") : config.error().message;
}

// SHA-256("test"), as `printf test | sha256sum` prints it.
constexpr const char* kTestKeyHash =
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

TEST(ApiKeyHash, HashesPlainKeysAndKeepsPrehashedOnes) {
  EXPECT_EQ(apiKeyHash("test").value(), kTestKeyHash);
  EXPECT_EQ(apiKeyHash(std::string("sha256:") +
                       "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08")
                .value(),
            kTestKeyHash);
  EXPECT_FALSE(apiKeyHash("sha256:abc"));
  EXPECT_FALSE(apiKeyHash(""));
}

TEST(ConfigControl, ReadsEveryControlPlaneKey) {
  auto config = loadYaml(R"yaml(
events: {max_age_s: 3600}
media: {threads: 2, spool_flush_ms: 250, receive_backend: io_uring, socket_buffer_bytes: 4194304,
        descriptor_reserve: 2048}
domains:
  - name: acme
    callback_base: http://127.0.0.1:9000/cb
    callback_timeout_ms: 500
    default_decision: decline
    srtp: required
    retention_hours: 24
    api:
      keys: [test, "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"]
      jwt_hs256_secret: jwtsecret
    destinations:
      archive: {type: file, path: /srv/rec, file_mode: "0600", dir_mode: "0700",
                key_template: "{domain}/{recordingId}.{ext}"}
      bucket: {type: s3, bucket: recordings, region: eu-west-1, endpoint: "http://127.0.0.1:9000",
               path_style: true, sse: "aws:kms", kms_key_id: k1, multipart_threshold_bytes: 33554432}
      upload: {type: http}
    auto_store: {destination: archive, format: flac, layout: mono}
)yaml");
  ASSERT_TRUE(config) << errorOf(config);
  EXPECT_EQ(config->events_max_age_s, 3600);
  EXPECT_EQ(config->media_threads, 2);
  EXPECT_EQ(config->spool_flush_ms, 250);
  EXPECT_EQ(config->media_receive_backend, "io_uring");
  EXPECT_EQ(config->media_socket_buffer_bytes, 4194304);
  EXPECT_EQ(config->media_descriptor_reserve, 2048);
  const DomainConfig& domain = config->domains.at(0);
  EXPECT_EQ(domain.callback_timeout_ms, 500);
  EXPECT_FALSE(domain.default_record);
  EXPECT_EQ(domain.srtp, "required");
  EXPECT_EQ(domain.retention_hours, 24);
  EXPECT_EQ(domain.api_key_hashes, (std::vector<std::string>{kTestKeyHash, kTestKeyHash}));
  EXPECT_EQ(domain.jwt_hs256_secret, "jwtsecret");
  const auto& archive = domain.destinations.at("archive");
  EXPECT_EQ(archive.type, "file");
  EXPECT_EQ(archive.path, "/srv/rec");
  EXPECT_EQ(archive.file_mode, 0600U);
  EXPECT_EQ(archive.dir_mode, 0700U);
  EXPECT_EQ(archive.key_template, "{domain}/{recordingId}.{ext}");
  const auto& bucket = domain.destinations.at("bucket");
  EXPECT_EQ(bucket.bucket, "recordings");
  EXPECT_TRUE(bucket.path_style);
  EXPECT_EQ(bucket.sse, "aws:kms");
  EXPECT_EQ(bucket.multipart_threshold_bytes, 32ULL << 20);
  ASSERT_TRUE(domain.auto_store);
  EXPECT_EQ(domain.auto_store->destination, "archive");
  EXPECT_EQ(domain.auto_store->format, "flac");
  EXPECT_EQ(domain.auto_store->layout, "mono");
}

TEST(ConfigControl, DefaultsRecordKeepFor48HoursAndAllowOptionalSrtp) {
  auto config = loadYaml("domains:\n  - name: a\n");
  ASSERT_TRUE(config) << errorOf(config);
  const DomainConfig& domain = config->domains.at(0);
  EXPECT_TRUE(domain.default_record);
  EXPECT_EQ(domain.callback_timeout_ms, 2000);
  EXPECT_EQ(domain.retention_hours, 48);
  EXPECT_EQ(domain.srtp, "optional");
  EXPECT_FALSE(domain.auto_store);
}

TEST(ConfigControl, NonLoopbackApiNeedsCredentialsOnEveryDomain) {
  auto open = loadYaml("http: {listen: 0.0.0.0:8080}\ndomains:\n  - name: a\n");
  ASSERT_FALSE(open);
  EXPECT_NE(errorOf(open).find("http.listen"), std::string::npos) << errorOf(open);
  EXPECT_NE(errorOf(open).find("\"a\""), std::string::npos) << errorOf(open);

  auto keyed =
      loadYaml("http: {listen: 0.0.0.0:8080}\ndomains:\n  - name: a\n    api: {keys: [k]}\n");
  EXPECT_TRUE(keyed) << errorOf(keyed);

  auto from_env = loadYaml("http: {listen: 0.0.0.0:8080}\n", {{"SIPRECD_API_KEYS", "k1, k2"}});
  ASSERT_TRUE(from_env) << errorOf(from_env);
  EXPECT_EQ(from_env->domains.at(0).api_key_hashes.size(), 2U);

  auto loopback = loadYaml("http: {listen: \"[::1]:8080\"}\ndomains:\n  - name: a\n");
  EXPECT_TRUE(loopback) << errorOf(loopback);
}

TEST(ConfigControl, LoopbackDetection) {
  EXPECT_TRUE(isLoopbackListen("127.0.0.1:8080"));
  EXPECT_TRUE(isLoopbackListen("127.1.2.3:0"));
  EXPECT_TRUE(isLoopbackListen("[::1]:8080"));
  EXPECT_TRUE(isLoopbackListen("localhost:8080"));
  EXPECT_FALSE(isLoopbackListen("0.0.0.0:8080"));
  EXPECT_FALSE(isLoopbackListen("[::]:8080"));
  EXPECT_FALSE(isLoopbackListen("192.0.2.1:8080"));
}

struct InvalidControlCase {
  std::string yaml;
  std::string expected;
};

void PrintTo(const InvalidControlCase& invalid, std::ostream* out) {
  *out << invalid.yaml;
}

class ConfigControlValidation : public testing::TestWithParam<InvalidControlCase> {};

TEST_P(ConfigControlValidation, RejectsWithAnErrorNamingTheKey) {
  auto config = loadYaml(GetParam().yaml);
  ASSERT_FALSE(config) << GetParam().yaml;
  EXPECT_NE(errorOf(config).find(GetParam().expected), std::string::npos) << errorOf(config);
}

INSTANTIATE_TEST_SUITE_P(
    Keys, ConfigControlValidation,
    testing::Values(
        InvalidControlCase{"domains:\n  - name: a\n    srtp: maybe\n", "domains[0].srtp"},
        InvalidControlCase{"domains:\n  - name: a\n    default_decision: ask\n",
                           "domains[0].default_decision: expected record or decline"},
        InvalidControlCase{"domains:\n  - name: a\n    callback_timeout_ms: 10\n",
                           "domains[0].callback_timeout_ms"},
        InvalidControlCase{"domains:\n  - name: a\n    retention_hours: 0\n",
                           "domains[0].retention_hours"},
        InvalidControlCase{"domains:\n  - name: a\n    api: {keys: [\"sha256:12\"]}\n",
                           "domains[0].api.keys"},
        InvalidControlCase{
            "domains:\n  - name: a\n    api: {jwt_rs256_public_key: /nonexistent.pem}\n",
            "domains[0].api.jwt_rs256_public_key: file not found"},
        InvalidControlCase{"domains:\n  - name: a\n    destinations: {x: {type: ftp}}\n",
                           "domains[0].destinations.x.type"},
        InvalidControlCase{"domains:\n  - name: a\n    destinations: {x: {type: file}}\n",
                           "domains[0].destinations.x.path"},
        InvalidControlCase{"domains:\n  - name: a\n    destinations: {x: {type: s3}}\n",
                           "domains[0].destinations.x.bucket"},
        InvalidControlCase{
            "domains:\n  - name: a\n    destinations: {x: {path: /r, file_mode: 640x}}\n",
            "domains[0].destinations.x.file_mode: expected an octal mode"},
        InvalidControlCase{"domains:\n  - name: a\n    auto_store: {destination: nowhere}\n",
                           "domains[0].auto_store.destination"},
        InvalidControlCase{"domains:\n  - name: a\n    auto_store: {format: aac}\n",
                           "domains[0].auto_store.format"},
        InvalidControlCase{"media: {spool_flush_ms: 1}\n", "media.spool_flush_ms"},
        InvalidControlCase{"media: {receive_backend: epoll}\n", "media.receive_backend"},
        InvalidControlCase{"media: {socket_buffer_bytes: 10}\n", "media.socket_buffer_bytes"},
        InvalidControlCase{"media: {descriptor_reserve: 1}\n", "media.descriptor_reserve"},
        InvalidControlCase{"events: {max_age_s: 1}\n", "events.max_age_s"}));

}  // namespace
}  // namespace siprecd::app
