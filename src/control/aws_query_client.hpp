#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include "control/aws_query_request.hpp"
#include "control/aws_query_response.hpp"
#include "storage/aws_sigv4.hpp"

/// One signed call to an AWS service's API endpoint (SNS, SQS) with libcurl: a POST of a
/// form-encoded (Query protocol) or JSON (AWS JSON 1.0) body, signed with Signature
/// Version 4 for the service and region ("Signing AWS API requests", AWS IAM user guide).
namespace siprecd::control {

struct AwsServiceSettings {
  std::string service;  ///< signing name: "sns" or "sqs"
  std::string region;   ///< "eu-west-1"
  AwsEndpoint endpoint;
  storage::AwsCredentials credentials;  ///< secret: never logged, never in an error
  std::chrono::milliseconds connect_timeout{5'000};
};

/// A request.
struct AwsCall {
  std::string operation;  ///< for messages: "Publish", "ReceiveMessage", ...
  /// "application/x-www-form-urlencoded; charset=utf-8" or "application/x-amz-json-1.0".
  std::string content_type;
  std::string target;  ///< X-Amz-Target ("AmazonSQS.ReceiveMessage"); "" for none
  std::string body;
  /// The whole exchange may take this long (a long poll needs its wait plus a margin).
  std::chrono::milliseconds timeout{30'000};
};

/// What came back. `ok` for a 2xx answer; otherwise `error` and `description` say why
/// (status 0: no answer — connection refused, timeout, stopped).
struct AwsOutcome {
  bool ok = false;
  long status = 0;
  std::string body;  ///< at most the first 1 MiB
  AwsError error;
  /// "<operation> <endpoint>: <Code> (HTTP <status>): <message>" or the transport error.
  std::string description;
  bool stopped = false;  ///< abandoned because `stop` became true
};

/// Sends calls to one endpoint. Thread-safe (each call uses its own curl handle).
class AwsQueryClient {
 public:
  explicit AwsQueryClient(AwsServiceSettings settings);

  /// Signs `call` (x-amz-date = now, X-Amz-Security-Token with temporary credentials,
  /// x-amz-content-sha256 of the body) and sends it once. A transport error or a
  /// retryable AWS error has error.retryable set. When `stop` becomes true the transfer is
  /// abandoned within about a second (a long poll too). Blocking.
  AwsOutcome send(const AwsCall& call, const std::atomic<bool>* stop = nullptr) const;

  const AwsServiceSettings& settings() const { return settings_; }

 private:
  AwsServiceSettings settings_;
};

/// The Content-Type of Query protocol requests.
inline constexpr std::string_view kFormContentType =
    "application/x-www-form-urlencoded; charset=utf-8";
/// The Content-Type of AWS JSON 1.0 requests.
inline constexpr std::string_view kAmzJsonContentType = "application/x-amz-json-1.0";

}  // namespace siprecd::control
