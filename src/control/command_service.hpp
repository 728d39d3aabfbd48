#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "base/clock.hpp"
#include "control/command_handler.hpp"
#include "control/command_parser.hpp"
#include "control/domain_settings.hpp"
#include "control/live_sessions.hpp"
#include "control/recording_jobs.hpp"
#include "control/reply_token.hpp"
#include "db/repository.hpp"

namespace siprecd::control {

/// The body of an error reply: {"success": false, "error": {"code": status, "message"}}.
CommandReply commandError(int status, std::string message);

/// The command handler behind REST and the command queues (DESIGN.md §2 "Commands").
///
/// handle() answers at once; the work's completion is announced by an event. Steps: the
/// domain must be known (404); the envelope and fields must be valid (400, naming the
/// field); a `replyId` must verify and name the same domain and recording (403); with an
/// idempotency key a repeat of a command that succeeded (same domain, recording, method
/// and key) returns the first reply, also while the first is still running in this
/// process (the duplicate waits for it); the recording must exist in the domain (404)
/// and be in a state that allows the command (409); STORE/DELETE go to RecordingJobs,
/// STOP/CANCEL/PAUSE/RESUME to LiveSessions, whose error codes are answered as they are.
/// Only successful replies are kept for idempotency, so a retry after a 409 or 503 can
/// succeed. Success: 200 {"success": true, "recordingId", "method", "state" (the state
/// the command leads to: storing, deleted, ready, cancelled, paused, recording),
/// "previousState"} plus destination/format/layout for STORE.
///
/// Thread-safe. Blocks for database reads and, for live-session commands, until the SIP
/// thread has decided (at most `live_timeout`, then 503). Every dependency is borrowed and
/// must outlive the service; flush the repository before destroying it.
class CommandService final : public CommandHandler {
 public:
  CommandService(std::shared_ptr<const DomainDirectory> domains, db::Repository& repository,
                 LiveSessions& live_sessions, RecordingJobs& jobs, const ReplyTokens& reply_tokens,
                 const Clock& clock,
                 std::chrono::milliseconds live_timeout = std::chrono::seconds(5));
  ~CommandService() override;
  CommandService(const CommandService&) = delete;
  CommandService& operator=(const CommandService&) = delete;

  CommandReply handle(const CommandRequest& request) override;

 private:
  struct Idempotency;
  CommandReply execute(const DomainSettings& domain, const CommandEnvelope& envelope,
                       const CommandRequest& request);
  CommandReply applyLive(const db::RecordingRecord& record, CommandMethod method);

  std::shared_ptr<const DomainDirectory> domains_;
  db::Repository& repository_;
  LiveSessions& live_sessions_;
  RecordingJobs& jobs_;
  const ReplyTokens& reply_tokens_;
  const Clock& clock_;
  std::chrono::milliseconds live_timeout_;
  std::shared_ptr<Idempotency> idempotency_;
};

}  // namespace siprecd::control
