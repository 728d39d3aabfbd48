#include "control/queued_command.hpp"

#include <stdexcept>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "control/command_service.hpp"

namespace siprecd::control {
namespace {

/// Replies with a fixed reply, or throws when `error` is set.
class FixedHandler : public CommandHandler {
 public:
  CommandReply handle(const CommandRequest& request) override {
    last_method = request.method;
    if (!error.empty()) {
      throw std::runtime_error(error);
    }
    return reply;
  }
  CommandReply reply{202, {{"success", true}}};
  std::string error;
  std::string last_method;
};

TEST(QueuedCommand, HandsTheRequestToTheHandlerAndReturnsItsReply) {
  FixedHandler handler;
  CommandRequest request;
  request.method = "STORERECORDING";
  const CommandReply reply = handleQueuedCommand(handler, request);
  EXPECT_EQ(handler.last_method, "STORERECORDING");
  EXPECT_EQ(reply.status, 202);
  EXPECT_EQ(reply.body, handler.reply.body);
}

TEST(QueuedCommand, AHandlerExceptionBecomesA500NamingIt) {
  FixedHandler handler;
  handler.error = "boom";
  const CommandReply reply = handleQueuedCommand(handler, CommandRequest{});
  EXPECT_EQ(reply.status, 500);
  EXPECT_EQ(replyErrorMessage(reply), "command handler: boom");
}

TEST(QueuedCommand, ReplyErrorMessageReadsTheErrorsMessage) {
  EXPECT_EQ(replyErrorMessage(commandError(404, "unknown recording")), "unknown recording");
}

TEST(QueuedCommand, ReplyErrorMessageIsEmptyWithoutAnErrorMessageString) {
  EXPECT_EQ(replyErrorMessage(CommandReply{200, {{"success", true}}}), "");
  EXPECT_EQ(replyErrorMessage(CommandReply{500, nlohmann::json::array()}), "");
  EXPECT_EQ(replyErrorMessage(CommandReply{500, {{"error", "flat"}}}), "");
  EXPECT_EQ(replyErrorMessage(CommandReply{500, {{"error", {{"message", 7}}}}}), "");
}

}  // namespace
}  // namespace siprecd::control
