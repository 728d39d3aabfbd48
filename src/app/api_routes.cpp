#include "app/api_routes.hpp"

#include <functional>
#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/log.hpp"
#include "base/metrics.hpp"
#include "base/strings.hpp"
#include "control/api_auth.hpp"
#include "control/command_parser.hpp"
#include "control/recording_api.hpp"
#include "recording/renderer.hpp"

namespace siprecd::app {
namespace {

constexpr std::string_view kComponent = "api";
constexpr std::size_t kDefaultDeadEventLimit = 100;

/// Everything the routes share; kept alive by the handlers that capture it.
struct ApiState {
  explicit ApiState(const ApiServices& services)
      : domains(services.domains),
        commands(services.commands),
        recordings(services.repository),
        limiter(services.rate_limit.requests_per_second, services.rate_limit.burst, services.clock),
        clock(services.clock) {}

  std::shared_ptr<const control::DomainDirectory> domains;
  control::CommandHandler& commands;
  control::RecordingApi recordings;
  control::RateLimiter limiter;
  const Clock& clock;
  Counter& auth_failures = metrics().counter("siprecd_http_api_auth_failures_total",
                                             "API requests refused for credentials (401/403)");
  Counter& rate_limited = metrics().counter("siprecd_http_api_rate_limited_total",
                                            "API requests refused by the rate limit (429)");
};

using DomainHandler =
    std::function<HttpResponse(const HttpRequest&, const control::DomainSettings&)>;

/// JSON that never throws on invalid UTF-8 coming from clients (replaced by U+FFFD).
std::string dumpJson(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

HttpResponse jsonResponse(int status, const nlohmann::json& body) {
  HttpResponse response;
  response.status = status;
  response.body = dumpJson(body);
  return response;
}

HttpResponse errorResponse(const Error& error) {
  const int status = error.code >= 400 && error.code <= 599 ? error.code : 500;
  return HttpResponse::jsonError(status, error.message);
}

/// Whether `authorization` is accepted by a domain other than `requested` (an API key or
/// token of another tenant: 403 rather than 401).
bool validForAnotherDomain(const control::DomainDirectory& domains, const std::string& requested,
                           const std::string& authorization, int64_t now_s) {
  for (const auto& [name, settings] : domains) {
    if (name != requested && settings && settings->hasCredentials() &&
        control::authenticateApiRequest(*settings, authorization, now_s)) {
      return true;
    }
  }
  return false;
}

/// Domain (404), credentials (401/403) and rate limit (429) before `handler`.
HttpHandler guarded(std::shared_ptr<ApiState> state, DomainHandler handler) {
  return [state = std::move(state), handler = std::move(handler)](const HttpRequest& request) {
    const std::string name = request.param("domain");
    const auto it = state->domains->find(name);
    if (it == state->domains->end() || !it->second) {
      return HttpResponse::jsonError(404, fmt::format("unknown domain \"{}\"", name));
    }
    const control::DomainSettings& domain = *it->second;
    const std::string authorization = request.header("authorization");
    const int64_t now_s = state->clock.epochMs() / 1000;
    auto principal = control::authenticateApiRequest(domain, authorization, now_s);
    if (!principal && principal.error().code == 401 && !authorization.empty() &&
        validForAnotherDomain(*state->domains, name, authorization, now_s)) {
      // Valid credentials, wrong tenant: authenticated but not authorised (DESIGN.md §2).
      principal = fail("these credentials belong to another domain", 403);
    }
    if (!principal) {
      state->auth_failures.inc();
      log::debug(kComponent, "{} {} from {} refused: {}", request.method, request.path,
                 request.remote_address, principal.error().message);
      auto response = HttpResponse::jsonError(principal.error().code, principal.error().message);
      if (principal.error().code == 401) {
        // RFC 6750 §3: the challenge, with error="invalid_token" when a token was sent.
        response.headers.emplace_back(
            "WWW-Authenticate", authorization.empty() ? std::string(R"(Bearer realm="siprecd")")
                                                      : std::string(R"(Bearer realm="siprecd", )"
                                                                    R"(error="invalid_token")"));
      }
      return response;
    }
    const int64_t retry_after_s = state->limiter.acquire(domain.name + "|" + principal->id);
    if (retry_after_s > 0) {
      state->rate_limited.inc();
      auto response = HttpResponse::jsonError(
          429, fmt::format("rate limit exceeded for domain {}; retry in {} s", domain.name,
                           retry_after_s));
      response.headers.emplace_back("Retry-After", std::to_string(retry_after_s));
      return response;
    }
    return handler(request, domain);
  };
}

HttpResponse handleCommand(ApiState& state, const HttpRequest& request,
                           const control::DomainSettings& domain) {
  const std::string command = request.param("command");
  const auto method = control::parseCommandMethod(command);
  if (!method) {
    return HttpResponse::jsonError(
        404, fmt::format("unknown command \"{}\" (storerecording, deleterecording, "
                         "stoprecording, cancelrecording, pauserecording, resumerecording)",
                         command));
  }
  control::CommandRequest command_request;
  command_request.domain = domain.name;
  command_request.method = std::string(control::commandName(*method));
  command_request.body = nlohmann::json::parse(request.body, nullptr, false);
  if (command_request.body.is_discarded()) {
    return HttpResponse::jsonError(400, "body: not valid JSON");
  }
  command_request.idempotency_key = std::string(trim(request.header("idempotency-key")));
  const control::CommandReply reply = state.commands.handle(command_request);
  return jsonResponse(reply.status, reply.body);
}

HttpResponse handleList(ApiState& state, const HttpRequest& request,
                        const control::DomainSettings& domain) {
  control::RecordingListParams params;
  params.state = request.queryParam("state");
  params.from = request.queryParam("from");
  params.to = request.queryParam("to");
  params.participant = request.queryParam("participant");
  params.cursor = request.queryParam("cursor");
  params.limit = request.queryParam("limit");
  auto page = state.recordings.list(domain.name, params);
  return page ? jsonResponse(200, *page) : errorResponse(page.error());
}

HttpResponse handleDetail(ApiState& state, const HttpRequest& request,
                          const control::DomainSettings& domain) {
  auto detail = state.recordings.get(domain.name, request.param("id"));
  return detail ? jsonResponse(200, *detail) : errorResponse(detail.error());
}

HttpResponse handleAudio(ApiState& state, const HttpRequest& request,
                         const control::DomainSettings& domain) {
  std::optional<recording::AudioFormat> format;
  if (const auto text = request.queryParam("format")) {
    auto parsed = recording::parseAudioFormat(*text);
    if (!parsed) {
      return HttpResponse::jsonError(
          400, fmt::format("format: unknown format \"{}\" (wav, flac, mp3 or opus)", *text));
    }
    format = *parsed;
  }
  auto audio = state.recordings.audio(domain.name, request.param("id"), format);
  if (!audio) {
    return errorResponse(audio.error());
  }
  return fileResponse(request, audio->path, audio->content_type);
}

HttpResponse handleMetadata(ApiState& state, const HttpRequest& request,
                            const control::DomainSettings& domain) {
  bool xml = false;
  if (const auto format = request.queryParam("format")) {
    if (*format != "xml" && *format != "json") {
      return HttpResponse::jsonError(400,
                                     fmt::format("format: \"{}\" is not xml or json", *format));
    }
    xml = *format == "xml";
  } else {
    const std::string accept = toLower(request.header("accept"));
    xml = accept.find("application/xml") != std::string::npos ||
          accept.find("application/rs-metadata+xml") != std::string::npos;
  }
  auto metadata = state.recordings.metadata(domain.name, request.param("id"));
  if (!metadata) {
    return errorResponse(metadata.error());
  }
  if (xml) {
    HttpResponse response;
    response.content_type = "application/xml";
    response.body = metadata->xml;
    return response;
  }
  nlohmann::json view = metadata->json.is_object() ? metadata->json : nlohmann::json::object();
  view["recordingId"] = request.param("id");
  return jsonResponse(200, view);
}

HttpResponse handleDeadEvents(ApiState& state, const HttpRequest& request,
                              const control::DomainSettings& domain) {
  std::size_t limit = kDefaultDeadEventLimit;
  if (const auto text = request.queryParam("limit")) {
    const auto parsed = parseUnsigned(*text);
    if (!parsed || *parsed < 1 || *parsed > 1000) {
      return HttpResponse::jsonError(400, "limit: must be an integer from 1 to 1000");
    }
    limit = static_cast<std::size_t>(*parsed);
  }
  auto events = state.recordings.deadEvents(domain.name, limit);
  return events ? jsonResponse(200, *events) : errorResponse(events.error());
}

}  // namespace

void registerApiRoutes(HttpServer& server, const ApiServices& services) {
  auto state = std::make_shared<ApiState>(services);
  const auto bind = [state](HttpResponse (*handler)(ApiState&, const HttpRequest&,
                                                    const control::DomainSettings&)) {
    return guarded(
        state, [state, handler](const HttpRequest& request, const control::DomainSettings& domain) {
          return handler(*state, request, domain);
        });
  };
  server.route("POST", "/callrecording/{domain}/{command}", bind(handleCommand));
  server.route("GET", "/callrecording/{domain}/recordings", bind(handleList));
  server.route("GET", "/callrecording/{domain}/recordings/{id}", bind(handleDetail));
  server.route("GET", "/callrecording/{domain}/recordings/{id}/audio", bind(handleAudio));
  server.route("GET", "/callrecording/{domain}/recordings/{id}/metadata", bind(handleMetadata));
  server.route("GET", "/callrecording/{domain}/events/dead", bind(handleDeadEvents));
  server.route("GET", "/openapi.yaml", [](const HttpRequest&) {
    HttpResponse response;
    response.content_type = "application/yaml";
    response.body = std::string(openApiDocument());
    return response;
  });
}

}  // namespace siprecd::app
