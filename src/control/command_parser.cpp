#include "control/command_parser.hpp"

#include <array>
#include <cmath>
#include <initializer_list>
#include <utility>

#include <fmt/format.h>

#include "base/strings.hpp"
#include "storage/key_template.hpp"

namespace siprecd::control {
namespace {

constexpr std::size_t kMaxRecordingIdLength = 128;
constexpr std::size_t kMaxFieldLength = 4096;
/// 9999-12-31T23:59:59.999Z: the largest time (and offset) accepted, so that
/// start + offset never overflows.
constexpr int64_t kMaxTimeMs = 253402300799999;

constexpr std::array<std::pair<CommandMethod, std::string_view>, 6> kMethods{{
    {CommandMethod::StoreRecording, "STORERECORDING"},
    {CommandMethod::DeleteRecording, "DELETERECORDING"},
    {CommandMethod::StopRecording, "STOPRECORDING"},
    {CommandMethod::CancelRecording, "CANCELRECORDING"},
    {CommandMethod::PauseRecording, "PAUSERECORDING"},
    {CommandMethod::ResumeRecording, "RESUMERECORDING"},
}};

tl::unexpected<Error> fieldError(std::string_view field, std::string_view problem) {
  return fail(fmt::format("{}: {}", field, problem), 400);
}

std::string_view typeName(const nlohmann::json& value) {
  return value.type_name();
}

/// A non-empty string field of at most `max_length` characters, or nullopt when absent
/// or null.
Result<std::optional<std::string>> optionalString(const nlohmann::json& object,
                                                  std::string_view field,
                                                  std::size_t max_length = kMaxFieldLength) {
  const auto it = object.find(field);
  if (it == object.end() || it->is_null()) {
    return std::nullopt;
  }
  if (!it->is_string()) {
    return fieldError(field, fmt::format("must be a string, not {}", typeName(*it)));
  }
  const auto& text = it->get_ref<const std::string&>();
  if (text.empty()) {
    return fieldError(field, "must not be empty");
  }
  if (text.size() > max_length) {
    return fieldError(field, fmt::format("longer than {} characters", max_length));
  }
  return text;
}

Result<void> rejectUnknownKeys(const nlohmann::json& object, std::string_view path,
                               std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : object.items()) {
    bool found = false;
    for (const auto name : known) {
      found = found || key == name;
    }
    if (!found) {
      return fieldError(fmt::format("{}.{}", path, key),
                        fmt::format("unknown field (expected one of: {})", fmt::join(known, ", ")));
    }
  }
  return {};
}

/// A time in milliseconds as given (relative or absolute): a non-negative JSON number.
Result<std::optional<int64_t>> timeField(const nlohmann::json& object, std::string_view path,
                                         std::string_view field) {
  const auto it = object.find(field);
  if (it == object.end()) {
    return std::nullopt;
  }
  const std::string name = fmt::format("{}.{}", path, field);
  if (!it->is_number()) {
    return fieldError(name, fmt::format("must be a number of milliseconds, not {}", typeName(*it)));
  }
  const double value = it->get<double>();
  if (!std::isfinite(value) || value < 0) {
    return fieldError(name, "must not be negative");
  }
  if (value > static_cast<double>(kMaxTimeMs)) {
    return fieldError(name, "is too large");
  }
  return static_cast<int64_t>(std::llround(value));
}

/// A {from, to} window; with `require_both` both ends must be present.
Result<recording::TimeSpan> window(const nlohmann::json& object, std::string_view path,
                                   bool require_both, const RecordingTimeline& timeline,
                                   bool absolute) {
  auto from = timeField(object, path, "from");
  if (!from) {
    return tl::unexpected(from.error());
  }
  auto to = timeField(object, path, "to");
  if (!to) {
    return tl::unexpected(to.error());
  }
  if (require_both || (!*from && !*to)) {
    if (!*from) {
      return fieldError(fmt::format("{}.from", path), "is required");
    }
    if (!*to) {
      return fieldError(fmt::format("{}.to", path), "is required");
    }
  }
  if (*from && *to && **from >= **to) {
    return fieldError(fmt::format("{}.to", path),
                      fmt::format("must be greater than from ({} >= {})", **from, **to));
  }
  const int64_t base = absolute ? 0 : timeline.start_ms;
  recording::TimeSpan span;
  span.from_ms = *from ? base + **from : timeline.start_ms;
  if (*to) {
    span.to_ms = base + **to;
  } else {
    span.to_ms = timeline.end_ms.value_or(kMaxTimeMs);
  }
  if (span.from_ms >= span.to_ms) {
    return fieldError(fmt::format("{}.from", path), "lies after the end of the recording");
  }
  return span;
}

Result<recording::Mask> parseMask(const nlohmann::json& value, const std::string& path,
                                  const RecordingTimeline& timeline, bool absolute) {
  if (!value.is_object()) {
    return fieldError(path, fmt::format("must be an object, not {}", typeName(value)));
  }
  if (auto known = rejectUnknownKeys(value, path, {"from", "to", "type"}); !known) {
    return tl::unexpected(known.error());
  }
  recording::Mask mask;
  auto span = window(value, path, true, timeline, absolute);
  if (!span) {
    return tl::unexpected(span.error());
  }
  mask.span = *span;
  const auto type = value.find("type");
  if (type != value.end()) {
    const std::string name = path + ".type";
    if (!type->is_string()) {
      return fieldError(name,
                        fmt::format("must be \"beep\" or \"silence\", not {}", typeName(*type)));
    }
    const auto& text = type->get_ref<const std::string&>();
    if (iequals(text, "beep")) {
      mask.kind = recording::MaskKind::Beep;
    } else if (iequals(text, "silence")) {
      mask.kind = recording::MaskKind::Silence;
    } else {
      return fieldError(name, fmt::format("unknown mask type \"{}\" (beep or silence)", text));
    }
  }
  return mask;
}

Result<void> parseModificationParams(const nlohmann::json& params,
                                     const RecordingTimeline& timeline, StoreRequest& request) {
  constexpr std::string_view kPath = "modificationParams";
  if (params.is_null()) {
    return {};
  }
  if (!params.is_object()) {
    return fieldError(kPath, fmt::format("must be an object, not {}", typeName(params)));
  }
  if (auto known = rejectUnknownKeys(params, kPath, {"absoluteTimes", "trim", "mask"}); !known) {
    return known;
  }
  bool absolute = false;
  if (const auto it = params.find("absoluteTimes"); it != params.end() && !it->is_null()) {
    if (!it->is_boolean()) {
      return fieldError("modificationParams.absoluteTimes",
                        fmt::format("must be true or false, not {}", typeName(*it)));
    }
    absolute = it->get<bool>();
  }
  if (const auto it = params.find("trim"); it != params.end() && !it->is_null()) {
    const std::string path = "modificationParams.trim";
    if (!it->is_object()) {
      return fieldError(path, fmt::format("must be an object, not {}", typeName(*it)));
    }
    if (auto known = rejectUnknownKeys(*it, path, {"from", "to"}); !known) {
      return known;
    }
    auto span = window(*it, path, false, timeline, absolute);
    if (!span) {
      return tl::unexpected(span.error());
    }
    request.trim = *span;
  }
  if (const auto it = params.find("mask"); it != params.end() && !it->is_null()) {
    if (it->is_array()) {
      for (std::size_t i = 0; i < it->size(); ++i) {
        auto mask =
            parseMask((*it)[i], fmt::format("modificationParams.mask[{}]", i), timeline, absolute);
        if (!mask) {
          return tl::unexpected(mask.error());
        }
        request.masks.push_back(*mask);
      }
    } else {
      auto mask = parseMask(*it, "modificationParams.mask", timeline, absolute);
      if (!mask) {
        return tl::unexpected(mask.error());
      }
      request.masks.push_back(*mask);
    }
  }
  return {};
}

}  // namespace

std::string_view commandName(CommandMethod method) {
  for (const auto& [value, name] : kMethods) {
    if (value == method) {
      return name;
    }
  }
  return "UNKNOWN";
}

std::optional<CommandMethod> parseCommandMethod(std::string_view name) {
  for (const auto& [value, text] : kMethods) {
    if (iequals(text, name)) {
      return value;
    }
  }
  return std::nullopt;
}

Result<CommandEnvelope> parseCommandEnvelope(const CommandRequest& request) {
  const auto method = parseCommandMethod(request.method);
  if (!method) {
    return fail(fmt::format("unknown command \"{}\"", request.method), 404);
  }
  const nlohmann::json& body = request.body;
  if (!body.is_object()) {
    return fieldError("body", fmt::format("must be a JSON object, not {}", typeName(body)));
  }
  CommandEnvelope envelope;
  envelope.method = *method;
  if (const auto it = body.find("method"); it != body.end() && !it->is_null()) {
    if (!it->is_string()) {
      return fieldError("method", fmt::format("must be a string, not {}", typeName(*it)));
    }
    const auto& text = it->get_ref<const std::string&>();
    if (!iequals(text, commandName(*method))) {
      return fieldError("method", fmt::format("\"{}\" does not match the command {} of the path",
                                              text, commandName(*method)));
    }
  }
  auto recording_id = optionalString(body, "recordingId", kMaxRecordingIdLength);
  if (!recording_id) {
    return tl::unexpected(recording_id.error());
  }
  if (!*recording_id) {
    return fieldError("recordingId", "is required");
  }
  envelope.recording_id = std::move(**recording_id);
  auto reply_id = optionalString(body, "replyId");
  if (!reply_id) {
    return tl::unexpected(reply_id.error());
  }
  envelope.reply_id = std::move(*reply_id);
  return envelope;
}

Result<StoreRequest> parseStoreRequest(const nlohmann::json& body, const DomainSettings& domain,
                                       std::string recording_id,
                                       const RecordingTimeline& timeline) {
  StoreRequest request;
  request.domain = domain.name;
  request.recording_id = std::move(recording_id);

  auto destination = optionalString(body, "destination");
  if (!destination) {
    return tl::unexpected(destination.error());
  }
  if (*destination) {
    request.destination = std::move(**destination);
  }
  // "http" is always available (the URL comes with the command); a configured destination
  // of kind http needs a URL too.
  const auto configured = domain.destinations.find(request.destination);
  const bool http =
      configured == domain.destinations.end()
          ? request.destination == "http"
          : configured->second.destination && configured->second.destination->kind() == "http";
  if (!http && configured == domain.destinations.end()) {
    std::vector<std::string> names;
    for (const auto& [name, unused] : domain.destinations) {
      names.push_back(name);
    }
    names.emplace_back("http");
    return fieldError("destination",
                      fmt::format("unknown destination \"{}\" for domain {} (configured: {})",
                                  request.destination, domain.name, fmt::join(names, ", ")));
  }

  auto key = optionalString(body, "key");
  auto path = optionalString(body, "path");
  if (!key) {
    return tl::unexpected(key.error());
  }
  if (!path) {
    return tl::unexpected(path.error());
  }
  if (*key && *path) {
    return fieldError("path", "key and path are alternatives; give one");
  }
  if (*key || *path) {
    // Checked here with sample values so that the message names the field; the job expands
    // it again with the recording's own.
    const std::string_view field = *key ? "key" : "path";
    const std::string& text = *key ? **key : **path;
    auto expanded = storage::expandKeyTemplate(text, {{"domain", domain.name},
                                                      {"recordingId", "recording"},
                                                      {"date", "2024-01-01"},
                                                      {"callId", "call"},
                                                      {"ext", "wav"}});
    if (!expanded) {
      return fieldError(field, expanded.error().message);
    }
    request.key_template = text;
  }

  auto url = optionalString(body, "url", 16384);
  if (!url) {
    return tl::unexpected(url.error());
  }
  if (http) {
    if (!*url) {
      return fieldError("url", "is required for the http destination (a pre-signed PUT URL)");
    }
    if (!istartsWith(**url, "https://") && !istartsWith(**url, "http://")) {
      return fieldError("url", "must be an http:// or https:// URL");
    }
    request.url = std::move(**url);
  } else if (*url) {
    return fieldError("url", fmt::format("only allowed with the http destination, not \"{}\"",
                                         request.destination));
  }

  auto format = optionalString(body, "format");
  if (!format) {
    return tl::unexpected(format.error());
  }
  if (*format) {
    auto parsed = recording::parseAudioFormat(**format);
    if (!parsed) {
      return fieldError("format",
                        fmt::format("unknown format \"{}\" (wav, flac, mp3 or opus)", **format));
    }
    request.format = *parsed;
  }
  auto layout = optionalString(body, "layout");
  if (!layout) {
    return tl::unexpected(layout.error());
  }
  if (*layout) {
    auto parsed = recording::parseChannelLayout(**layout);
    if (!parsed) {
      return fieldError(
          "layout", fmt::format("unknown layout \"{}\" (stereo, mono or multitrack)", **layout));
    }
    request.layout = *parsed;
  }

  if (const auto it = body.find("modificationParams"); it != body.end()) {
    if (auto ok = parseModificationParams(*it, timeline, request); !ok) {
      return tl::unexpected(ok.error());
    }
  }
  return request;
}

}  // namespace siprecd::control
