#include "control/aws_query_request.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace siprecd::control {
namespace {

TEST(AwsTopicArn, YieldsTheRegion) {
  EXPECT_EQ(regionOfTopicArn("arn:aws:sns:eu-west-1:123456789012:events").value(), "eu-west-1");
  EXPECT_EQ(regionOfTopicArn("arn:aws-cn:sns:cn-north-1:123456789012:t").value(), "cn-north-1");
}

TEST(AwsTopicArn, RefusesOtherServicesAndBrokenArns) {
  EXPECT_FALSE(regionOfTopicArn("arn:aws:sqs:eu-west-1:123456789012:events"));
  EXPECT_FALSE(regionOfTopicArn("arn:aws:sns:eu-west-1:123456789012"));
  EXPECT_FALSE(regionOfTopicArn("arn:aws:sns::123456789012:t"));
  EXPECT_FALSE(regionOfTopicArn("arn:aws:sns:EU_WEST:123456789012:t"));
  EXPECT_FALSE(regionOfTopicArn("arn:aws:sns:eu-west-1::t"));
  EXPECT_FALSE(regionOfTopicArn(""));
}

TEST(AwsQueueUrl, RegionComesFromAwsHostsOnly) {
  EXPECT_EQ(regionOfQueueUrl("https://sqs.eu-central-1.amazonaws.com/123456789012/cmds"),
            "eu-central-1");
  EXPECT_EQ(regionOfQueueUrl("https://us-east-2.queue.amazonaws.com/123456789012/cmds"),
            "us-east-2");
  EXPECT_EQ(regionOfQueueUrl("http://127.0.0.1:4566/000000000000/cmds"), std::nullopt);
  EXPECT_EQ(regionOfQueueUrl("not a url"), std::nullopt);
}

TEST(AwsQueueUrl, MustNameAccountAndQueue) {
  EXPECT_TRUE(checkQueueUrl("https://sqs.eu-west-1.amazonaws.com/123456789012/cmds"));
  EXPECT_TRUE(checkQueueUrl("http://127.0.0.1:4566/000000000000/cmds"));
  EXPECT_FALSE(checkQueueUrl("https://sqs.eu-west-1.amazonaws.com/cmds"));
  EXPECT_FALSE(checkQueueUrl("https://sqs.eu-west-1.amazonaws.com/1/cmds/x"));
  EXPECT_FALSE(checkQueueUrl("ftp://host/1/cmds"));
  EXPECT_FALSE(checkQueueUrl("https://host/1/cmds?x=1"));
  EXPECT_FALSE(checkQueueUrl("https://user@host/1/cmds"));
}

TEST(AwsEndpoints, DefaultSnsEndpointFollowsTheRegionAndPartition) {
  EXPECT_EQ(defaultSnsEndpoint("eu-west-1").url(), "https://sns.eu-west-1.amazonaws.com/");
  EXPECT_EQ(defaultSnsEndpoint("cn-north-1").url(), "https://sns.cn-north-1.amazonaws.com.cn/");
}

TEST(AwsEndpoints, SqsEndpointIsTheQueueUrlsSchemeAndHost) {
  const auto endpoint = sqsEndpointOfQueueUrl("http://127.0.0.1:4566/000000000000/cmds").value();
  EXPECT_EQ(endpoint.scheme, "http");
  EXPECT_EQ(endpoint.host, "127.0.0.1:4566");
  EXPECT_EQ(endpoint.url(), "http://127.0.0.1:4566/");
}

TEST(AwsEndpoints, ParsesAnOverrideWithPort) {
  const auto endpoint = parseAwsEndpoint("HTTP://localhost:9324").value();
  EXPECT_EQ(endpoint.host, "localhost:9324");
  EXPECT_EQ(endpoint.path, "/");
  EXPECT_FALSE(parseAwsEndpoint("localhost:9324"));
  EXPECT_FALSE(parseAwsEndpoint("http://"));
}

TEST(AwsFormEncoding, EncodesEverythingButUnreservedCharacters) {
  EXPECT_EQ(formEncode({{"Action", "Publish"}, {"Message", R"({"a": "b&c=d"} é+/~)"}}),
            "Action=Publish&Message=%7B%22a%22%3A%20%22b%26c%3Dd%22%7D%20%C3%A9%2B%2F~");
  EXPECT_EQ(formEncode({{"Empty", ""}}), "Empty=");
}

TEST(SnsPublish, CarriesTopicMessageAndNumberedStringAttributes) {
  const auto params = snsPublishParams("arn:aws:sns:eu-west-1:1:t", "{}",
                                       {{"event", "RECORDINGSTORED"}, {"eventId", "e-1"}});
  const FormParams expected{{"Action", "Publish"},
                            {"Version", "2010-03-31"},
                            {"TopicArn", "arn:aws:sns:eu-west-1:1:t"},
                            {"Message", "{}"},
                            {"MessageAttributes.entry.1.Name", "event"},
                            {"MessageAttributes.entry.1.Value.DataType", "String"},
                            {"MessageAttributes.entry.1.Value.StringValue", "RECORDINGSTORED"},
                            {"MessageAttributes.entry.2.Name", "eventId"},
                            {"MessageAttributes.entry.2.Value.DataType", "String"},
                            {"MessageAttributes.entry.2.Value.StringValue", "e-1"}};
  EXPECT_EQ(params, expected);
}

TEST(SqsRequests, ReceiveAsksForLongPollingVisibilityAndReceiveCount) {
  const auto body = nlohmann::json::parse(sqsReceiveMessageBody("http://q/1/c", 10, 20, 45));
  EXPECT_EQ(body["QueueUrl"], "http://q/1/c");
  EXPECT_EQ(body["MaxNumberOfMessages"], 10);
  EXPECT_EQ(body["WaitTimeSeconds"], 20);
  EXPECT_EQ(body["VisibilityTimeout"], 45);
  EXPECT_EQ(body["MessageSystemAttributeNames"][0], "ApproximateReceiveCount");
  EXPECT_EQ(body["MessageAttributeNames"][0], "All");
}

TEST(SqsRequests, ReceiveClampsToWhatSqsAllows) {
  const auto body = nlohmann::json::parse(sqsReceiveMessageBody("u", 50, 99, -1));
  EXPECT_EQ(body["MaxNumberOfMessages"], 10);
  EXPECT_EQ(body["WaitTimeSeconds"], 20);
  EXPECT_EQ(body["VisibilityTimeout"], 0);
}

TEST(SqsRequests, DeleteAndSendCarryTheirFields) {
  const auto remove = nlohmann::json::parse(sqsDeleteMessageBody("u", "rh+/="));
  EXPECT_EQ(remove["ReceiptHandle"], "rh+/=");
  const auto send = nlohmann::json::parse(
      sqsSendMessageBody("dlq", "not json", {{"siprecd-reason", "malformed"}}));
  EXPECT_EQ(send["QueueUrl"], "dlq");
  EXPECT_EQ(send["MessageBody"], "not json");
  EXPECT_EQ(send["MessageAttributes"]["siprecd-reason"]["DataType"], "String");
  EXPECT_EQ(send["MessageAttributes"]["siprecd-reason"]["StringValue"], "malformed");
  EXPECT_FALSE(
      nlohmann::json::parse(sqsSendMessageBody("q", "x", {})).contains("MessageAttributes"));
}

TEST(SqsRequests, InvalidUtf8InABodyIsReplacedNotThrown) {
  const std::string body = sqsSendMessageBody("q", std::string("a\xff") + "b", {});
  EXPECT_EQ(nlohmann::json::parse(body)["MessageBody"],
            "a\xEF\xBF\xBD"
            "b");
}

}  // namespace
}  // namespace siprecd::control
