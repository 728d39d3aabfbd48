#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.hpp"

/// Building requests to Amazon SNS (Query protocol: form-encoded POST with Action and
/// Version, "Query requests" of the SNS API reference) and Amazon SQS (AWS JSON 1.0
/// protocol: POST with X-Amz-Target "AmazonSQS.<Action>", "Making query API requests using
/// AWS JSON protocol" of the SQS developer guide), and where they go. Both protocols are
/// what AWS and compatible servers (fauxqs, LocalStack) accept. Pure; thread-safe.
namespace siprecd::control {

/// The SNS API version of every Query request.
inline constexpr std::string_view kSnsApiVersion = "2010-03-31";

/// Where requests go: scheme, authority and path of a base URL.
struct AwsEndpoint {
  std::string scheme;  ///< "https" or "http"
  std::string host;    ///< the Host header: "sns.eu-west-1.amazonaws.com", "127.0.0.1:4566"
  std::string path = "/";
  std::string url() const { return scheme + "://" + host + path; }
};

/// Parses "https://host[:port][/path]" (http too; no query, no user info). Fails naming
/// what is wrong.
Result<AwsEndpoint> parseAwsEndpoint(std::string_view url);

/// The region of an SNS topic ARN "arn:aws:sns:eu-west-1:123456789012:name" (partitions
/// aws, aws-cn, aws-us-gov, ...). Fails naming the part that is wrong.
Result<std::string> regionOfTopicArn(std::string_view arn);

/// The region spelled in an AWS SQS queue URL's host ("sqs.eu-west-1.amazonaws.com",
/// legacy "eu-west-1.queue.amazonaws.com"); nullopt for other hosts (compatible servers).
std::optional<std::string> regionOfQueueUrl(std::string_view queue_url);

/// Checks "http(s)://host[:port]/<account>/<queue name>". Fails naming what is wrong.
Result<void> checkQueueUrl(std::string_view queue_url);

/// The SNS endpoint of `region`: https://sns.{region}.amazonaws.com/ (".com.cn" in cn-*).
AwsEndpoint defaultSnsEndpoint(std::string_view region);
/// The SQS endpoint a queue URL belongs to: its scheme and host, path "/".
Result<AwsEndpoint> sqsEndpointOfQueueUrl(std::string_view queue_url);

using FormParams = std::vector<std::pair<std::string, std::string>>;

/// application/x-www-form-urlencoded body: name=value pairs in order, joined by '&', each
/// part AWS-UriEncoded (unreserved A-Z a-z 0-9 - _ . ~ kept, the rest %XX; a space is %20).
std::string formEncode(const FormParams& params);

/// A message attribute of type String.
struct StringAttribute {
  std::string name;
  std::string value;
};

/// SNS Publish: Action=Publish, Version, TopicArn, Message and each attribute as
/// MessageAttributes.entry.N.{Name, Value.DataType=String, Value.StringValue}.
FormParams snsPublishParams(std::string_view topic_arn, std::string_view message,
                            const std::vector<StringAttribute>& attributes);

/// SQS ReceiveMessage (JSON body): up to `max_messages` (1..10), long polling
/// `wait_seconds` (0..20), invisible for `visibility_timeout_s` once received, with the
/// ApproximateReceiveCount system attribute and every message attribute.
std::string sqsReceiveMessageBody(std::string_view queue_url, int max_messages, int wait_seconds,
                                  int visibility_timeout_s);
/// SQS DeleteMessage (JSON body).
std::string sqsDeleteMessageBody(std::string_view queue_url, std::string_view receipt_handle);
/// SQS SendMessage (JSON body) with String message attributes. The body must be valid
/// UTF-8 text for SQS; invalid bytes are replaced (U+FFFD) when serialising.
std::string sqsSendMessageBody(std::string_view queue_url, std::string_view message_body,
                               const std::vector<StringAttribute>& attributes);

}  // namespace siprecd::control
