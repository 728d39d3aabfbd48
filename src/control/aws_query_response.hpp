#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

/// The answers of Amazon SNS (Query protocol: XML documents, "Query API Requests" and
/// "Errors" of the SNS API reference) and Amazon SQS (AWS JSON 1.0 protocol: "Making
/// query API requests using AWS JSON protocol" of the SQS developer guide). Network input:
/// every function here takes any bytes without throwing or crashing. Pure; thread-safe.
namespace siprecd::control {

/// What AWS said about a failed request.
struct AwsError {
  std::string code;     ///< "InvalidClientTokenId", "QueueDoesNotExist", ...; "" when unknown
  std::string message;  ///< AWS's message; control characters removed, at most 200 bytes
  /// Worth another attempt later: 5xx, 408, 429 and the throttling/transient codes.
  bool retryable = false;
  /// The request itself can never succeed (a parameter AWS refuses, e.g. a message too
  /// long): give it up rather than retry. False for authentication and permission errors,
  /// which an operator can fix.
  bool permanent = false;
};

/// Interprets a non-2xx answer of SNS or SQS with HTTP `status`: an SNS <ErrorResponse>
/// (<Error><Code>, <Message>), an SQS JSON error ({"__type": "com.amazonaws.sqs#Code",
/// "message": ...}, "Message" also accepted) or, for the JSON protocol, the
/// x-amzn-query-error header ("AWS.SimpleQueueService.NonExistentQueue;Sender"), whichever
/// names a code first. Without any code: code "" and a message quoting the start of a
/// printable body.
AwsError parseAwsError(long status, std::string_view body, std::string_view query_error_header);

/// "<Code> (HTTP <status>): <message>" or "HTTP <status>: <message>"; never a credential.
std::string describeAwsError(long status, const AwsError& error);

/// The <MessageId> of SNS's PublishResponse; nullopt when absent or empty.
std::optional<std::string> parseSnsPublishResponse(std::string_view body);

/// One message of an SQS ReceiveMessage answer.
struct SqsMessage {
  std::string message_id;
  std::string receipt_handle;  ///< needed to delete it; opaque
  std::string body;
  /// System attribute ApproximateReceiveCount (1 on the first receipt); 0 when absent.
  int receive_count = 0;
  /// Message attributes of DataType String or Number (name → StringValue).
  std::map<std::string, std::string> attributes;
};

/// The messages of a ReceiveMessage answer ({"Messages": [{"MessageId", "ReceiptHandle",
/// "Body", "Attributes", "MessageAttributes"}, ...]}; no "Messages" means none). Fails
/// naming the field when the document is not JSON, or a message lacks a string
/// ReceiptHandle or Body.
Result<std::vector<SqsMessage>> parseSqsReceiveResponse(std::string_view body);

}  // namespace siprecd::control
