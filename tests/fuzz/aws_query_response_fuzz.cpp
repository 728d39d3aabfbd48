// Fuzzes the parsers of SNS and SQS answers (src/control/aws_query_response.cpp): error
// documents (XML and JSON), the Publish answer and the ReceiveMessage answer. Properties:
// nothing crashes or throws; error texts are printable and at most 200 bytes; a parsed
// ReceiveMessage answer, written back as JSON, parses to the same messages.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "control/aws_query_response.hpp"

namespace {

void checkText(std::string_view text) {
  if (text.size() > 200) {
    std::abort();
  }
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t split = input.find('\n');
  const std::string_view header = split == std::string_view::npos ? "" : input.substr(0, split);
  const long status = size > 0 ? 400 + data[0] % 200 : 500;

  const auto error = siprecd::control::parseAwsError(status, input, header);
  checkText(error.code);
  checkText(error.message);
  if (error.retryable && error.permanent) {
    std::abort();
  }
  (void)siprecd::control::describeAwsError(status, error);
  if (const auto id = siprecd::control::parseSnsPublishResponse(input)) {
    checkText(*id);
  }

  const auto messages = siprecd::control::parseSqsReceiveResponse(input);
  if (messages) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& message : *messages) {
      if (message.receipt_handle.empty() || message.receive_count < 0) {
        std::abort();
      }
      nlohmann::json item{
          {"MessageId", message.message_id},
          {"ReceiptHandle", message.receipt_handle},
          {"Body", message.body},
          {"Attributes", {{"ApproximateReceiveCount", std::to_string(message.receive_count)}}}};
      for (const auto& [name, value] : message.attributes) {
        item["MessageAttributes"][name] = {{"DataType", "String"}, {"StringValue", value}};
      }
      list.push_back(std::move(item));
    }
    const std::string again = nlohmann::json{{"Messages", list}}.dump(
        -1, ' ', false, nlohmann::json::error_handler_t::replace);
    const auto reparsed = siprecd::control::parseSqsReceiveResponse(again);
    if (!reparsed || reparsed->size() != messages->size()) {
      std::abort();
    }
    for (std::size_t i = 0; i < messages->size(); ++i) {
      const auto& a = (*messages)[i];
      const auto& b = (*reparsed)[i];
      // Invalid UTF-8 is replaced when written back: compare only what survives intact.
      const bool utf8 =
          nlohmann::json(a.body).dump(-1, ' ', false, nlohmann::json::error_handler_t::ignore) ==
          nlohmann::json(a.body).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      if (b.receive_count != a.receive_count || (utf8 && b.body != a.body)) {
        std::abort();
      }
    }
  }
  return 0;
}
