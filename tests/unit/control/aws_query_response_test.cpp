#include "control/aws_query_response.hpp"

#include <gtest/gtest.h>

namespace siprecd::control {
namespace {

TEST(AwsErrorParsing, ReadsSnsErrorResponse) {
  const auto error =
      parseAwsError(403,
                    R"(<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">
  <Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>
  <Message>The security token included in the request is invalid.</Message></Error>
  <RequestId>r</RequestId></ErrorResponse>)",
                    "");
  EXPECT_EQ(error.code, "InvalidClientTokenId");
  EXPECT_EQ(error.message, "The security token included in the request is invalid.");
  EXPECT_FALSE(error.retryable);
  EXPECT_FALSE(error.permanent);
  EXPECT_EQ(describeAwsError(403, error),
            "InvalidClientTokenId (HTTP 403): The security token included in the request is "
            "invalid.");
}

TEST(AwsErrorParsing, ReadsSqsJsonErrorWithShapeName) {
  const auto error = parseAwsError(
      400,
      R"({"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."})",
      "AWS.SimpleQueueService.NonExistentQueue;Sender");
  EXPECT_EQ(error.code, "QueueDoesNotExist");
  EXPECT_EQ(error.message, "The specified queue does not exist.");
  EXPECT_FALSE(error.retryable);
}

TEST(AwsErrorParsing, FallsBackToTheQueryErrorHeader) {
  const auto error = parseAwsError(400, "", "AWS.SimpleQueueService.NonExistentQueue;Sender");
  EXPECT_EQ(error.code, "AWS.SimpleQueueService.NonExistentQueue");
}

TEST(AwsErrorParsing, ThrottlingAnd5xxAreRetryable) {
  EXPECT_TRUE(
      parseAwsError(400, R"(<ErrorResponse><Error><Code>Throttling</Code></Error></ErrorResponse>)",
                    "")
          .retryable);
  EXPECT_TRUE(
      parseAwsError(400, R"({"__type":"com.amazonaws.sqs#RequestThrottled"})", "").retryable);
  EXPECT_TRUE(parseAwsError(503, "", "").retryable);
  EXPECT_TRUE(parseAwsError(429, "slow down", "").retryable);
}

TEST(AwsErrorParsing, InvalidParameterIsPermanent) {
  const auto error = parseAwsError(
      400,
      R"(<ErrorResponse><Error><Code>InvalidParameter</Code><Message>Message too long</Message></Error></ErrorResponse>)",
      "");
  EXPECT_TRUE(error.permanent);
  EXPECT_FALSE(error.retryable);
}

TEST(AwsErrorParsing, NonDocumentBodyIsQuotedCleanAndShort) {
  const auto error = parseAwsError(502, std::string("bad\x01gateway ") + std::string(500, 'x'), "");
  EXPECT_EQ(error.code, "");
  EXPECT_TRUE(error.message.starts_with("bad gateway xxx"));
  EXPECT_LE(error.message.size(), 200u);
  EXPECT_EQ(describeAwsError(502, parseAwsError(502, "", "")), "HTTP 502");
}

TEST(SnsPublishResponse, YieldsTheMessageId) {
  EXPECT_EQ(parseSnsPublishResponse(
                "<PublishResponse><PublishResult><MessageId>94f2-ab</MessageId></PublishResult>"
                "</PublishResponse>"),
            "94f2-ab");
  EXPECT_EQ(parseSnsPublishResponse("<PublishResponse/>"), std::nullopt);
  EXPECT_EQ(parseSnsPublishResponse("<MessageId> </MessageId>"), std::nullopt);
}

TEST(SqsReceiveResponse, ReadsMessagesCountAndStringAttributes) {
  const auto messages = parseSqsReceiveResponse(R"({"Messages":[
    {"MessageId":"m1","ReceiptHandle":"h1","Body":"{\"method\":\"DELETERECORDING\"}",
     "Attributes":{"ApproximateReceiveCount":"3"},
     "MessageAttributes":{"Idempotency-Key":{"DataType":"String","StringValue":"k1"},
                          "n":{"DataType":"Number","StringValue":"5"},
                          "b":{"DataType":"Binary","BinaryValue":"AAA="}}},
    {"MessageId":"m2","ReceiptHandle":"h2","Body":""}]})");
  ASSERT_TRUE(messages) << messages.error().message;
  ASSERT_EQ(messages->size(), 2u);
  EXPECT_EQ((*messages)[0].message_id, "m1");
  EXPECT_EQ((*messages)[0].receipt_handle, "h1");
  EXPECT_EQ((*messages)[0].body, R"({"method":"DELETERECORDING"})");
  EXPECT_EQ((*messages)[0].receive_count, 3);
  EXPECT_EQ((*messages)[0].attributes.at("Idempotency-Key"), "k1");
  EXPECT_EQ((*messages)[0].attributes.at("n"), "5");
  EXPECT_FALSE((*messages)[0].attributes.contains("b"));
  EXPECT_EQ((*messages)[1].receive_count, 0);
}

TEST(SqsReceiveResponse, NoMessagesIsAnEmptyList) {
  EXPECT_TRUE(parseSqsReceiveResponse("{}").value().empty());
  EXPECT_TRUE(parseSqsReceiveResponse(R"({"Messages":null})").value().empty());
}

TEST(SqsReceiveResponse, BrokenDocumentsFailNamingTheField) {
  EXPECT_FALSE(parseSqsReceiveResponse("<xml/>"));
  EXPECT_FALSE(parseSqsReceiveResponse(R"({"Messages":{}})"));
  const auto no_handle = parseSqsReceiveResponse(R"({"Messages":[{"Body":"x"}]})");
  ASSERT_FALSE(no_handle);
  EXPECT_NE(no_handle.error().message.find("Messages[0].ReceiptHandle"), std::string::npos);
  EXPECT_FALSE(parseSqsReceiveResponse(R"({"Messages":[{"ReceiptHandle":"h","Body":5}]})"));
  const auto bad_count = parseSqsReceiveResponse(
      R"({"Messages":[{"ReceiptHandle":"h","Body":"","Attributes":{"ApproximateReceiveCount":"x9"}}]})");
  ASSERT_TRUE(bad_count);
  EXPECT_EQ((*bad_count)[0].receive_count, 0);
}

}  // namespace
}  // namespace siprecd::control
