// Fuzz target for the command parser (src/control/command_parser.cpp): the input is a REST
// command body (JSON from arbitrary bytes) checked as a command envelope and as a
// STORERECORDING request with its modificationParams.
// Properties:
// - nothing crashes; failures are 400 (404 for an unknown command) with a message that
//   starts with the faulty field's JSON path;
// - an accepted envelope or store request satisfies its documented invariants;
// - re-serialised (times made absolute) and parsed again, an accepted envelope or store
//   request gives the same result.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/strings.hpp"
#include "control/command_parser.hpp"
#include "storage/key_template.hpp"

namespace {

using nlohmann::json;
using siprecd::control::CommandEnvelope;
using siprecd::control::CommandMethod;
using siprecd::control::CommandRequest;
using siprecd::control::DomainSettings;
using siprecd::control::RecordingTimeline;
using siprecd::control::StoreRequest;

/// command_parser.cpp's largest accepted time (9999-12-31T23:59:59.999Z).
constexpr int64_t kMaxTimeMs = 253402300799999;
constexpr int64_t kStartMs = 1'700'000'000'000;

void check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

class FakeDestination : public siprecd::storage::Destination {
 public:
  explicit FakeDestination(std::string_view kind) : kind_(kind) {}
  std::string_view kind() const override { return kind_; }
  siprecd::Result<siprecd::storage::StoredObject> put(const std::filesystem::path&,
                                                      std::string_view, std::string_view) override {
    return siprecd::fail("not stored by the fuzz target");
  }

 private:
  std::string_view kind_;
};

const DomainSettings& domain() {
  static const DomainSettings settings = [] {
    DomainSettings value;
    value.name = "fuzz.example";
    const auto add = [&value](const std::string& name, std::shared_ptr<FakeDestination> where) {
      value.destinations[name] = {name, std::move(where), "{domain}/{recordingId}.{ext}"};
    };
    add("local", std::make_shared<FakeDestination>("file"));
    add("archive", std::make_shared<FakeDestination>("s3"));
    add("upload", std::make_shared<FakeDestination>("http"));
    add("unset", nullptr);
    return value;
  }();
  return settings;
}

bool startsWithField(std::string_view message, std::initializer_list<std::string_view> fields) {
  for (const std::string_view field : fields) {
    if (message.starts_with(field) && message.size() > field.size() &&
        (message[field.size()] == ':' || message[field.size()] == '.' ||
         message[field.size()] == '[')) {
      return true;
    }
  }
  return false;
}

bool sameEnvelope(const CommandEnvelope& a, const CommandEnvelope& b) {
  return a.method == b.method && a.recording_id == b.recording_id && a.reply_id == b.reply_id;
}

void checkEnvelope(const std::string& path_method, const json& body) {
  CommandRequest request{"fuzz.example", path_method, body, ""};
  auto envelope = siprecd::control::parseCommandEnvelope(request);
  if (!envelope) {
    const auto& error = envelope.error();
    if (error.code == 404) {
      check(!siprecd::control::parseCommandMethod(path_method).has_value());
    } else {
      check(error.code == 400);
      check(startsWithField(error.message, {"body", "method", "recordingId", "replyId"}));
    }
    return;
  }
  check(siprecd::control::parseCommandMethod(path_method) == envelope->method);
  check(siprecd::iequals(path_method, siprecd::control::commandName(envelope->method)));
  check(!envelope->recording_id.empty() && envelope->recording_id.size() <= 128);
  check(!envelope->reply_id || !envelope->reply_id->empty());

  json again{{"method", siprecd::control::commandName(envelope->method)},
             {"recordingId", envelope->recording_id}};
  if (envelope->reply_id) {
    again["replyId"] = *envelope->reply_id;
  }
  request.body = again;
  auto reparsed = siprecd::control::parseCommandEnvelope(request);
  check(reparsed.has_value() && sameEnvelope(*reparsed, *envelope));
}

bool sameStore(const StoreRequest& a, const StoreRequest& b) {
  if (a.domain != b.domain || a.recording_id != b.recording_id || a.destination != b.destination ||
      a.key_template != b.key_template || a.url != b.url || a.format != b.format ||
      a.layout != b.layout || a.masks.size() != b.masks.size() ||
      a.trim.has_value() != b.trim.has_value()) {
    return false;
  }
  for (std::size_t i = 0; i < a.masks.size(); ++i) {
    if (a.masks[i].span.from_ms != b.masks[i].span.from_ms ||
        a.masks[i].span.to_ms != b.masks[i].span.to_ms || a.masks[i].kind != b.masks[i].kind) {
      return false;
    }
  }
  return !a.trim || (a.trim->from_ms == b.trim->from_ms && a.trim->to_ms == b.trim->to_ms);
}

bool inRange(const siprecd::recording::TimeSpan& span) {
  return span.from_ms >= 0 && span.to_ms <= kMaxTimeMs;
}

/// The request as a body again, every time absolute.
json serialise(const StoreRequest& request) {
  json body{{"destination", request.destination},
            {"format", siprecd::recording::toString(request.format)},
            {"layout", siprecd::recording::toString(request.layout)}};
  if (request.key_template) {
    body["key"] = *request.key_template;
  }
  if (!request.url.empty()) {
    body["url"] = request.url;
  }
  json params{{"absoluteTimes", true}};
  if (request.trim) {
    params["trim"] = {{"from", request.trim->from_ms}, {"to", request.trim->to_ms}};
  }
  json masks = json::array();
  for (const auto& mask : request.masks) {
    masks.push_back(
        {{"from", mask.span.from_ms},
         {"to", mask.span.to_ms},
         {"type", mask.kind == siprecd::recording::MaskKind::Beep ? "beep" : "silence"}});
  }
  if (!masks.empty()) {
    params["mask"] = std::move(masks);
  }
  body["modificationParams"] = std::move(params);
  return body;
}

void checkStore(const json& body, const RecordingTimeline& timeline) {
  auto request = siprecd::control::parseStoreRequest(body, domain(), "rec-1", timeline);
  if (!request) {
    check(request.error().code == 400);
    check(startsWithField(request.error().message, {"destination", "key", "path", "url", "format",
                                                    "layout", "modificationParams"}));
    return;
  }
  check(request->domain == "fuzz.example" && request->recording_id == "rec-1");
  const auto configured = domain().destinations.find(request->destination);
  check(configured != domain().destinations.end() || request->destination == "http");
  const bool http =
      configured == domain().destinations.end()
          ? true
          : configured->second.destination && configured->second.destination->kind() == "http";
  check(http == !request->url.empty());
  if (http) {
    check(siprecd::istartsWith(request->url, "http://") ||
          siprecd::istartsWith(request->url, "https://"));
  }
  if (request->key_template) {
    check(siprecd::storage::expandKeyTemplate(*request->key_template, {{"domain", "d"},
                                                                       {"recordingId", "r"},
                                                                       {"date", "2024-01-01"},
                                                                       {"callId", "c"},
                                                                       {"ext", "wav"}})
              .has_value());
  }
  bool absolute_representable = true;
  for (const auto& mask : request->masks) {
    check(mask.span.from_ms < mask.span.to_ms);
    absolute_representable = absolute_representable && inRange(mask.span);
  }
  if (request->trim) {
    check(request->trim->from_ms < request->trim->to_ms);
    absolute_representable = absolute_representable && inRange(*request->trim);
  }
  // Relative offsets may land past the largest absolute time the parser takes; such a
  // request has no absolute spelling.
  if (!absolute_representable) {
    return;
  }
  auto reparsed =
      siprecd::control::parseStoreRequest(serialise(*request), domain(), "rec-1", timeline);
  check(reparsed.has_value() && sameStore(*reparsed, *request));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // As api_routes.cpp builds it: a body that is not JSON reaches the parser discarded.
  const json body = json::parse(text, nullptr, /*allow_exceptions=*/false);

  // The path's method: the body's own (a queue message's), and a fixed one that may differ.
  if (body.is_object()) {
    if (const auto it = body.find("method"); it != body.end() && it->is_string()) {
      checkEnvelope(it->get<std::string>(), body);
    }
  }
  checkEnvelope("StoreRecording", body);
  checkEnvelope("DELETERECORDING", body);

  if (body.is_object()) {
    checkStore(body, RecordingTimeline{kStartMs, kStartMs + 3'600'000});
    checkStore(body, RecordingTimeline{kStartMs, std::nullopt});
  }
  return 0;
}
