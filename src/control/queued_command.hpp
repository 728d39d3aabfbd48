#pragma once

#include <string>

#include "control/command_handler.hpp"

namespace siprecd::control {

/// Helpers shared by the command-queue consumers (NatsCommandConsumer, SqsCommandConsumer),
/// which hand queued commands to the CommandHandler behind REST.

/// handler.handle(request), never throwing: an exception becomes a 500 reply whose error
/// message is "command handler: <what()>" (the queue then treats it as transient).
CommandReply handleQueuedCommand(CommandHandler& handler, const CommandRequest& request);

/// The reply body's error.message; "" when the body has none (a success, or no such string).
std::string replyErrorMessage(const CommandReply& reply);

}  // namespace siprecd::control
