#include "control/command_service.hpp"

#include <atomic>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <utility>

#include <fmt/format.h>

#include "base/log.hpp"
#include "base/metrics.hpp"

namespace siprecd::control {
namespace {

constexpr std::string_view kComponent = "commands";
constexpr std::size_t kMaxIdempotencyKeyLength = 255;

bool isLive(std::string_view state) {
  return state == "offered" || state == "recording" || state == "paused";
}

/// The 409 for a command that `state` does not allow, or nullopt when it may proceed.
std::optional<std::string> stateConflict(CommandMethod method, std::string_view state) {
  switch (method) {
    case CommandMethod::StoreRecording:
      if (state == "ready" || state == "stored" || state == "failed") {
        return std::nullopt;
      }
      if (isLive(state)) {
        return "the recording is still in progress; wait for RECORDINGREADY (or STOPRECORDING)";
      }
      if (state == "storing") {
        return "a store of this recording is already running";
      }
      return "the recording's audio is gone";
    case CommandMethod::DeleteRecording:
      if (state == "ready" || state == "stored" || state == "failed") {
        return std::nullopt;
      }
      if (isLive(state)) {
        return "the recording is still in progress; CANCELRECORDING discards a live recording";
      }
      if (state == "storing") {
        return "a store is running; wait for RECORDINGSTORED or RECORDINGFAILED";
      }
      return "nothing is left to delete";
    case CommandMethod::StopRecording:
    case CommandMethod::CancelRecording:
    case CommandMethod::PauseRecording:
    case CommandMethod::ResumeRecording:
      if (isLive(state)) {
        return std::nullopt;
      }
      return "the call is no longer being recorded";
  }
  return "unknown command";
}

std::string_view targetState(CommandMethod method) {
  switch (method) {
    case CommandMethod::StoreRecording:
      return "storing";
    case CommandMethod::DeleteRecording:
      return "deleted";
    case CommandMethod::StopRecording:
      return "ready";
    case CommandMethod::CancelRecording:
      return "cancelled";
    case CommandMethod::PauseRecording:
      return "paused";
    case CommandMethod::ResumeRecording:
      return "recording";
  }
  return "";
}

SessionCommand sessionCommand(CommandMethod method) {
  switch (method) {
    case CommandMethod::StopRecording:
      return SessionCommand::Stop;
    case CommandMethod::CancelRecording:
      return SessionCommand::Cancel;
    case CommandMethod::PauseRecording:
      return SessionCommand::Pause;
    default:
      return SessionCommand::Resume;
  }
}

/// A component's error as a reply: its code when it is an HTTP client/server status we
/// answer with, else 500 (an internal failure, never bad input).
CommandReply fromError(const Error& error) {
  switch (error.code) {
    case 400:
    case 403:
    case 404:
    case 409:
    case 413:
    case 429:
    case 503:
      return commandError(error.code, error.message);
    default:
      log::error(kComponent, "command failed: {} (code {})", error.message, error.code);
      return commandError(500, error.message);
  }
}

bool validIdempotencyKey(std::string_view key) {
  if (key.size() > kMaxIdempotencyKeyLength) {
    return false;
  }
  for (const char c : key) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return false;
    }
  }
  return true;
}

void countReply(const CommandRequest& request, int status) {
  metrics()
      .counter("siprecd_control_commands_total", "Commands answered, by method and status",
               {{"method", std::string(parseCommandMethod(request.method)
                                           ? commandName(*parseCommandMethod(request.method))
                                           : "UNKNOWN")},
                {"status", std::to_string(status)}})
      .inc();
}

}  // namespace

CommandReply commandError(int status, std::string message) {
  return CommandReply{status,
                      {{"success", false}, {"error", {{"code", status}, {"message", message}}}}};
}

/// Commands in flight, and completed ones whose reply is not yet persisted, by
/// domain/recording/method/key: a duplicate waits for (or reuses) the first one's reply.
struct CommandService::Idempotency {
  struct Entry {
    bool done = false;
    CommandReply reply;
  };
  std::mutex mutex;  // guards entries and every Entry
  std::condition_variable finished;
  std::map<std::string, std::shared_ptr<Entry>> entries;
};

CommandService::CommandService(std::shared_ptr<const DomainDirectory> domains,
                               db::Repository& repository, LiveSessions& live_sessions,
                               RecordingJobs& jobs, const ReplyTokens& reply_tokens,
                               const Clock& clock, std::chrono::milliseconds live_timeout)
    : domains_(std::move(domains)),
      repository_(repository),
      live_sessions_(live_sessions),
      jobs_(jobs),
      reply_tokens_(reply_tokens),
      clock_(clock),
      live_timeout_(live_timeout),
      idempotency_(std::make_shared<Idempotency>()) {}

CommandService::~CommandService() = default;

CommandReply CommandService::handle(const CommandRequest& request) {
  const auto domain_it = domains_->find(request.domain);
  if (domain_it == domains_->end() || !domain_it->second) {
    return commandError(404, fmt::format("unknown domain \"{}\"", request.domain));
  }
  const DomainSettings& domain = *domain_it->second;
  auto envelope = parseCommandEnvelope(request);
  if (!envelope) {
    countReply(request, envelope.error().code);
    return commandError(envelope.error().code, envelope.error().message);
  }
  if (envelope->reply_id) {
    const int64_t now_s = clock_.epochMs() / 1000;
    auto claims = reply_tokens_.verify(*envelope->reply_id, now_s);
    if (!claims) {
      countReply(request, 403);
      const std::string& message = claims.error().message;
      return commandError(403, message.starts_with("replyId") ? message : "replyId: " + message);
    }
    if (claims->domain != domain.name || claims->recording_id != envelope->recording_id) {
      countReply(request, 403);
      return commandError(403, "replyId: issued for another domain or recording");
    }
  }
  if (request.idempotency_key.empty()) {
    CommandReply reply = execute(domain, *envelope, request);
    countReply(request, reply.status);
    return reply;
  }
  if (!validIdempotencyKey(request.idempotency_key)) {
    return commandError(400, fmt::format("Idempotency-Key: at most {} printable characters",
                                         kMaxIdempotencyKeyLength));
  }

  const std::string method(commandName(envelope->method));
  const std::string key = fmt::format("{}\n{}\n{}\n{}", domain.name, envelope->recording_id, method,
                                      request.idempotency_key);
  std::shared_ptr<Idempotency::Entry> entry;
  {
    std::unique_lock lock(idempotency_->mutex);
    const auto it = idempotency_->entries.find(key);
    if (it != idempotency_->entries.end()) {
      auto first = it->second;
      idempotency_->finished.wait(lock, [&first] { return first->done; });
      return first->reply;
    }
    entry = std::make_shared<Idempotency::Entry>();
    idempotency_->entries.emplace(key, entry);
  }

  CommandReply reply;
  bool save = false;
  auto stored = repository_.findCommandResult(domain.name, envelope->recording_id, method,
                                              request.idempotency_key);
  if (!stored) {
    log::error(kComponent, "idempotency lookup failed: {}", stored.error().message);
    reply = commandError(503, "the state store is unavailable; retry later");
  } else if (*stored) {
    reply.status = (*stored)->status;
    reply.body = nlohmann::json::parse((*stored)->body, nullptr, false);
    if (reply.body.is_discarded()) {
      reply = commandError(500, "the stored reply of this command is unreadable");
    }
  } else {
    reply = execute(domain, *envelope, request);
    save = reply.status >= 200 && reply.status < 300;
  }
  countReply(request, reply.status);

  if (save) {
    db::CommandResult result;
    result.domain = domain.name;
    result.recording_id = envelope->recording_id;
    result.method = method;
    result.idempotency_key = request.idempotency_key;
    result.status = reply.status;
    result.body = reply.body.dump();
    result.created_ms = clock_.epochMs();
    repository_.saveCommandResult(std::move(result));
  }
  {
    std::lock_guard lock(idempotency_->mutex);
    entry->done = true;
    entry->reply = reply;
    if (!save) {
      idempotency_->entries.erase(key);
    }
  }
  idempotency_->finished.notify_all();
  if (save) {
    // Until the saved reply is readable from the store, this process answers repeats from
    // memory; afterwards the store does (and other nodes too).
    repository_.afterWrites([state = idempotency_, key] {
      std::lock_guard lock(state->mutex);
      state->entries.erase(key);
    });
  }
  return reply;
}

CommandReply CommandService::execute(const DomainSettings& domain, const CommandEnvelope& envelope,
                                     const CommandRequest& request) {
  auto found = repository_.findRecording(envelope.recording_id);
  if (!found) {
    log::error(kComponent, "recording lookup failed: {}", found.error().message);
    return commandError(503, "the state store is unavailable; retry later");
  }
  if (!*found || (*found)->domain != domain.name) {
    return commandError(404, fmt::format("recording {} not found in domain {}",
                                         envelope.recording_id, domain.name));
  }
  const db::RecordingRecord& record = **found;
  if (auto conflict = stateConflict(envelope.method, record.state)) {
    return commandError(409, fmt::format("{} not allowed in state {}: {}",
                                         commandName(envelope.method), record.state, *conflict));
  }

  nlohmann::json body = {{"success", true},
                         {"recordingId", record.id},
                         {"method", commandName(envelope.method)},
                         {"state", targetState(envelope.method)},
                         {"previousState", record.state}};
  switch (envelope.method) {
    case CommandMethod::StoreRecording: {
      RecordingTimeline timeline;
      timeline.start_ms = record.started_ms.value_or(record.created_ms);
      timeline.end_ms = record.ended_ms;
      if (!timeline.end_ms && record.duration_ms) {
        timeline.end_ms = timeline.start_ms + *record.duration_ms;
      }
      auto store = parseStoreRequest(request.body, domain, record.id, timeline);
      if (!store) {
        return commandError(400, store.error().message);
      }
      body["destination"] = store->destination;
      body["format"] = recording::toString(store->format);
      body["layout"] = recording::toString(store->layout);
      if (auto started = jobs_.store(std::move(*store)); !started) {
        return fromError(started.error());
      }
      break;
    }
    case CommandMethod::DeleteRecording:
      if (auto removed = jobs_.remove(domain.name, record.id, "command"); !removed) {
        return fromError(removed.error());
      }
      break;
    default: {
      CommandReply live = applyLive(record, envelope.method);
      if (live.status != 200) {
        return live;
      }
      break;
    }
  }
  log::info(kComponent, "{} accepted for recording {} (domain {})", commandName(envelope.method),
            record.id, domain.name);
  return CommandReply{200, std::move(body)};
}

CommandReply CommandService::applyLive(const db::RecordingRecord& record, CommandMethod method) {
  struct Outcome {
    std::promise<Result<void>> promise;
    std::atomic_flag set = ATOMIC_FLAG_INIT;
  };
  auto outcome = std::make_shared<Outcome>();
  auto future = outcome->promise.get_future();
  live_sessions_.apply(record.id, sessionCommand(method), [outcome](Result<void> result) {
    if (!outcome->set.test_and_set()) {
      outcome->promise.set_value(std::move(result));
    }
  });
  if (future.wait_for(live_timeout_) != std::future_status::ready) {
    log::warn(kComponent, "{} for {}: the live session did not answer within {} ms",
              commandName(method), record.id, live_timeout_.count());
    return commandError(503, fmt::format("the live session did not answer within {} ms; retry",
                                         live_timeout_.count()));
  }
  auto result = future.get();
  if (!result) {
    return fromError(result.error());
  }
  return CommandReply{200, nlohmann::json::object()};
}

}  // namespace siprecd::control
