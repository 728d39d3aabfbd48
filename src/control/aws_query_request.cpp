#include "control/aws_query_request.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/strings.hpp"
#include "storage/aws_sigv4.hpp"

namespace siprecd::control {
namespace {

std::string dump(const nlohmann::json& json) {
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool validRegion(std::string_view region) {
  return !region.empty() && region.size() <= 32 &&
         std::all_of(region.begin(), region.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
         });
}

}  // namespace

Result<AwsEndpoint> parseAwsEndpoint(std::string_view url) {
  AwsEndpoint endpoint;
  if (istartsWith(url, "https://")) {
    endpoint.scheme = "https";
    url.remove_prefix(8);
  } else if (istartsWith(url, "http://")) {
    endpoint.scheme = "http";
    url.remove_prefix(7);
  } else {
    return fail("expected an http:// or https:// URL");
  }
  const std::size_t slash = url.find('/');
  endpoint.host = std::string(url.substr(0, slash));
  if (slash != std::string_view::npos) {
    endpoint.path = std::string(url.substr(slash));
  }
  if (endpoint.host.empty() || endpoint.host.find('@') != std::string::npos) {
    return fail("the URL has no host (or carries user information)");
  }
  if (endpoint.path.find_first_of("?#") != std::string::npos) {
    return fail("the URL must not have a query or fragment");
  }
  return endpoint;
}

Result<std::string> regionOfTopicArn(std::string_view arn) {
  const auto parts = split(arn, ':');
  if (parts.size() != 6 || parts[0] != "arn" || parts[1].empty() || parts[2] != "sns") {
    return fail("expected arn:<partition>:sns:<region>:<account>:<topic>");
  }
  if (!validRegion(parts[3])) {
    return fail(fmt::format("\"{}\" is not a region", parts[3]));
  }
  if (parts[4].empty() || parts[5].empty()) {
    return fail("the ARN lacks the account or the topic name");
  }
  return std::string(parts[3]);
}

std::optional<std::string> regionOfQueueUrl(std::string_view queue_url) {
  auto endpoint = parseAwsEndpoint(queue_url);
  if (!endpoint) {
    return std::nullopt;
  }
  std::string_view host = endpoint->host;
  host = host.substr(0, host.find(':'));
  const auto labels = split(host, '.');
  if (labels.size() >= 4 && labels[0] == "sqs" && labels[2] == "amazonaws" &&
      validRegion(labels[1])) {
    return std::string(labels[1]);
  }
  if (labels.size() >= 4 && labels[1] == "queue" && labels[2] == "amazonaws" &&
      validRegion(labels[0])) {
    return std::string(labels[0]);
  }
  return std::nullopt;
}

Result<void> checkQueueUrl(std::string_view queue_url) {
  auto endpoint = parseAwsEndpoint(queue_url);
  if (!endpoint) {
    return tl::unexpected(endpoint.error());
  }
  const auto parts = split(std::string_view(endpoint->path).substr(1), '/');
  if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) {
    return fail("expected http(s)://host/<account>/<queue name>");
  }
  return {};
}

AwsEndpoint defaultSnsEndpoint(std::string_view region) {
  const bool china = region.starts_with("cn-");
  return AwsEndpoint{"https", fmt::format("sns.{}.amazonaws.com{}", region, china ? ".cn" : ""),
                     "/"};
}

Result<AwsEndpoint> sqsEndpointOfQueueUrl(std::string_view queue_url) {
  auto endpoint = parseAwsEndpoint(queue_url);
  if (!endpoint) {
    return endpoint;
  }
  endpoint->path = "/";
  return endpoint;
}

std::string formEncode(const FormParams& params) {
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) {
      out += '&';
    }
    out += storage::awsUriEncode(name, false);
    out += '=';
    out += storage::awsUriEncode(value, false);
  }
  return out;
}

FormParams snsPublishParams(std::string_view topic_arn, std::string_view message,
                            const std::vector<StringAttribute>& attributes) {
  FormParams params{{"Action", "Publish"},
                    {"Version", std::string(kSnsApiVersion)},
                    {"TopicArn", std::string(topic_arn)},
                    {"Message", std::string(message)}};
  int index = 0;
  for (const StringAttribute& attribute : attributes) {
    const std::string prefix = fmt::format("MessageAttributes.entry.{}.", ++index);
    params.emplace_back(prefix + "Name", attribute.name);
    params.emplace_back(prefix + "Value.DataType", "String");
    params.emplace_back(prefix + "Value.StringValue", attribute.value);
  }
  return params;
}

std::string sqsReceiveMessageBody(std::string_view queue_url, int max_messages, int wait_seconds,
                                  int visibility_timeout_s) {
  return dump({{"QueueUrl", queue_url},
               {"MaxNumberOfMessages", std::clamp(max_messages, 1, 10)},
               {"WaitTimeSeconds", std::clamp(wait_seconds, 0, 20)},
               {"VisibilityTimeout", std::clamp(visibility_timeout_s, 0, 43200)},
               {"AttributeNames", {"ApproximateReceiveCount"}},
               {"MessageSystemAttributeNames", {"ApproximateReceiveCount"}},
               {"MessageAttributeNames", {"All"}}});
}

std::string sqsDeleteMessageBody(std::string_view queue_url, std::string_view receipt_handle) {
  return dump({{"QueueUrl", queue_url}, {"ReceiptHandle", receipt_handle}});
}

std::string sqsSendMessageBody(std::string_view queue_url, std::string_view message_body,
                               const std::vector<StringAttribute>& attributes) {
  nlohmann::json request{{"QueueUrl", queue_url}, {"MessageBody", message_body}};
  if (!attributes.empty()) {
    nlohmann::json list = nlohmann::json::object();
    for (const StringAttribute& attribute : attributes) {
      list[attribute.name] = {{"DataType", "String"}, {"StringValue", attribute.value}};
    }
    request["MessageAttributes"] = std::move(list);
  }
  return dump(request);
}

}  // namespace siprecd::control
