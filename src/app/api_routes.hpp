#pragma once

#include <memory>
#include <string_view>

#include "app/http_server.hpp"
#include "base/clock.hpp"
#include "control/command_handler.hpp"
#include "control/domain_settings.hpp"
#include "db/repository.hpp"

/// The REST API (DESIGN.md §2, docs/openapi.yaml) on app::HttpServer: adapts HTTP requests
/// to the control plane's command handler and read side.
namespace siprecd::app {

/// Per-client request limits: a token bucket per (domain, credential) that holds `burst`
/// requests and refills at `requests_per_second`; over the limit: 429 with Retry-After.
/// `requests_per_second` 0 disables limiting.
struct ApiRateLimit {
  double requests_per_second = 50;
  double burst = 100;
};

/// What the API routes use; every reference is borrowed and must outlive the HttpServer's
/// serving (stop the server first).
struct ApiServices {
  std::shared_ptr<const control::DomainDirectory> domains;
  control::CommandHandler& commands;  ///< the CommandService shared with the queues
  db::Repository& repository;         ///< read side
  const Clock& clock;                 ///< JWT times and rate-limit buckets
  ApiRateLimit rate_limit;
};

/// Registers, before `server.start()`:
///   POST /callrecording/{domain}/{command}             the six commands (lower-case names)
///   GET  /callrecording/{domain}/recordings            list (state, from, to, participant,
///                                                      cursor, limit)
///   GET  /callrecording/{domain}/recordings/{id}       details
///   GET  /callrecording/{domain}/recordings/{id}/audio WAV (or ?format=flac|mp3|opus), Range
///   GET  /callrecording/{domain}/recordings/{id}/metadata  JSON view, or the XML as received
///                                                      (?format=xml or Accept: application/xml)
///   GET  /callrecording/{domain}/events/dead           dead events (?limit=, default 100)
///   GET  /openapi.yaml                                 the API description (no credentials)
/// HEAD works on every GET route. Every /callrecording route first checks the domain
/// (404), then credentials (401/403, control::authenticateApiRequest), then the rate limit
/// (429). Errors are {"success": false, "error": {"code", "message"}}.
void registerApiRoutes(HttpServer& server, const ApiServices& services);

/// docs/openapi.yaml as it was at build time (embedded by src/app/CMakeLists.txt).
std::string_view openApiDocument();

}  // namespace siprecd::app
