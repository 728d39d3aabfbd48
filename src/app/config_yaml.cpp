#include "app/config_yaml.hpp"

#include <charconv>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "app/api_key_hash.hpp"

namespace siprecd::app {
namespace {

/// Converts one YAML document into Config fields; every error names the key path.
class YamlReader {
 public:
  explicit YamlReader(std::string_view source) : source_(source) {}

  Result<void> apply(const YAML::Node& root, Config& config) {
    if (root.IsNull()) {
      return {};
    }
    return forEachKey(root, "",
                      [&](const std::string& key, const YAML::Node& value,
                          const std::string& path) -> Result<void> {
                        if (key == "log_level") {
                          return readString(value, path, config.log_level);
                        }
                        if (key == "data_dir") {
                          std::string dir;
                          auto ok = readString(value, path, dir);
                          config.data_dir = dir;
                          return ok;
                        }
                        if (key == "sip") {
                          return applySip(value, path, config);
                        }
                        if (key == "http") {
                          return forEachKey(value, path,
                                            [&](const std::string& k, const YAML::Node& v,
                                                const std::string& p) -> Result<void> {
                                              if (k == "listen") {
                                                return readString(v, p, config.http_listen);
                                              }
                                              if (k == "rate_limit_per_s") {
                                                return readInt(v, p, config.http_rate_limit_per_s);
                                              }
                                              if (k == "rate_limit_burst") {
                                                return readInt(v, p, config.http_rate_limit_burst);
                                              }
                                              if (k == "threads") {
                                                return readInt(v, p, config.http_threads);
                                              }
                                              return unknownKey(v, p);
                                            });
                        }
                        if (key == "events") {
                          return forEachKey(value, path,
                                            [&](const std::string& k, const YAML::Node& v,
                                                const std::string& p) -> Result<void> {
                                              if (k == "max_age_s") {
                                                return readInt(v, p, config.events_max_age_s);
                                              }
                                              return unknownKey(v, p);
                                            });
                        }
                        if (key == "retention") {
                          return forEachKey(value, path,
                                            [&](const std::string& k, const YAML::Node& v,
                                                const std::string& p) -> Result<void> {
                                              if (k == "check_interval_s") {
                                                return readInt(v, p,
                                                               config.retention_check_interval_s);
                                              }
                                              return unknownKey(v, p);
                                            });
                        }
                        if (key == "media") {
                          return applyMedia(value, path, config);
                        }
                        if (key == "nats") {
                          return applyNats(value, path, config.nats);
                        }
                        if (key == "domains") {
                          return applyDomains(value, path, config);
                        }
                        return unknownKey(value, path);
                      });
  }

 private:
  using KeyVisitor = std::function<Result<void>(const std::string& key, const YAML::Node& value,
                                                const std::string& path)>;

  Result<void> applySip(const YAML::Node& node, const std::string& path, Config& config) {
    return forEachKey(
        node, path,
        [&](const std::string& key, const YAML::Node& value, const std::string& p) -> Result<void> {
          if (key == "listen") {
            return readStringList(value, p, config.sip_listen);
          }
          if (key == "tls") {
            return forEachKey(value, p,
                              [&](const std::string& k, const YAML::Node& v,
                                  const std::string& q) -> Result<void> {
                                if (k == "certificate") {
                                  return readString(v, q, config.tls_certificate);
                                }
                                if (k == "private_key") {
                                  return readString(v, q, config.tls_private_key);
                                }
                                if (k == "ca") {
                                  return readString(v, q, config.tls_ca);
                                }
                                if (k == "verify_client") {
                                  return readBool(v, q, config.tls_verify_client);
                                }
                                return unknownKey(v, q);
                              });
          }
          if (key == "max_message_bytes") {
            int64_t bytes = 0;
            auto ok = readInteger(value, p, bytes, 0, std::numeric_limits<int32_t>::max());
            config.sip_max_message_bytes = static_cast<std::size_t>(bytes);
            return ok;
          }
          if (key == "tcp_idle_timeout_s") {
            return readInt(value, p, config.sip_tcp_idle_timeout_s);
          }
          if (key == "session_min_se_s") {
            return readInt(value, p, config.session_min_se_s);
          }
          if (key == "drain_retry_after_s") {
            return readInt(value, p, config.drain_retry_after_s);
          }
          if (key == "drain_timeout_s") {
            return readInt(value, p, config.drain_timeout_s);
          }
          return unknownKey(value, p);
        });
  }

  Result<void> applyMedia(const YAML::Node& node, const std::string& path, Config& config) {
    return forEachKey(
        node, path,
        [&](const std::string& key, const YAML::Node& value, const std::string& p) -> Result<void> {
          if (key == "ip") {
            return readString(value, p, config.media_ip);
          }
          if (key == "rtp_ports") {
            return readString(value, p, config.rtp_ports);
          }
          if (key == "rtp_timeout_s") {
            return readInt(value, p, config.rtp_timeout_s);
          }
          if (key == "threads") {
            return readInt(value, p, config.media_threads);
          }
          if (key == "spool_flush_ms") {
            return readInt(value, p, config.spool_flush_ms);
          }
          if (key == "receive_backend") {
            return readString(value, p, config.media_receive_backend);
          }
          if (key == "socket_buffer_bytes") {
            return readInt(value, p, config.media_socket_buffer_bytes);
          }
          if (key == "descriptor_reserve") {
            return readInt(value, p, config.media_descriptor_reserve);
          }
          return unknownKey(value, p);
        });
  }

  Result<void> applyNats(const YAML::Node& node, const std::string& path, NatsConfig& nats) {
    return forEachKey(
        node, path,
        [&](const std::string& key, const YAML::Node& value, const std::string& p) -> Result<void> {
          for (const auto& [name, field] :
               {std::pair<std::string_view, std::string*>{"url", &nats.url},
                {"user", &nats.user},
                {"password", &nats.password},
                {"token", &nats.token},
                {"credentials", &nats.credentials},
                {"tls_ca", &nats.tls_ca},
                {"tls_certificate", &nats.tls_certificate},
                {"tls_private_key", &nats.tls_private_key},
                {"events_stream", &nats.events_stream},
                {"commands_stream", &nats.commands_stream}}) {
            if (key == name) {
              return readString(value, p, *field);
            }
          }
          if (key == "commands") {
            return readBool(value, p, nats.commands);
          }
          if (key == "replies") {
            return readBool(value, p, nats.replies);
          }
          return unknownKey(value, p);
        });
  }

  Result<void> applyDomains(const YAML::Node& node, const std::string& path, Config& config) {
    if (node.IsNull()) {
      config.domains.clear();
      return {};
    }
    if (!node.IsSequence()) {
      return error(node, path, "expected a list of domains");
    }
    std::vector<DomainConfig> domains;
    for (std::size_t i = 0; i < node.size(); ++i) {
      const std::string item_path = fmt::format("{}[{}]", path, i);
      DomainConfig domain;
      auto ok = applyDomain(node[i], item_path, domain);
      if (!ok) {
        return ok;
      }
      domains.push_back(std::move(domain));
    }
    config.domains = std::move(domains);
    return {};
  }

  Result<void> applyDomain(const YAML::Node& node, const std::string& path, DomainConfig& domain) {
    return forEachKey(
        node, path,
        [&](const std::string& key, const YAML::Node& value, const std::string& p) -> Result<void> {
          if (key == "name") {
            return readString(value, p, domain.name);
          }
          if (key == "match") {
            return forEachKey(value, p,
                              [&](const std::string& k, const YAML::Node& v,
                                  const std::string& q) -> Result<void> {
                                if (k == "hosts") {
                                  return readStringList(v, q, domain.match_hosts);
                                }
                                if (k == "cidrs") {
                                  return readStringList(v, q, domain.match_cidrs);
                                }
                                return unknownKey(v, q);
                              });
          }
          if (key == "callback_base") {
            return readString(value, p, domain.callback_base);
          }
          if (key == "callback_secret") {
            return readString(value, p, domain.callback_secret);
          }
          if (key == "require_siprec") {
            return readBool(value, p, domain.require_siprec);
          }
          if (key == "codecs") {
            return readStringList(value, p, domain.codecs);
          }
          if (key == "allow_sources") {
            return readStringList(value, p, domain.allow_sources);
          }
          if (key == "decision_delay_ms") {
            return readInt(value, p, domain.decision_delay_ms);
          }
          if (key == "callback_timeout_ms") {
            return readInt(value, p, domain.callback_timeout_ms);
          }
          if (key == "default_decision") {
            std::string decision;
            auto ok = readString(value, p, decision);
            if (ok && decision != "record" && decision != "decline") {
              return error(value, p, "expected record or decline");
            }
            domain.default_record = decision == "record";
            return ok;
          }
          if (key == "srtp") {
            return readString(value, p, domain.srtp);
          }
          if (key == "retention_hours") {
            return readInt(value, p, domain.retention_hours);
          }
          if (key == "api") {
            return applyDomainApi(value, p, domain);
          }
          if (key == "destinations") {
            return applyDestinations(value, p, domain);
          }
          if (key == "auto_store") {
            AutoStoreConfig policy;
            auto ok = forEachKey(value, p,
                                 [&](const std::string& k, const YAML::Node& v,
                                     const std::string& q) -> Result<void> {
                                   if (k == "destination") {
                                     return readString(v, q, policy.destination);
                                   }
                                   if (k == "format") {
                                     return readString(v, q, policy.format);
                                   }
                                   if (k == "layout") {
                                     return readString(v, q, policy.layout);
                                   }
                                   return unknownKey(v, q);
                                 });
            if (ok && !value.IsNull()) {
              domain.auto_store = policy;
            }
            return ok;
          }
          if (key == "sns_topic_arn") {
            return readString(value, p, domain.sns_topic_arn);
          }
          if (key == "sqs_queue_url") {
            return readString(value, p, domain.sqs_queue_url);
          }
          if (key == "sqs_dead_letter_queue_url") {
            return readString(value, p, domain.sqs_dead_letter_queue_url);
          }
          if (key == "sqs_visibility_timeout_s") {
            return readInt(value, p, domain.sqs_visibility_timeout_s);
          }
          if (key == "sqs_max_receives") {
            return readInt(value, p, domain.sqs_max_receives);
          }
          if (key == "aws") {
            return applyAws(value, p, domain.aws);
          }
          return unknownKey(value, p);
        });
  }

  Result<void> applyAws(const YAML::Node& node, const std::string& path, AwsTransportConfig& aws) {
    const std::map<std::string, std::string*> strings{
        {"region", &aws.region},
        {"endpoint", &aws.endpoint},
        {"access_key_id", &aws.access_key_id},
        {"secret_access_key", &aws.secret_access_key},
        {"session_token", &aws.session_token},
        {"profile", &aws.profile},
    };
    return forEachKey(
        node, path,
        [&](const std::string& key, const YAML::Node& value, const std::string& p) -> Result<void> {
          if (auto it = strings.find(key); it != strings.end()) {
            return readString(value, p, *it->second);
          }
          return unknownKey(value, p);
        });
  }

  Result<void> applyDomainApi(const YAML::Node& node, const std::string& path,
                              DomainConfig& domain) {
    return forEachKey(
        node, path,
        [&](const std::string& key, const YAML::Node& value, const std::string& p) -> Result<void> {
          if (key == "keys") {
            std::vector<std::string> keys;
            auto ok = readStringList(value, p, keys);
            if (!ok) {
              return ok;
            }
            domain.api_key_hashes.clear();
            for (const auto& api_key : keys) {
              auto hash = apiKeyHash(api_key);
              if (!hash) {
                return error(value, p, hash.error().message);
              }
              domain.api_key_hashes.push_back(*hash);
            }
            return {};
          }
          if (key == "jwt_hs256_secret") {
            return readString(value, p, domain.jwt_hs256_secret);
          }
          if (key == "jwt_rs256_public_key") {
            std::string file;
            auto ok = readString(value, p, file);
            domain.jwt_rs256_public_key = file;
            return ok;
          }
          return unknownKey(value, p);
        });
  }

  Result<void> applyDestinations(const YAML::Node& node, const std::string& path,
                                 DomainConfig& domain) {
    return forEachKey(node, path,
                      [&](const std::string& name, const YAML::Node& value,
                          const std::string& p) -> Result<void> {
                        DestinationConfig destination;
                        destination.name = name;
                        auto ok = applyDestination(value, p, destination);
                        if (ok) {
                          domain.destinations[name] = std::move(destination);
                        }
                        return ok;
                      });
  }

  Result<void> applyDestination(const YAML::Node& node, const std::string& path,
                                DestinationConfig& d) {
    const std::map<std::string, std::string*> strings{
        {"type", &d.type},
        {"key_template", &d.key_template},
        {"bucket", &d.bucket},
        {"region", &d.region},
        {"endpoint", &d.endpoint},
        {"access_key_id", &d.access_key_id},
        {"secret_access_key", &d.secret_access_key},
        {"session_token", &d.session_token},
        {"profile", &d.profile},
        {"sse", &d.sse},
        {"kms_key_id", &d.kms_key_id},
        {"storage_class", &d.storage_class},
    };
    return forEachKey(
        node, path,
        [&](const std::string& key, const YAML::Node& value, const std::string& p) -> Result<void> {
          if (auto it = strings.find(key); it != strings.end()) {
            return readString(value, p, *it->second);
          }
          if (key == "path") {
            std::string dir;
            auto ok = readString(value, p, dir);
            d.path = dir;
            return ok;
          }
          if (key == "file_mode" || key == "dir_mode") {
            return readMode(value, p, key == "file_mode" ? d.file_mode : d.dir_mode);
          }
          if (key == "path_style") {
            return readBool(value, p, d.path_style);
          }
          if (key == "multipart_threshold_bytes" || key == "part_size_bytes") {
            int64_t bytes = 0;
            auto ok = readInteger(value, p, bytes, 5LL << 20, 5LL << 30);
            (key == "part_size_bytes" ? d.part_size_bytes : d.multipart_threshold_bytes) =
                static_cast<uint64_t>(bytes);
            return ok;
          }
          return unknownKey(value, p);
        });
  }

  /// File modes are octal strings ("0640"); YAML would read 0640 as decimal 640.
  Result<void> readMode(const YAML::Node& node, const std::string& path, unsigned& out) {
    if (!node.IsScalar()) {
      return error(node, path, "expected an octal mode such as \"0640\"");
    }
    const std::string& text = node.Scalar();
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 8);
    if (ec != std::errc() || end != text.data() + text.size() || value > 0777) {
      return error(node, path,
                   fmt::format("expected an octal mode such as \"0640\", got \"{}\"", text));
    }
    out = value;
    return {};
  }

  Result<void> forEachKey(const YAML::Node& node, const std::string& path,
                          const KeyVisitor& visit) {
    if (node.IsNull()) {
      return {};
    }
    if (!node.IsMap()) {
      return error(node, path.empty() ? std::string("(document)") : path, "expected a mapping");
    }
    for (const auto& entry : node) {
      if (!entry.first.IsScalar()) {
        return error(entry.first, path, "keys must be plain strings");
      }
      const std::string key = entry.first.Scalar();
      const std::string key_path = path.empty() ? key : path + "." + key;
      auto ok = visit(key, entry.second, key_path);
      if (!ok) {
        return ok;
      }
    }
    return {};
  }

  Result<void> unknownKey(const YAML::Node& node, const std::string& path) {
    return error(node, path, "unknown key");
  }

  Result<void> readString(const YAML::Node& node, const std::string& path, std::string& out) {
    if (node.IsNull()) {
      out.clear();
      return {};
    }
    if (!node.IsScalar()) {
      return error(node, path, "expected a string");
    }
    out = node.Scalar();
    return {};
  }

  Result<void> readStringList(const YAML::Node& node, const std::string& path,
                              std::vector<std::string>& out) {
    std::vector<std::string> values;
    if (node.IsNull()) {
      out.clear();
      return {};
    }
    if (node.IsScalar()) {
      out = {node.Scalar()};
      return {};
    }
    if (!node.IsSequence()) {
      return error(node, path, "expected a list of strings");
    }
    for (std::size_t i = 0; i < node.size(); ++i) {
      if (!node[i].IsScalar()) {
        return error(node[i], fmt::format("{}[{}]", path, i), "expected a string");
      }
      values.push_back(node[i].Scalar());
    }
    out = std::move(values);
    return {};
  }

  Result<void> readBool(const YAML::Node& node, const std::string& path, bool& out) {
    bool value = false;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) {
      return error(node, path, "expected true or false");
    }
    out = value;
    return {};
  }

  Result<void> readInteger(const YAML::Node& node, const std::string& path, int64_t& out,
                           int64_t min, int64_t max) {
    if (!node.IsScalar()) {
      return error(node, path, "expected an integer");
    }
    const std::string& text = node.Scalar();
    int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
      return error(node, path, fmt::format("expected an integer, got \"{}\"", text));
    }
    out = value;
    return {};
  }

  Result<void> readInt(const YAML::Node& node, const std::string& path, int& out) {
    int64_t value = 0;
    auto ok = readInteger(node, path, value, std::numeric_limits<int>::min(),
                          std::numeric_limits<int>::max());
    if (ok) {
      out = static_cast<int>(value);
    }
    return ok;
  }

  tl::unexpected<Error> error(const YAML::Node& node, const std::string& path,
                              std::string_view message) const {
    const YAML::Mark mark = node.Mark();
    if (mark.is_null()) {
      return fail(fmt::format("{}: {}: {}", source_, path, message), 2);
    }
    return fail(fmt::format("{}:{}: {}: {}", source_, mark.line + 1, path, message), 2);
  }

  std::string source_;
};

}  // namespace

Result<void> applyYaml(std::string_view text, std::string_view source, Config& config) {
  try {
    const YAML::Node root = YAML::Load(std::string(text));
    return YamlReader(source).apply(root, config);
  } catch (const YAML::Exception& e) {
    return fail(fmt::format("{}:{}: invalid YAML: {}", source, e.mark.line + 1, e.msg), 2);
  } catch (const std::exception& e) {
    return fail(fmt::format("{}: invalid YAML: {}", source, e.what()), 2);
  }
}

Result<void> applyYamlFile(const std::filesystem::path& file, Config& config) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return fail(fmt::format("config file {}: cannot be read", file.string()), 2);
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return fail(fmt::format("config file {}: read error", file.string()), 2);
  }
  return applyYaml(text.str(), file.string(), config);
}

}  // namespace siprecd::app
