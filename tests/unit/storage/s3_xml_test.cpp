#include "storage/s3_xml.hpp"

#include <gtest/gtest.h>

namespace siprecd::storage {
namespace {

TEST(S3Xml, ParsesTheErrorCodeAndMessage) {
  const auto error = parseS3Error(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated "
      "does not match &amp; so on</Message><StringToSign>AWS4-HMAC-SHA256...</StringToSign>"
      "<RequestId>4442587FB7D0A2F9</RequestId></Error>");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, "SignatureDoesNotMatch");
  EXPECT_EQ(error->message, "The request signature we calculated does not match & so on");
}

TEST(S3Xml, FindsAnErrorInsideA200CompleteAnswer) {
  const auto error = parseS3Error(
      "<?xml version=\"1.0\"?>\n\n<Error>\n  <Code>InternalError</Code>\n  <Message>We "
      "encountered an internal error.</Message>\n</Error>");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, "InternalError");
}

TEST(S3Xml, NoErrorDocumentMeansNoCode) {
  EXPECT_FALSE(parseS3Error(""));
  EXPECT_FALSE(parseS3Error("<html><body>502 Bad Gateway</body></html>"));
  EXPECT_FALSE(
      parseS3Error("<CompleteMultipartUploadResult><ETag>\"x\"</ETag>"
                   "</CompleteMultipartUploadResult>"));
  EXPECT_FALSE(parseS3Error("<Error><Message>no code</Message></Error>"));
  EXPECT_FALSE(parseS3Error("<Error><Code></Code></Error>"));
  EXPECT_FALSE(parseS3Error("<Error><Code>Truncated"));
  // <Errors> is not <Error>.
  EXPECT_FALSE(parseS3Error("<Errors><Code>X</Code></Errors>"));
}

TEST(S3Xml, CleansAndCapsErrorText) {
  const auto error = parseS3Error("<Error><Code>Bad\x01\nCode</Code><Message>" +
                                  std::string(500, 'm') + "</Message></Error>");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, "Bad  Code");
  EXPECT_EQ(error->message.size(), 200u);
}

TEST(S3Xml, ReadsElementText) {
  const std::string xml =
      "<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Bucket>b</Bucket><Key>k</Key><UploadIdMarker>no</UploadIdMarker>"
      "<UploadId>VXBsb2FkIElE&amp;x</UploadId></InitiateMultipartUploadResult>";
  EXPECT_EQ(xmlElementText(xml, "UploadId"), "VXBsb2FkIElE&x");
  EXPECT_EQ(xmlElementText(xml, "Bucket"), "b");
  EXPECT_EQ(xmlElementText(xml, "Missing"), std::nullopt);
  EXPECT_EQ(xmlElementText("<A/>", "A"), "");
}

TEST(S3Xml, BuildsTheCompleteDocumentWithEscapedETags) {
  const std::string xml = completeMultipartUploadXml(
      {{1, "\"a1\"", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="}, {2, "\"b2\"", ""}});
  EXPECT_EQ(xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            "<Part><PartNumber>1</PartNumber><ETag>&quot;a1&quot;</ETag>"
            "<ChecksumSHA256>47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=</ChecksumSHA256></Part>"
            "<Part><PartNumber>2</PartNumber><ETag>&quot;b2&quot;</ETag></Part>"
            "</CompleteMultipartUpload>");
  EXPECT_EQ(xmlElementText(xml, "ETag"), "\"a1\"");
}

TEST(S3Xml, RetriesTransientAnswersOnly) {
  EXPECT_TRUE(isRetryableS3Error(500, "InternalError"));
  EXPECT_TRUE(isRetryableS3Error(503, "SlowDown"));
  EXPECT_TRUE(isRetryableS3Error(502, ""));
  EXPECT_TRUE(isRetryableS3Error(400, "RequestTimeout"));
  EXPECT_TRUE(isRetryableS3Error(429, ""));
  EXPECT_FALSE(isRetryableS3Error(403, "AccessDenied"));
  EXPECT_FALSE(isRetryableS3Error(403, "SignatureDoesNotMatch"));
  EXPECT_FALSE(isRetryableS3Error(404, "NoSuchBucket"));
  EXPECT_FALSE(isRetryableS3Error(400, "InvalidArgument"));
}

}  // namespace
}  // namespace siprecd::storage
