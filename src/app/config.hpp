#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

/// siprecd's configuration: built-in defaults < YAML file (--config / SIPRECD_CONFIG) <
/// SIPRECD_* environment variables < command-line flags. docs/configuration.md is the
/// reference for every key; keep it in step with this file.
namespace siprecd::app {

/// A named place to store recordings (DESIGN.md §2 "Destinations"). Secrets stay here,
/// never in API calls, logs or events.
struct DestinationConfig {
  std::string name;
  std::string type = "file";  ///< file | s3 | http
  /// Default key/path template: {domain} {recordingId} {date} {callId} {ext}.
  std::string key_template = "{domain}/{date}/{recordingId}.{ext}";
  // file
  std::filesystem::path path;  ///< root directory; templates cannot leave it
  unsigned file_mode = 0640;
  unsigned dir_mode = 0750;
  // s3
  std::string bucket, region = "us-east-1", endpoint;
  bool path_style = false;
  std::string access_key_id, secret_access_key, session_token, profile;
  std::string sse;  ///< "", "AES256" or "aws:kms"
  std::string kms_key_id, storage_class;
  uint64_t multipart_threshold_bytes = 16ULL << 20;
  uint64_t part_size_bytes = 8ULL << 20;
};

/// AWS access of a domain's SNS topic and SQS queues. Secrets never logged or printed.
struct AwsTransportConfig {
  /// Signing region; "": the topic ARN's / queue URL's region, else us-east-1.
  std::string region;
  /// Endpoint override for SNS and SQS ("http://127.0.0.1:4566" for a compatible server);
  /// "": https://sns.{region}.amazonaws.com and the queue URL's host.
  std::string endpoint;
  /// Credentials: these keys, else the profile, else the AWS_* environment variables, else
  /// the AWS_PROFILE/default profile of the shared credentials file.
  std::string access_key_id, secret_access_key, session_token, profile;
};

/// Every ready recording of the domain is stored without a command.
struct AutoStoreConfig {
  std::string destination = "local";
  std::string format = "wav";
  std::string layout = "stereo";
};

/// A tenant: which calls belong to it and how they are handled.
struct DomainConfig {
  /// Unique; used in REST paths (/callrecording/{name}/...): [A-Za-z0-9._-]+.
  std::string name;
  /// Request-URI or To host names that select this domain (case-insensitive; a leading
  /// "*." matches any subdomain). Empty together with match_cidrs: matches every call.
  std::vector<std::string> match_hosts;
  /// SIP source networks that select this domain.
  std::vector<std::string> match_cidrs;
  /// Base URL of the application's callbacks; empty: every call is recorded.
  std::string callback_base;
  /// HMAC key signing callback bodies. Never logged or printed.
  std::string callback_secret;
  /// Refuse INVITEs that are not SIPREC.
  bool require_siprec = false;
  /// Codec preference for SDP answers (PCMU, PCMA, G722, G729, opus, L16).
  std::vector<std::string> codecs{"PCMU", "PCMA", "G722", "opus", "G729"};
  /// SIP source networks allowed to send INVITEs for this domain; empty: any source.
  std::vector<std::string> allow_sources;
  /// Test and operations hook: the record decision is delayed this long (0..60000).
  int decision_delay_ms = 0;
  /// How long the newCall callback may take before default_record applies.
  int callback_timeout_ms = 2000;
  /// The decision when newCall times out, fails or answers nonsense ("record"/"decline").
  bool default_record = true;
  /// SRTP policy (RFC 4568 SDES): optional | required | refused.
  std::string srtp = "optional";
  /// API keys as lower-case hex SHA-256 of the key (config: "sha256:<hex>" or the plain key,
  /// hashed at load).
  std::vector<std::string> api_key_hashes;
  /// JWT bearer verification: an HS256 secret and/or an RS256 public key (PEM file).
  std::string jwt_hs256_secret;
  std::filesystem::path jwt_rs256_public_key;
  /// Recordings not deleted by command are deleted this long after they were created.
  int retention_hours = 48;
  /// Named destinations; "local" (a file destination under {data_dir}/recordings/{domain})
  /// always exists unless configured otherwise.
  std::map<std::string, DestinationConfig> destinations;
  std::optional<AutoStoreConfig> auto_store;
  /// Every event of the domain is also published to this SNS topic (ARN) when set.
  std::string sns_topic_arn;
  /// Commands are also taken from this SQS queue (URL) when set.
  std::string sqs_queue_url;
  /// Malformed or refused commands go here (SendMessage); "": they are deleted.
  std::string sqs_dead_letter_queue_url;
  /// A received command stays invisible this long (1..43200); left after a transient
  /// failure, it comes back after it.
  int sqs_visibility_timeout_s = 60;
  /// A command still failing transiently after this many receipts is moved aside (1..1000).
  int sqs_max_receives = 10;
  AwsTransportConfig aws;
};

/// NATS JetStream (DESIGN.md §2 "Commands", "Callbacks and events"; §5): every event is also
/// published on siprecd.{domain}.events.{eventName}; commands are taken from
/// siprecd.{domain}.commands. A domain name's '.' becomes '_' in subjects.
struct NatsConfig {
  /// Server URL(s), comma-separated ("nats://127.0.0.1:4222", "tls://..."); empty: NATS off.
  std::string url;
  /// Authentication (any one): user and password, a token, or a credentials file (JWT and
  /// NKey seed). Never logged or printed.
  std::string user, password, token, credentials;
  /// TLS: CA bundle (PEM) verifying the server; client certificate and key (PEM).
  std::string tls_ca, tls_certificate, tls_private_key;
  /// JetStream streams, created when missing: the events (limits retention, 7 days, on
  /// siprecd.*.events.>) and the commands (work queue, 24 hours, on siprecd.*.commands).
  std::string events_stream = "SIPRECD_EVENTS";
  std::string commands_stream = "SIPRECD_COMMANDS";
  /// Take commands from NATS (false: publish events only).
  bool commands = true;
  /// Publish each command's final reply on siprecd.{domain}.replies.
  bool replies = true;
};

struct Config {
  std::string log_level = "info";
  std::filesystem::path data_dir = "./siprecd-data";

  /// "udp|tcp|tls:HOST:PORT", IPv6 hosts in brackets ("tcp:[::]:5060").
  std::vector<std::string> sip_listen{"udp:0.0.0.0:5060", "tcp:0.0.0.0:5060"};
  std::string tls_certificate;  // PEM file; required by a tls listener
  std::string tls_private_key;  // PEM file; required by a tls listener
  std::string tls_ca;           // PEM file of CAs for client certificates
  bool tls_verify_client = false;
  std::size_t sip_max_message_bytes = 65536;
  int sip_tcp_idle_timeout_s = 300;
  /// Session-Expires floor (Min-SE, RFC 4028 section 5); at least 90.
  int session_min_se_s = 90;
  /// Retry-After of the 503 answering new INVITEs while draining.
  int drain_retry_after_s = 60;
  /// Longest a drain (SIGTERM) waits for running calls before stopping anyway.
  int drain_timeout_s = 3600;

  /// "HOST:PORT" of the REST API, metrics and health endpoints.
  std::string http_listen = "127.0.0.1:8080";
  /// REST API token bucket per (domain, credential): refill rate (0: no limit) and size.
  int http_rate_limit_per_s = 50;
  int http_rate_limit_burst = 100;
  /// HTTP threads (live-session commands may hold one for up to 5 s).
  int http_threads = 4;

  /// Address put in SDP answers; empty: the local address the INVITE arrived on.
  std::string media_ip;
  /// "FIRST-LAST", FIRST even: RTP uses even ports, RTCP the next odd one.
  std::string rtp_ports = "20000-39999";
  /// A session without RTP for this long ends (0: never).
  int rtp_timeout_s = 60;
  /// Media threads; 0: one per core.
  int media_threads = 0;
  /// Spool flush + fdatasync interval.
  int spool_flush_ms = 1000;
  /// How media threads receive: "recvmmsg" (epoll + recvmmsg) or "io_uring" (multishot
  /// receive into provided buffer rings; falls back to recvmmsg where unsupported).
  std::string media_receive_backend = "recvmmsg";
  /// SO_RCVBUF asked for each RTP/RTCP socket (capped by net.core.rmem_max).
  int media_socket_buffer_bytes = 1 << 20;
  /// Descriptors kept for everything but media streams; new streams beyond the rest get 503.
  int media_descriptor_reserve = 1024;

  /// An event not delivered within this age is marked dead (visible through the API).
  int events_max_age_s = 86400;
  /// How often the retention janitor looks for recordings past their domain's retention.
  int retention_check_interval_s = 60;

  NatsConfig nats;

  /// Never empty after loadConfig(): without configured domains, one domain "default"
  /// that matches every call.
  std::vector<DomainConfig> domains;
};

/// What the command line asked for.
enum class CliAction { Run, Help, Version, CheckConfig };

/// A parsed SIP listen spec.
struct ListenSpec {
  std::string transport;  // "udp", "tcp" or "tls"
  std::string host;       // without brackets
  uint16_t port = 0;
};
/// Parses "udp:0.0.0.0:5060", "tls:[::]:5061". Fails naming the faulty part.
Result<ListenSpec> parseListenSpec(std::string_view text);

struct HostPort {
  std::string host;  // without brackets
  uint16_t port = 0;
};
/// Parses "127.0.0.1:8080", "[::1]:8080", "localhost:0" (port 0: any free port).
Result<HostPort> parseHostPort(std::string_view text);

struct PortRange {
  uint16_t first = 0;
  uint16_t last = 0;
};
/// Parses "20000-39999": first even, first < last, both within 1024..65535.
Result<PortRange> parsePortRange(std::string_view text);

/// Checks every field; the error message starts with the key ("media.rtp_ports: ...").
/// Reads the file system only to check that configured TLS files exist.
Result<void> validateConfig(const Config& config);

/// Builds the configuration from defaults, the YAML file, `env` (SIPRECD_* variables)
/// and the command line (parsed with getopt_long; call from the main thread at start-up
/// only). Sets `*action` (never null) to what the command line asked for; for Help and
/// Version the returned configuration is the defaults and no file is read. Errors name
/// the key or flag; Error::code is the exit status to use (2).
Result<Config> loadConfig(int argc, char** argv, const std::map<std::string, std::string>& env,
                          CliAction* action);

/// What loadConfig() found: the action asked for and the configuration to use.
struct LoadedConfig {
  CliAction action = CliAction::Run;
  Config config;
};
/// The same as above, returning the action with the configuration.
Result<LoadedConfig> loadConfig(int argc, char** argv,
                                const std::map<std::string, std::string>& env);

/// The --help text: usage, every flag and environment variable with its default.
std::string helpText();
/// The version, "0.1.0" (--version prints "siprecd 0.1.0").
std::string versionText();

/// The SIPRECD_* variables of `envp` (the process environment, `environ`).
std::map<std::string, std::string> siprecdEnvironment(char** envp);

/// A human-readable summary for --check-config and the start-up log; no secrets.
std::string configSummary(const Config& config);
/// Another name for configSummary().
inline std::string describeConfig(const Config& config) {
  return configSummary(config);
}

/// Selects the domain of an INVITE: the first domain (in configuration order) whose
/// match.hosts contain the Request-URI host or the To host (see hostMatches), or whose
/// match.cidrs contain the source address. Without a match, the domain named "default"
/// if there is one (whatever its match rules); otherwise nullptr (refuse the call).
/// The pointer borrows from `config`.
const DomainConfig* matchDomain(const Config& config, std::string_view request_uri_host,
                                std::string_view to_host, std::string_view source_ip);

/// True when `source_ip` may send INVITEs for `domain` (allow_sources empty or matching).
bool sourceAllowed(const DomainConfig& domain, std::string_view source_ip);

/// True when `host` matches `pattern` ("rec.example.com" or "*.example.com"), ASCII
/// case-insensitively, brackets of IPv6 literals ignored.
bool hostMatches(std::string_view pattern, std::string_view host);

}  // namespace siprecd::app
