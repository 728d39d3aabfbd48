#include "control/aws_query_response.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/strings.hpp"
#include "storage/s3_xml.hpp"

namespace siprecd::control {
namespace {

constexpr std::size_t kMaxTextBytes = 200;

bool isRetryable(long status, std::string_view code) {
  static constexpr std::array<std::string_view, 10> kTransient{
      "Throttling",         "ThrottlingException",  "RequestThrottled",
      "ThrottledException", "InternalError",        "InternalFailure",
      "ServiceUnavailable", "RequestLimitExceeded", "KMSThrottlingException",
      "RequestTimeout"};
  return status >= 500 || status == 408 || status == 429 ||
         std::find(kTransient.begin(), kTransient.end(), code) != kTransient.end();
}

bool isPermanent(std::string_view code) {
  static constexpr std::array<std::string_view, 5> kRefused{
      "InvalidParameter", "InvalidParameterValue", "InvalidMessageContents",
      "ParameterValueInvalid", "InvalidParameterValueException"};
  return std::find(kRefused.begin(), kRefused.end(), code) != kRefused.end();
}

/// "com.amazonaws.sqs#QueueDoesNotExist" → "QueueDoesNotExist"; also drops a
/// ":http://..." suffix some JSON services append.
std::string shapeName(std::string_view type) {
  if (const auto hash = type.rfind('#'); hash != std::string_view::npos) {
    type.remove_prefix(hash + 1);
  }
  if (const auto colon = type.find(':'); colon != std::string_view::npos) {
    type = type.substr(0, colon);
  }
  return printableExcerpt(type, kMaxTextBytes);
}

/// "AWS.SimpleQueueService.NonExistentQueue;Sender" → "AWS.SimpleQueueService.NonExistentQueue".
std::string queryErrorCode(std::string_view header) {
  if (const auto semicolon = header.find(';'); semicolon != std::string_view::npos) {
    header = header.substr(0, semicolon);
  }
  return printableExcerpt(header, kMaxTextBytes);
}

std::string jsonString(const nlohmann::json& object, std::string_view name) {
  const auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

AwsError parseAwsError(long status, std::string_view body, std::string_view query_error_header) {
  AwsError error;
  if (auto document = storage::parseS3Error(body)) {
    error.code = std::move(document->code);
    error.message = std::move(document->message);
  } else if (const auto json = nlohmann::json::parse(body, nullptr, false);
             !json.is_discarded() && json.is_object()) {
    error.code = shapeName(jsonString(json, "__type"));
    if (error.code.empty()) {
      error.code = shapeName(jsonString(json, "code"));
    }
    error.message = jsonString(json, "message");
    if (error.message.empty()) {
      error.message = jsonString(json, "Message");
    }
    error.message = printableExcerpt(error.message, kMaxTextBytes);
  }
  if (error.code.empty()) {
    error.code = queryErrorCode(query_error_header);
  }
  if (error.code.empty() && error.message.empty()) {
    error.message = printableExcerpt(body, kMaxTextBytes);
  }
  error.retryable = isRetryable(status, error.code);
  error.permanent = !error.retryable && isPermanent(error.code);
  return error;
}

std::string describeAwsError(long status, const AwsError& error) {
  std::string out = error.code.empty() ? fmt::format("HTTP {}", status)
                                       : fmt::format("{} (HTTP {})", error.code, status);
  if (!error.message.empty()) {
    out += ": " + error.message;
  }
  return out;
}

std::optional<std::string> parseSnsPublishResponse(std::string_view body) {
  auto id = storage::xmlElementText(body, "MessageId");
  if (!id || trim(*id).empty()) {
    return std::nullopt;
  }
  return printableExcerpt(*id, kMaxTextBytes);
}

Result<std::vector<SqsMessage>> parseSqsReceiveResponse(std::string_view body) {
  const auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return fail("ReceiveMessage: the answer is not a JSON object");
  }
  std::vector<SqsMessage> messages;
  const auto list = json.find("Messages");
  if (list == json.end() || list->is_null()) {
    return messages;
  }
  if (!list->is_array()) {
    return fail("ReceiveMessage: Messages is not an array");
  }
  for (std::size_t i = 0; i < list->size(); ++i) {
    const nlohmann::json& item = (*list)[i];
    if (!item.is_object()) {
      return fail(fmt::format("ReceiveMessage: Messages[{}] is not an object", i));
    }
    SqsMessage message;
    const auto handle = item.find("ReceiptHandle");
    const auto text = item.find("Body");
    if (handle == item.end() || !handle->is_string() || handle->get<std::string>().empty()) {
      return fail(fmt::format("ReceiveMessage: Messages[{}].ReceiptHandle is missing", i));
    }
    if (text == item.end() || !text->is_string()) {
      return fail(fmt::format("ReceiveMessage: Messages[{}].Body is missing", i));
    }
    message.receipt_handle = handle->get<std::string>();
    message.body = text->get<std::string>();
    message.message_id = jsonString(item, "MessageId");
    if (const auto attributes = item.find("Attributes");
        attributes != item.end() && attributes->is_object()) {
      const std::string count = jsonString(*attributes, "ApproximateReceiveCount");
      int value = 0;
      const auto [end, code] = std::from_chars(count.data(), count.data() + count.size(), value);
      if (code == std::errc() && end == count.data() + count.size() && value >= 0) {
        message.receive_count = value;
      }
    }
    if (const auto attributes = item.find("MessageAttributes");
        attributes != item.end() && attributes->is_object()) {
      for (const auto& [name, value] : attributes->items()) {
        if (!value.is_object()) {
          continue;
        }
        const std::string type = jsonString(value, "DataType");
        if (type.starts_with("String") || type.starts_with("Number")) {
          message.attributes[name] = jsonString(value, "StringValue");
        }
      }
    }
    messages.push_back(std::move(message));
  }
  return messages;
}

}  // namespace siprecd::control
