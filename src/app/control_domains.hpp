#pragma once

#include <memory>

#include "app/config.hpp"
#include "base/result.hpp"
#include "control/domain_settings.hpp"

namespace siprecd::app {

/// The control plane's view of the configured domains (callbacks, credentials, retention,
/// destinations, auto-store). Builds each destination (storage::makeDestination) and adds
/// `local` — a file destination under {data_dir}/recordings — where a domain does not
/// configure its own. Reads the RS256 public key files. Fails naming the key
/// ("domains[acme].destinations.archive: ...").
Result<std::shared_ptr<const control::DomainDirectory>> buildDomainDirectory(const Config& config);

}  // namespace siprecd::app
