#include "control/queued_command.hpp"

#include <exception>

#include "control/command_service.hpp"

namespace siprecd::control {

CommandReply handleQueuedCommand(CommandHandler& handler, const CommandRequest& request) {
  try {
    return handler.handle(request);
  } catch (const std::exception& error) {
    return commandError(500, std::string("command handler: ") + error.what());
  }
}

std::string replyErrorMessage(const CommandReply& reply) {
  if (!reply.body.is_object()) {
    return {};
  }
  const auto error = reply.body.find("error");
  if (error == reply.body.end() || !error->is_object()) {
    return {};
  }
  const auto message = error->find("message");
  return message != error->end() && message->is_string() ? message->get<std::string>()
                                                         : std::string();
}

}  // namespace siprecd::control
