#include "app/config.hpp"

#include <fstream>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "app/config_yaml.hpp"
#include "support/temp_dir.hpp"

namespace siprecd::app {
namespace {

using test_support::TempDir;

struct LoadResult {
  Result<Config> config;
  CliAction action;
};

LoadResult load(std::vector<std::string> args, const std::map<std::string, std::string>& env = {}) {
  args.insert(args.begin(), "siprecd");
  std::vector<char*> argv;
  for (auto& arg : args) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  CliAction action = CliAction::Run;
  auto config = loadConfig(static_cast<int>(args.size()), argv.data(), env, &action);
  return {std::move(config), action};
}

std::string errorOf(const LoadResult& result) {
  return result.config ? std::string("(no error)") : result.config.error().message;
}

constexpr const char* kFullExample = R"yaml(
log_level: debug
data_dir: /var/lib/siprecd
sip:
  listen: [udp:0.0.0.0:5060, "tcp:[::]:5060", tls:0.0.0.0:5061]
  tls: {certificate: CERT, private_key: KEY, ca: CA, verify_client: true}
  max_message_bytes: 131072
  tcp_idle_timeout_s: 120
  session_min_se_s: 120
  drain_retry_after_s: 30
  drain_timeout_s: 600
http: {listen: "[::1]:9090"}
media: {ip: 192.0.2.10, rtp_ports: 30000-30999, rtp_timeout_s: 20}
domains:
  - name: acme
    match: {hosts: [rec.acme.example], cidrs: [10.0.0.0/8]}
    callback_base: https://app.acme.example/siprec
    callback_secret: s3cret
    require_siprec: true
    codecs: [PCMA, PCMU]
    allow_sources: [10.1.0.0/16]
    decision_delay_ms: 250
  - name: default
)yaml";

std::string withTlsFiles(const TempDir& dir) {
  std::string text = kFullExample;
  for (const auto& [token, name] : {std::pair<std::string, std::string>{"CERT", "cert.pem"},
                                    {"KEY", "key.pem"},
                                    {"CA", "ca.pem"}}) {
    const auto file = dir.write(name, "pem");
    text.replace(text.find(token + ","), token.size(), file.string());
  }
  return text;
}

TEST(Config, DefaultsAreValidAndGetOneCatchAllDomain) {
  const auto result = load({});
  ASSERT_TRUE(result.config) << errorOf(result);
  EXPECT_EQ(result.action, CliAction::Run);
  const Config& config = *result.config;
  EXPECT_EQ(config.sip_listen, (std::vector<std::string>{"udp:0.0.0.0:5060", "tcp:0.0.0.0:5060"}));
  EXPECT_EQ(config.http_listen, "127.0.0.1:8080");
  EXPECT_EQ(config.data_dir, "./siprecd-data");
  EXPECT_EQ(config.rtp_ports, "20000-39999");
  ASSERT_EQ(config.domains.size(), 1u);
  EXPECT_EQ(config.domains[0].name, "default");
  EXPECT_EQ(matchDomain(config, "anything.example", "", "203.0.113.1"), &config.domains[0]);
}

TEST(Config, ReadsEveryKeyOfTheYamlFile) {
  TempDir dir;
  const auto file = dir.write("siprecd.yaml", withTlsFiles(dir));
  const auto result = load({"--config", file.string()});
  ASSERT_TRUE(result.config) << errorOf(result);
  const Config& c = *result.config;
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.data_dir, "/var/lib/siprecd");
  EXPECT_EQ(c.sip_listen.size(), 3u);
  EXPECT_EQ(c.sip_listen[1], "tcp:[::]:5060");
  EXPECT_TRUE(c.tls_verify_client);
  EXPECT_EQ(c.sip_max_message_bytes, 131072u);
  EXPECT_EQ(c.sip_tcp_idle_timeout_s, 120);
  EXPECT_EQ(c.session_min_se_s, 120);
  EXPECT_EQ(c.drain_retry_after_s, 30);
  EXPECT_EQ(c.drain_timeout_s, 600);
  EXPECT_EQ(c.http_listen, "[::1]:9090");
  EXPECT_EQ(c.media_ip, "192.0.2.10");
  EXPECT_EQ(c.rtp_ports, "30000-30999");
  EXPECT_EQ(c.rtp_timeout_s, 20);
  ASSERT_EQ(c.domains.size(), 2u);
  const DomainConfig& acme = c.domains[0];
  EXPECT_EQ(acme.name, "acme");
  EXPECT_EQ(acme.match_hosts, std::vector<std::string>{"rec.acme.example"});
  EXPECT_EQ(acme.match_cidrs, std::vector<std::string>{"10.0.0.0/8"});
  EXPECT_EQ(acme.callback_base, "https://app.acme.example/siprec");
  EXPECT_EQ(acme.callback_secret, "s3cret");
  EXPECT_TRUE(acme.require_siprec);
  EXPECT_EQ(acme.codecs, (std::vector<std::string>{"PCMA", "PCMU"}));
  EXPECT_EQ(acme.allow_sources, std::vector<std::string>{"10.1.0.0/16"});
  EXPECT_EQ(acme.decision_delay_ms, 250);
  EXPECT_EQ(c.domains[1].codecs,
            (std::vector<std::string>{"PCMU", "PCMA", "G722", "opus", "G729"}));
}

TEST(Config, EnvironmentOverridesFileAndFlagsOverrideEnvironment) {
  TempDir dir;
  const auto file =
      dir.write("c.yaml", "http: {listen: 127.0.0.1:1111}\nmedia: {rtp_ports: 10000-10099}\n");
  const std::map<std::string, std::string> env{
      {"SIPRECD_CONFIG", file.string()},
      {"SIPRECD_HTTP_LISTEN", "127.0.0.1:2222"},
      {"SIPRECD_SIP_LISTEN", "udp:127.0.0.1:5070, tcp:127.0.0.1:5070"},
      {"SIPRECD_LOG_LEVEL", "warn"},
      {"SIPRECD_DATA_DIR", "/tmp/env-data"},
      {"SIPRECD_MEDIA_IP", "192.0.2.1"}};
  const auto from_env = load({}, env);
  ASSERT_TRUE(from_env.config) << errorOf(from_env);
  EXPECT_EQ(from_env.config->http_listen, "127.0.0.1:2222");
  EXPECT_EQ(from_env.config->rtp_ports, "10000-10099");
  EXPECT_EQ(from_env.config->sip_listen,
            (std::vector<std::string>{"udp:127.0.0.1:5070", "tcp:127.0.0.1:5070"}));
  EXPECT_EQ(from_env.config->log_level, "warn");
  EXPECT_EQ(from_env.config->data_dir, "/tmp/env-data");
  EXPECT_EQ(from_env.config->media_ip, "192.0.2.1");

  const auto from_flags = load({"--http-listen", "127.0.0.1:3333", "--rtp-ports=12000-12999",
                                "--log-level", "error", "--sip-listen", "tcp:127.0.0.1:5080",
                                "--data-dir", "/tmp/flag-data", "--media-ip", "192.0.2.2"},
                               env);
  ASSERT_TRUE(from_flags.config) << errorOf(from_flags);
  EXPECT_EQ(from_flags.config->http_listen, "127.0.0.1:3333");
  EXPECT_EQ(from_flags.config->rtp_ports, "12000-12999");
  EXPECT_EQ(from_flags.config->log_level, "error");
  EXPECT_EQ(from_flags.config->sip_listen, std::vector<std::string>{"tcp:127.0.0.1:5080"});
  EXPECT_EQ(from_flags.config->data_dir, "/tmp/flag-data");
  EXPECT_EQ(from_flags.config->media_ip, "192.0.2.2");
}

TEST(Config, ConfigFlagBeatsConfigEnvironmentVariable) {
  TempDir dir;
  const auto env_file = dir.write("env.yaml", "log_level: warn\n");
  const auto flag_file = dir.write("flag.yaml", "log_level: trace\n");
  const auto result = load({"-c", flag_file.string()}, {{"SIPRECD_CONFIG", env_file.string()}});
  ASSERT_TRUE(result.config) << errorOf(result);
  EXPECT_EQ(result.config->log_level, "trace");
}

TEST(Config, CallbackBaseAppliesToTheDefaultDomain) {
  const auto from_env = load({}, {{"SIPRECD_CALLBACK_BASE", "http://127.0.0.1:9000/cb"},
                                  {"SIPRECD_CALLBACK_SECRET", "k"}});
  ASSERT_TRUE(from_env.config) << errorOf(from_env);
  EXPECT_EQ(from_env.config->domains[0].callback_base, "http://127.0.0.1:9000/cb");
  EXPECT_EQ(from_env.config->domains[0].callback_secret, "k");
  const auto from_flag = load({"--callback-base", "https://flag.example/cb"},
                              {{"SIPRECD_CALLBACK_BASE", "http://127.0.0.1:9000/cb"}});
  ASSERT_TRUE(from_flag.config) << errorOf(from_flag);
  EXPECT_EQ(from_flag.config->domains[0].callback_base, "https://flag.example/cb");
}

TEST(Config, CallbackBaseWithoutADefaultDomainIsAnError) {
  TempDir dir;
  const auto file = dir.write("c.yaml", "domains:\n  - name: acme\n");
  const auto result = load({"--config", file.string(), "--callback-base", "http://x.example/"});
  ASSERT_FALSE(result.config);
  EXPECT_NE(errorOf(result).find("--callback-base"), std::string::npos) << errorOf(result);
}

struct InvalidCase {
  std::string yaml;
  std::string expected;  // substring of the error
};

// Readable test names in CTest output: the YAML, not the object's bytes.
void PrintTo(const InvalidCase& invalid, std::ostream* out) {
  *out << invalid.yaml;
}

class ConfigValidation : public testing::TestWithParam<InvalidCase> {};

TEST_P(ConfigValidation, RejectsWithAnErrorNamingTheKey) {
  TempDir dir;
  const auto file = dir.write("bad.yaml", GetParam().yaml);
  const auto result = load({"--config", file.string()});
  ASSERT_FALSE(result.config) << GetParam().yaml;
  EXPECT_NE(errorOf(result).find(GetParam().expected), std::string::npos) << errorOf(result);
  EXPECT_EQ(result.config.error().code, 2);
}

INSTANTIATE_TEST_SUITE_P(
    Keys, ConfigValidation,
    testing::Values(
        InvalidCase{"sip:\n  listen: [udp:0.0.0.0:5060, sctp:0.0.0.0:5060]\n",
                    "sip.listen[1]: unknown transport \"sctp\""},
        InvalidCase{"media: {rtp_ports: 20001-30000}\n",
                    "media.rtp_ports: \"20001-30000\": first port must be even and <= last"},
        InvalidCase{"media: {rtp_ports: 30000-20000}\n", "media.rtp_ports"},
        InvalidCase{"media: {rtp_ports: 100-200}\n", "media.rtp_ports"},
        InvalidCase{"bogus_key: 1\n", "bogus_key: unknown key"},
        InvalidCase{"sip: {listne: []}\n", "sip.listne: unknown key"},
        InvalidCase{"sip: {listen: [tls:0.0.0.0:5061]}\n", "sip.tls.certificate"},
        InvalidCase{"sip: {tls: {certificate: /nonexistent/cert.pem}}\n",
                    "sip.tls.certificate: file not found"},
        InvalidCase{"sip: {listen: [udp:0.0.0.0:5060, udp:0.0.0.0:5060]}\n",
                    "sip.listen[1]: \"udp:0.0.0.0:5060\" is listed twice"},
        InvalidCase{"sip: {listen: [\"udp:::1:5060\"]}\n", "sip.listen[0]"},
        InvalidCase{"sip: {listen: [udp:0.0.0.0:70000]}\n", "sip.listen[0]"},
        InvalidCase{"sip: {max_message_bytes: lots}\n",
                    "sip.max_message_bytes: expected an integer"},
        InvalidCase{"sip: {session_min_se_s: 60}\n", "sip.session_min_se_s: must be at least 90"},
        InvalidCase{"http: {listen: localhost}\n", "http.listen"},
        InvalidCase{"media: {ip: not-an-ip}\n", "media.ip"},
        InvalidCase{"log_level: loud\n", "log_level: unknown log level"},
        InvalidCase{"domains:\n  - name: a\n  - name: a\n",
                    "domains[1].name: duplicate domain name \"a\""},
        InvalidCase{"domains:\n  - name: a/b\n", "domains[0].name"},
        InvalidCase{"domains:\n  - name: a\n    match: {cidrs: [10.0.0.0/99]}\n",
                    "domains[0].match.cidrs[0]"},
        InvalidCase{"domains:\n  - name: a\n    allow_sources: [nope]\n",
                    "domains[0].allow_sources[0]"},
        InvalidCase{"domains:\n  - name: a\n    codecs: [PCMU, AMR]\n",
                    "domains[0].codecs[1]: unknown codec \"AMR\""},
        InvalidCase{"domains:\n  - name: a\n    callback_base: ftp://x\n",
                    "domains[0].callback_base"},
        InvalidCase{"domains:\n  - name: a\n    require_siprec: maybe\n",
                    "domains[0].require_siprec: expected true or false"},
        InvalidCase{"domains:\n  - name: a\n    colour: blue\n", "domains[0].colour: unknown key"},
        InvalidCase{"domains:\n  - name: a\n    decision_delay_ms: -1\n",
                    "domains[0].decision_delay_ms"},
        InvalidCase{"sip: [1, 2]\n", "sip: expected a mapping"},
        InvalidCase{"sip: {listen: [udp:0.0.0.0:5060\n", "invalid YAML"}));

TEST(Config, YamlErrorsNameTheFileAndLine) {
  Config config;
  const auto result = applyYaml("log_level: info\nsip:\n  nope: 1\n", "my.yaml", config);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message, "my.yaml:3: sip.nope: unknown key");
}

TEST(Config, LoadedConfigCarriesTheAction) {
  std::string program = "siprecd";
  std::string flag = "--check-config";
  std::vector<char*> argv{program.data(), flag.data(), nullptr};
  const auto loaded = loadConfig(2, argv.data(), {});
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->action, CliAction::CheckConfig);
  EXPECT_EQ(loaded->config.domains.size(), 1u);
  EXPECT_EQ(describeConfig(loaded->config), configSummary(loaded->config));
}

TEST(Config, MissingConfigFileIsAnError) {
  const auto result = load({"--config", "/nonexistent/siprecd.yaml"});
  ASSERT_FALSE(result.config);
  EXPECT_NE(errorOf(result).find("/nonexistent/siprecd.yaml"), std::string::npos);
}

TEST(Config, EnvironmentValuesAreValidatedToo) {
  const auto result = load({}, {{"SIPRECD_RTP_PORTS", "3-1"}});
  ASSERT_FALSE(result.config);
  EXPECT_NE(errorOf(result).find("media.rtp_ports"), std::string::npos);
}

TEST(ListenSpec, ParsesTransportsAndBracketedIpv6) {
  const auto v4 = parseListenSpec("udp:0.0.0.0:5060");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->transport, "udp");
  EXPECT_EQ(v4->host, "0.0.0.0");
  EXPECT_EQ(v4->port, 5060);
  const auto v6 = parseListenSpec("TLS:[2001:db8::1]:5061");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->transport, "tls");
  EXPECT_EQ(v6->host, "2001:db8::1");
  EXPECT_EQ(v6->port, 5061);
  EXPECT_FALSE(parseListenSpec("tcp:example.com"));
  EXPECT_FALSE(parseListenSpec("tcp:[::1:5060"));
  EXPECT_FALSE(parseListenSpec("tcp:[zz::1]:5060"));
  EXPECT_FALSE(parseListenSpec("udp:0.0.0.0:0"));
}

TEST(HostPort, AcceptsPortZeroAndNames) {
  const auto any = parseHostPort("127.0.0.1:0");
  ASSERT_TRUE(any);
  EXPECT_EQ(any->port, 0);
  const auto named = parseHostPort("localhost:8080");
  ASSERT_TRUE(named);
  EXPECT_EQ(named->host, "localhost");
  EXPECT_FALSE(parseHostPort("127.0.0.1:"));
  EXPECT_FALSE(parseHostPort("::1:8080"));
}

TEST(PortRange, RequiresEvenFirstPortBelowLast) {
  const auto range = parsePortRange("20000-39999");
  ASSERT_TRUE(range);
  EXPECT_EQ(range->first, 20000);
  EXPECT_EQ(range->last, 39999);
  EXPECT_FALSE(parsePortRange("20000-20000"));
  EXPECT_FALSE(parsePortRange("20000"));
  EXPECT_FALSE(parsePortRange("20000-70000"));
}

Config domainsConfig() {
  Config config;
  DomainConfig acme{.name = "acme", .match_hosts = {"rec.acme.example"}};
  DomainConfig wild{.name = "wild", .match_hosts = {"*.wild.example"}};
  DomainConfig net{.name = "net", .match_cidrs = {"10.0.0.0/8", "2001:db8::/32"}};
  DomainConfig fallback{.name = "default", .match_hosts = {"never.example"}};
  config.domains = {acme, wild, net, fallback};
  return config;
}

TEST(DomainMatching, RequestUriHostThenToHostThenSourceFirstMatchWins) {
  const Config config = domainsConfig();
  EXPECT_EQ(matchDomain(config, "REC.ACME.example", "", "192.0.2.1")->name, "acme");
  EXPECT_EQ(matchDomain(config, "192.0.2.5", "rec.acme.example", "192.0.2.1")->name, "acme");
  EXPECT_EQ(matchDomain(config, "a.wild.example", "", "10.1.1.1")->name, "wild");
  EXPECT_EQ(matchDomain(config, "wild.example", "", "10.1.1.1")->name, "net");
  EXPECT_EQ(matchDomain(config, "x", "y", "2001:db8::7")->name, "net");
  // Both acme (host) and net (source) match: configuration order decides.
  EXPECT_EQ(matchDomain(config, "rec.acme.example", "", "10.1.1.1")->name, "acme");
}

TEST(DomainMatching, FallsBackToDefaultOrNothing) {
  Config config = domainsConfig();
  EXPECT_EQ(matchDomain(config, "other.example", "", "192.0.2.1")->name, "default");
  config.domains.pop_back();
  EXPECT_EQ(matchDomain(config, "other.example", "", "192.0.2.1"), nullptr);
  // A domain without match rules is only ever chosen as the fallback "default".
  config.domains.push_back(DomainConfig{.name = "no-rules"});
  EXPECT_EQ(matchDomain(config, "other.example", "", "192.0.2.1"), nullptr);
}

TEST(DomainMatching, SourceAllowListIsCheckedSeparately) {
  DomainConfig open{.name = "open"};
  DomainConfig closed{.name = "closed", .allow_sources = {"10.1.0.0/16", "192.0.2.7"}};
  EXPECT_TRUE(sourceAllowed(open, "203.0.113.1"));
  EXPECT_TRUE(sourceAllowed(closed, "10.1.200.3"));
  EXPECT_TRUE(sourceAllowed(closed, "192.0.2.7"));
  EXPECT_FALSE(sourceAllowed(closed, "10.2.0.1"));
  EXPECT_FALSE(sourceAllowed(closed, "garbage"));
}

TEST(Config, SummaryListsSettingsButNeverSecrets) {
  TempDir dir;
  const auto file = dir.write("c.yaml", withTlsFiles(dir));
  const auto result = load({"--config", file.string()});
  ASSERT_TRUE(result.config) << errorOf(result);
  const std::string summary = configSummary(*result.config);
  EXPECT_NE(summary.find("tls:0.0.0.0:5061"), std::string::npos);
  EXPECT_NE(summary.find("https://app.acme.example/siprec"), std::string::npos);
  EXPECT_NE(summary.find("(signed)"), std::string::npos);
  EXPECT_EQ(summary.find("s3cret"), std::string::npos);
}

TEST(Config, EnvironmentFilterKeepsOnlySiprecdVariables) {
  std::string a = "SIPRECD_DATA_DIR=/x";
  std::string b = "HOME=/root";
  std::string c = "SIPRECD_EMPTY=";
  std::vector<char*> envp{a.data(), b.data(), c.data(), nullptr};
  const auto env = siprecdEnvironment(envp.data());
  EXPECT_EQ(
      env, (std::map<std::string, std::string>{{"SIPRECD_DATA_DIR", "/x"}, {"SIPRECD_EMPTY", ""}}));
}

}  // namespace
}  // namespace siprecd::app
