#include "app/control_domains.hpp"

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "storage/destination_factory.hpp"

namespace siprecd::app {
namespace {

storage::DestinationSettings destinationSettings(const DestinationConfig& config) {
  storage::DestinationSettings settings;
  settings.name = config.name;
  settings.type = config.type;
  settings.key_template = config.key_template;
  settings.path = config.path;
  settings.file_mode = config.file_mode;
  settings.dir_mode = config.dir_mode;
  settings.bucket = config.bucket;
  settings.region = config.region;
  settings.endpoint = config.endpoint;
  settings.path_style = config.path_style;
  settings.access_key_id = config.access_key_id;
  settings.secret_access_key = config.secret_access_key;
  settings.session_token = config.session_token;
  settings.profile = config.profile;
  settings.sse = config.sse;
  settings.kms_key_id = config.kms_key_id;
  settings.storage_class = config.storage_class;
  settings.multipart_threshold_bytes = config.multipart_threshold_bytes;
  settings.part_size_bytes = config.part_size_bytes;
  return settings;
}

Result<std::string> readText(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) {
    return fail("cannot read " + file.string());
  }
  return text.str();
}

Result<control::NamedDestination> namedDestination(const DestinationConfig& config,
                                                   const std::string& key) {
  auto destination = storage::makeDestination(destinationSettings(config));
  if (!destination) {
    return fail(key + ": " + destination.error().message, 2);
  }
  return control::NamedDestination{config.name, *destination, config.key_template};
}

Result<control::DomainSettings> domainSettings(const Config& config, const DomainConfig& domain) {
  control::DomainSettings settings;
  settings.name = domain.name;
  settings.callback_base = domain.callback_base;
  settings.callback_secret = domain.callback_secret;
  settings.callback_timeout = std::chrono::milliseconds(domain.callback_timeout_ms);
  settings.default_record = domain.default_record;
  settings.api_key_hashes = domain.api_key_hashes;
  settings.jwt_hs256_secret = domain.jwt_hs256_secret;
  if (!domain.jwt_rs256_public_key.empty()) {
    auto pem = readText(domain.jwt_rs256_public_key);
    if (!pem) {
      return fail(
          fmt::format("domains[{}].api.jwt_rs256_public_key: {}", domain.name, pem.error().message),
          2);
    }
    settings.jwt_rs256_public_key_pem = std::move(*pem);
  }
  settings.retention = std::chrono::hours(domain.retention_hours);
  for (const auto& [name, destination] : domain.destinations) {
    auto named = namedDestination(destination,
                                  fmt::format("domains[{}].destinations.{}", domain.name, name));
    if (!named) {
      return tl::unexpected(named.error());
    }
    settings.destinations.emplace(name, std::move(*named));
  }
  if (!settings.destinations.contains("local")) {
    DestinationConfig local;
    local.name = "local";
    local.type = "file";
    local.path = config.data_dir / "recordings";
    auto named = namedDestination(local, fmt::format("domains[{}] local destination", domain.name));
    if (!named) {
      return tl::unexpected(named.error());
    }
    settings.destinations.emplace("local", std::move(*named));
  }
  if (domain.auto_store) {
    control::AutoStorePolicy policy;
    policy.destination = domain.auto_store->destination;
    auto format = recording::parseAudioFormat(domain.auto_store->format);
    auto layout = recording::parseChannelLayout(domain.auto_store->layout);
    if (!format || !layout) {
      return fail(fmt::format("domains[{}].auto_store: {}", domain.name,
                              !format ? format.error().message : layout.error().message),
                  2);
    }
    policy.format = *format;
    policy.layout = *layout;
    settings.auto_store = policy;
  }
  return settings;
}

}  // namespace

Result<std::shared_ptr<const control::DomainDirectory>> buildDomainDirectory(const Config& config) {
  auto directory = std::make_shared<control::DomainDirectory>();
  for (const auto& domain : config.domains) {
    auto settings = domainSettings(config, domain);
    if (!settings) {
      return tl::unexpected(settings.error());
    }
    directory->emplace(domain.name,
                       std::make_shared<const control::DomainSettings>(std::move(*settings)));
  }
  return std::shared_ptr<const control::DomainDirectory>(std::move(directory));
}

}  // namespace siprecd::app
