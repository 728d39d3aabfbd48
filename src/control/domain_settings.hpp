#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "recording/renderer.hpp"
#include "storage/destination.hpp"

namespace siprecd::control {

/// A destination as the control plane uses it: the configured object plus its default key
/// template ({domain} {recordingId} {date} {callId} {ext}).
struct NamedDestination {
  std::string name;
  std::shared_ptr<storage::Destination> destination;
  std::string key_template = "{domain}/{date}/{recordingId}.{ext}";
};

struct AutoStorePolicy {
  std::string destination = "local";
  recording::AudioFormat format = recording::AudioFormat::Wav;
  recording::ChannelLayout layout = recording::ChannelLayout::Stereo;
};

/// What the control plane knows of one domain (tenant); built by the wiring from the
/// configuration, immutable, shared between threads.
struct DomainSettings {
  std::string name;
  std::string callback_base;    ///< "" : no callbacks (every call recorded, no webhooks)
  std::string callback_secret;  ///< HMAC key of X-Siprecd-Signature; "" : unsigned
  std::chrono::milliseconds callback_timeout{2000};
  bool default_record = true;
  std::vector<std::string> api_key_hashes;  ///< lower-case hex SHA-256 of each API key
  std::string jwt_hs256_secret;
  std::string jwt_rs256_public_key_pem;  ///< PEM text; "" : none
  std::chrono::hours retention{48};
  std::map<std::string, NamedDestination> destinations;  ///< always holds "local"
  std::optional<AutoStorePolicy> auto_store;

  /// True when API requests need credentials (any key or JWT key configured).
  bool hasCredentials() const {
    return !api_key_hashes.empty() || !jwt_hs256_secret.empty() ||
           !jwt_rs256_public_key_pem.empty();
  }
};

/// Every domain by name.
using DomainDirectory = std::map<std::string, std::shared_ptr<const DomainSettings>>;

}  // namespace siprecd::control
