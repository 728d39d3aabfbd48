#pragma once

#include <string>

#include "app/config.hpp"

/// Checks of the control-plane part of the configuration (callbacks, API credentials,
/// retention, destinations, auto-store), kept apart from the SIP and media checks.
namespace siprecd::app {

/// Checks a domain's control-plane fields; errors start with the key under `path`
/// ("domains[0].destinations.s3.bucket: ...").
Result<void> validateDomainControl(const DomainConfig& domain, const std::string& path);

/// True when `http_listen` binds only the loopback interface (127.0.0.0/8, ::1, localhost).
bool isLoopbackListen(const std::string& http_listen);

/// DESIGN.md §5: with the HTTP listener on a non-loopback address every domain must have
/// API credentials; otherwise siprecd refuses to start (error on http.listen).
Result<void> validateApiExposure(const Config& config);

}  // namespace siprecd::app
