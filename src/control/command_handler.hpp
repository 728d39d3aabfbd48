#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace siprecd::control {

/// A command as it arrived (REST body or queue message; DESIGN.md §2 envelope).
struct CommandRequest {
  std::string domain;           ///< from the path (REST) or the queue's domain
  std::string method;           ///< upper case, "STORERECORDING"; from the path for REST
  nlohmann::json body;          ///< the envelope (method, recordingId, replyId, fields)
  std::string idempotency_key;  ///< Idempotency-Key header / message attribute; "" : none
};

/// The reply: HTTP status and JSON body ({"success": true, ...} or
/// {"success": false, "error": {"code", "message"}}).
struct CommandReply {
  int status = 200;
  nlohmann::json body;
};

/// Validates and executes commands; the one handler behind REST, SQS and NATS.
/// Thread-safe; may block briefly (database reads), never for the work itself.
class CommandHandler {
 public:
  virtual ~CommandHandler() = default;
  virtual CommandReply handle(const CommandRequest& request) = 0;
};

}  // namespace siprecd::control
