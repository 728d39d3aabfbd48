#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "app/http_server.hpp"
#include "storage/aws_sigv4.hpp"

// Not `siprecd::testing`: unqualified `testing::Test` inside siprecd would then find it.
namespace siprecd::test_support {

/// A small SNS + SQS on 127.0.0.1 (any free port) for the unit tests of the SNS publisher
/// and the SQS consumer: SNS Publish over the Query protocol (form body, XML answers) and
/// SQS ReceiveMessage / DeleteMessage / SendMessage over AWS JSON 1.0, each request's
/// Signature V4 recomputed with the known secret (403 SignatureDoesNotMatch otherwise).
/// ReceiveMessage waits at most 200 ms for a message (tests stay fast); a received
/// message not deleted becomes visible again after its VisibilityTimeout.
class AwsQueryTestServer {
 public:
  static constexpr const char* kKeyId = "AKIDSIPRECDUNIT";
  static constexpr const char* kSecret = "unit/test+secret";

  struct Request {
    std::string service;  ///< from the credential scope
    std::string region;
    std::string action;                       ///< "Publish", "ReceiveMessage", ...
    std::map<std::string, std::string> form;  ///< decoded form fields (SNS)
    nlohmann::json json;                      ///< the JSON body (SQS)
    std::map<std::string, std::string> headers;
  };
  struct Published {
    std::string topic_arn, message;
    std::map<std::string, std::string> attributes;
  };
  struct Message {
    std::string id, body, receipt;
    int receive_count = 0;
    std::map<std::string, std::string> attributes;
    std::chrono::steady_clock::time_point visible_at{};
  };
  /// May answer a request first (fault injection): {status, content type, body}.
  struct Reply {
    int status = 200;
    std::string content_type = "text/xml";
    std::string body;
  };
  using Interceptor = std::function<std::optional<Reply>(const Request&)>;

  AwsQueryTestServer() : server_("127.0.0.1:0", 4) {
    server_.route("POST", "/", [this](const app::HttpRequest& request) { return handle(request); });
    const auto started = server_.start();
    EXPECT_TRUE(started.has_value()) << (started ? "" : started.error().message);
  }
  ~AwsQueryTestServer() { server_.stop(); }

  std::string endpoint() const {
    return "http://127.0.0.1:" + std::to_string(server_.port()) + "/";
  }
  std::string queueUrl(const std::string& name) const {
    return "http://127.0.0.1:" + std::to_string(server_.port()) + "/000000000000/" + name;
  }
  void intercept(Interceptor interceptor) {
    std::lock_guard lock(mutex_);
    interceptor_ = std::move(interceptor);
  }
  void send(const std::string& queue_url, const std::string& body,
            std::map<std::string, std::string> attributes = {}) {
    std::lock_guard lock(mutex_);
    Message message;
    message.id = "m" + std::to_string(++ids_);
    message.body = body;
    message.attributes = std::move(attributes);
    queues_[queue_url].push_back(std::move(message));
  }
  std::vector<Published> published() const {
    std::lock_guard lock(mutex_);
    return published_;
  }
  std::vector<Request> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  /// Visible plus in-flight messages of a queue.
  std::size_t depth(const std::string& queue_url) const {
    std::lock_guard lock(mutex_);
    const auto it = queues_.find(queue_url);
    return it == queues_.end() ? 0 : it->second.size() + inflightOf(queue_url);
  }
  std::vector<Message> visible(const std::string& queue_url) const {
    std::lock_guard lock(mutex_);
    const auto it = queues_.find(queue_url);
    return it == queues_.end() ? std::vector<Message>{}
                               : std::vector<Message>(it->second.begin(), it->second.end());
  }
  std::size_t deletes() const {
    std::lock_guard lock(mutex_);
    return deletes_;
  }

 private:
  struct Inflight {
    std::string queue_url;
    Message message;
  };

  std::size_t inflightOf(const std::string& queue_url) const {
    std::size_t n = 0;
    for (const auto& [receipt, entry] : inflight_) {
      n += entry.queue_url == queue_url ? 1 : 0;
    }
    return n;
  }

  static std::map<std::string, std::string> parseForm(const std::string& body) {
    std::map<std::string, std::string> form;
    for (const auto& [name, value] : storage::parseQuery(body)) {
      form[name] = value;
    }
    return form;
  }

  /// "" when authentic, else why not.
  std::string verify(const app::HttpRequest& request, Request& parsed) const {
    static const std::regex kAuthorization(
        R"(^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$)");
    std::smatch match;
    const std::string authorization = request.header("authorization");
    if (!std::regex_match(authorization, match, kAuthorization)) {
      return "malformed Authorization";
    }
    if (match[1] != kKeyId) {
      return "unknown key";
    }
    parsed.region = match[3];
    parsed.service = match[4];
    storage::SigV4Request signed_request;
    signed_request.method = request.method;
    signed_request.canonical_path = request.path;
    signed_request.payload_sha256 = storage::sha256Hex(request.body);
    for (const auto& name : split(std::string(match[5]), ';')) {
      signed_request.headers.emplace_back(name, request.header(name));
    }
    const auto signature =
        storage::signSigV4(signed_request, storage::AwsCredentials{kKeyId, kSecret, ""},
                           parsed.region, parsed.service, request.header("x-amz-date"));
    return signature.signature == match[6] ? "" : "signature mismatch";
  }

  static std::vector<std::string> split(const std::string& text, char separator) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (std::size_t at = text.find(separator); at != std::string::npos;
         at = text.find(separator, start)) {
      out.push_back(text.substr(start, at - start));
      start = at + 1;
    }
    out.push_back(text.substr(start));
    return out;
  }

  static app::HttpResponse reply(int status, std::string content_type, std::string body) {
    app::HttpResponse response;
    response.status = status;
    response.content_type = std::move(content_type);
    response.body = std::move(body);
    return response;
  }

  app::HttpResponse handle(const app::HttpRequest& request) {
    Request parsed;
    parsed.headers = request.headers;
    const bool sqs = !request.header("x-amz-target").empty();
    if (sqs) {
      parsed.action = request.header("x-amz-target");
      parsed.action.erase(0, parsed.action.find('.') + 1);
      parsed.json = nlohmann::json::parse(request.body, nullptr, false);
    } else {
      parsed.form = parseForm(request.body);
      parsed.action = parsed.form["Action"];
    }
    const std::string problem = verify(request, parsed);
    Interceptor interceptor;
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(parsed);
      interceptor = interceptor_;
    }
    if (!problem.empty()) {
      return sqs ? reply(403, "application/x-amz-json-1.0",
                         nlohmann::json{
                             {"__type", "com.amazon.coral.service#InvalidSignatureException"},
                             {"message", problem}}
                             .dump())
                 : reply(403, "text/xml",
                         "<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</"
                         "Code><Message>" +
                             problem + "</Message></Error></ErrorResponse>");
    }
    if (interceptor) {
      if (auto answer = interceptor(parsed)) {
        return reply(answer->status, answer->content_type, answer->body);
      }
    }
    return sqs ? handleSqs(parsed) : handleSns(parsed);
  }

  app::HttpResponse handleSns(Request& request) {
    if (request.action != "Publish") {
      return reply(400, "text/xml",
                   "<ErrorResponse><Error><Code>InvalidAction</Code></Error></ErrorResponse>");
    }
    Published item{request.form["TopicArn"], request.form["Message"], {}};
    for (int i = 1; request.form.contains("MessageAttributes.entry." + std::to_string(i) + ".Name");
         ++i) {
      const std::string prefix = "MessageAttributes.entry." + std::to_string(i) + ".";
      item.attributes[request.form[prefix + "Name"]] = request.form[prefix + "Value.StringValue"];
    }
    std::lock_guard lock(mutex_);
    published_.push_back(std::move(item));
    return reply(200, "text/xml",
                 "<PublishResponse><PublishResult><MessageId>id-" +
                     std::to_string(published_.size()) +
                     "</MessageId></PublishResult></PublishResponse>");
  }

  app::HttpResponse handleSqs(const Request& request) {
    const std::string url = request.json.value("QueueUrl", "");
    if (request.action == "ReceiveMessage") {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
      for (;;) {
        {
          std::lock_guard lock(mutex_);
          requeueVisible();
          auto& queue = queues_[url];
          if (!queue.empty()) {
            const int max = request.json.value("MaxNumberOfMessages", 1);
            const int visibility = request.json.value("VisibilityTimeout", 30);
            nlohmann::json list = nlohmann::json::array();
            while (!queue.empty() && static_cast<int>(list.size()) < max) {
              Message message = std::move(queue.front());
              queue.pop_front();
              ++message.receive_count;
              message.receipt = "rh-" + std::to_string(++ids_);
              message.visible_at =
                  std::chrono::steady_clock::now() + std::chrono::seconds(visibility);
              nlohmann::json item{
                  {"MessageId", message.id},
                  {"ReceiptHandle", message.receipt},
                  {"Body", message.body},
                  {"Attributes",
                   {{"ApproximateReceiveCount", std::to_string(message.receive_count)}}}};
              for (const auto& [name, value] : message.attributes) {
                item["MessageAttributes"][name] = {{"DataType", "String"}, {"StringValue", value}};
              }
              list.push_back(std::move(item));
              const std::string receipt = message.receipt;
              inflight_[receipt] = Inflight{url, std::move(message)};
            }
            return reply(200, "application/x-amz-json-1.0",
                         nlohmann::json{{"Messages", list}}.dump());
          }
        }
        if (std::chrono::steady_clock::now() >= deadline) {
          return reply(200, "application/x-amz-json-1.0", "{}");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    std::lock_guard lock(mutex_);
    if (request.action == "DeleteMessage") {
      inflight_.erase(request.json.value("ReceiptHandle", ""));
      ++deletes_;
      return reply(200, "application/x-amz-json-1.0", "{}");
    }
    if (request.action == "SendMessage") {
      Message message;
      message.id = "m" + std::to_string(++ids_);
      message.body = request.json.value("MessageBody", "");
      if (request.json.contains("MessageAttributes")) {
        for (const auto& [name, value] : request.json["MessageAttributes"].items()) {
          message.attributes[name] = value.value("StringValue", "");
        }
      }
      queues_[url].push_back(std::move(message));
      return reply(200, "application/x-amz-json-1.0", R"({"MessageId":"sent"})");
    }
    return reply(400, "application/x-amz-json-1.0",
                 R"({"__type":"com.amazonaws.sqs#InvalidAction","message":"unknown"})");
  }

  void requeueVisible() {
    const auto now = std::chrono::steady_clock::now();
    for (auto it = inflight_.begin(); it != inflight_.end();) {
      if (it->second.message.visible_at <= now) {
        queues_[it->second.queue_url].push_back(std::move(it->second.message));
        it = inflight_.erase(it);
      } else {
        ++it;
      }
    }
  }

  app::HttpServer server_;
  mutable std::mutex mutex_;
  Interceptor interceptor_;
  std::vector<Request> requests_;
  std::vector<Published> published_;
  std::map<std::string, std::deque<Message>> queues_;
  std::map<std::string, Inflight> inflight_;
  std::size_t deletes_ = 0;
  int ids_ = 0;
};

}  // namespace siprecd::test_support
