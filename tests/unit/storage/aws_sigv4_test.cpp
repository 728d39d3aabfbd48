#include "storage/aws_sigv4.hpp"

#include <chrono>

#include <gtest/gtest.h>

namespace siprecd::storage {
namespace {

// The AWS SigV4 test suite's signer ("aws-sig-v4-test-suite"): example key, us-east-1,
// service "service", 2015-08-30T12:36:00Z.
const AwsCredentials kSuiteKey{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
constexpr std::string_view kSuiteDate = "20150830T123600Z";
constexpr std::string_view kSuitePrefix =
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ";
constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// The S3 API reference's examples ("Signature Calculations for the Authorization Header:
// Transferring Payload in a Single Chunk"): examplebucket, 2013-05-24T00:00:00Z.
const AwsCredentials kS3ExampleKey{"AKIAIOSFODNN7EXAMPLE",
                                   "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
constexpr std::string_view kS3ExampleDate = "20130524T000000Z";

SigV4Request suiteRequest(std::string method, std::string raw_query = "") {
  SigV4Request request;
  request.method = std::move(method);
  request.canonical_path = "/";
  request.query = parseQuery(raw_query);
  request.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", std::string(kSuiteDate)}};
  request.payload_sha256 = std::string(kEmptySha256);
  return request;
}

SigV4Request s3ExampleRequest(std::string method, std::string path, std::string raw_query,
                              std::string payload_sha256) {
  SigV4Request request;
  request.method = std::move(method);
  request.canonical_path = std::move(path);
  request.query = parseQuery(raw_query);
  request.payload_sha256 = std::move(payload_sha256);
  request.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                     {"x-amz-date", std::string(kS3ExampleDate)},
                     {"x-amz-content-sha256", request.payload_sha256}};
  return request;
}

TEST(AwsSigV4, SignsSuiteGetVanilla) {
  const auto signed_request =
      signSigV4(suiteRequest("GET"), kSuiteKey, "us-east-1", "service", kSuiteDate);
  EXPECT_EQ(signed_request.canonical_request,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "host;x-amz-date\n" +
                std::string(kEmptySha256));
  EXPECT_EQ(signed_request.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(signed_request.authorization,
            std::string(kSuitePrefix) +
                "SignedHeaders=host;x-amz-date, "
                "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(AwsSigV4, SortsSuiteQueryOrderKeyCase) {
  const auto signed_request = signSigV4(suiteRequest("GET", "Param2=value2&Param1=value1"),
                                        kSuiteKey, "us-east-1", "service", kSuiteDate);
  EXPECT_NE(signed_request.canonical_request.find("\nParam1=value1&Param2=value2\n"),
            std::string::npos)
      << signed_request.canonical_request;
  EXPECT_EQ(signed_request.string_to_sign.substr(signed_request.string_to_sign.rfind('\n') + 1),
            "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0");
  EXPECT_EQ(signed_request.signature,
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST(AwsSigV4, SignsSuitePostFormUrlencodedOverContentTypeAndBody) {
  auto request = suiteRequest("POST");
  request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  request.payload_sha256 = sha256Hex("Param1=value1");
  EXPECT_EQ(request.payload_sha256,
            "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
  const auto signed_request = signSigV4(request, kSuiteKey, "us-east-1", "service", kSuiteDate);
  EXPECT_EQ(signed_request.canonical_request,
            "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\n"
            "host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "content-type;host;x-amz-date\n"
            "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
  EXPECT_EQ(signed_request.authorization,
            std::string(kSuitePrefix) +
                "SignedHeaders=content-type;host;x-amz-date, "
                "Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a");
}

TEST(AwsSigV4, SignsTheSessionTokenAsAHeader) {
  // The suite's post-sts-header-after: the token is signed like any header.
  auto request = suiteRequest("POST");
  request.headers.emplace_back(
      "X-Amz-Security-Token",
      "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXm"
      "xfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0"
      "KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZ"
      "bqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==");
  const auto signed_request = signSigV4(request, kSuiteKey, "us-east-1", "service", kSuiteDate);
  EXPECT_EQ(signed_request.string_to_sign.substr(signed_request.string_to_sign.rfind('\n') + 1),
            "c237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e71567c1a882f6");
  EXPECT_EQ(signed_request.authorization,
            std::string(kSuitePrefix) +
                "SignedHeaders=host;x-amz-date;x-amz-security-token, "
                "Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead");
}

TEST(AwsSigV4, TrimsHeaderValuesAndJoinsRepeatedNames) {
  auto trimmed = suiteRequest("GET");
  trimmed.headers.emplace_back("My-Header1", " value1");
  trimmed.headers.emplace_back("My-Header2", "\"a   b   c\"");
  EXPECT_EQ(signSigV4(trimmed, kSuiteKey, "us-east-1", "service", kSuiteDate).signature,
            "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736");

  auto repeated = suiteRequest("GET");
  repeated.headers.emplace_back("My-Header1", "value2");
  repeated.headers.emplace_back("My-Header1", "value2");
  repeated.headers.emplace_back("My-Header1", "value1");
  const auto signed_request = signSigV4(repeated, kSuiteKey, "us-east-1", "service", kSuiteDate);
  EXPECT_NE(signed_request.canonical_request.find("my-header1:value2,value2,value1\n"),
            std::string::npos);
  EXPECT_EQ(signed_request.signature,
            "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea");
}

TEST(AwsSigV4, SignsS3GetObjectExample) {
  auto request = s3ExampleRequest("GET", "/test.txt", "", std::string(kEmptySha256));
  request.headers.emplace_back("Range", "bytes=0-9");
  const auto signed_request = signSigV4(request, kS3ExampleKey, "us-east-1", "s3", kS3ExampleDate);
  EXPECT_EQ(signed_request.signed_headers, "host;range;x-amz-content-sha256;x-amz-date");
  EXPECT_EQ(signed_request.signature,
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(AwsSigV4, SignsS3PutObjectExampleWithAnEncodedKey) {
  const std::string payload = sha256Hex("Welcome to Amazon S3.");
  EXPECT_EQ(payload, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  auto request = s3ExampleRequest("PUT", "/" + awsUriEncode("test$file.text", true), "", payload);
  EXPECT_EQ(request.canonical_path, "/test%24file.text");
  request.headers.emplace_back("Date", "Fri, 24 May 2013 00:00:00 GMT");
  request.headers.emplace_back("x-amz-storage-class", "REDUCED_REDUNDANCY");
  const auto signed_request = signSigV4(request, kS3ExampleKey, "us-east-1", "s3", kS3ExampleDate);
  EXPECT_EQ(sha256Hex(signed_request.canonical_request),
            "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  EXPECT_EQ(signed_request.signature,
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(AwsSigV4, SignsS3QueryExamplesWithValuelessAndSortedParameters) {
  const auto lifecycle =
      signSigV4(s3ExampleRequest("GET", "/", "lifecycle", std::string(kEmptySha256)), kS3ExampleKey,
                "us-east-1", "s3", kS3ExampleDate);
  EXPECT_NE(lifecycle.canonical_request.find("\nlifecycle=\n"), std::string::npos);
  EXPECT_EQ(lifecycle.signature,
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");

  const auto listing =
      signSigV4(s3ExampleRequest("GET", "/", "prefix=J&max-keys=2", std::string(kEmptySha256)),
                kS3ExampleKey, "us-east-1", "s3", kS3ExampleDate);
  EXPECT_NE(listing.canonical_request.find("\nmax-keys=2&prefix=J\n"), std::string::npos);
  EXPECT_EQ(listing.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(AwsSigV4, UriEncodesEveryByteButUnreservedOnes) {
  EXPECT_EQ(awsUriEncode("-._~09AZaz", false), "-._~09AZaz");
  EXPECT_EQ(awsUriEncode("a b+c=d&e/f", false), "a%20b%2Bc%3Dd%26e%2Ff");
  EXPECT_EQ(awsUriEncode("dir/a b/c.wav", true), "dir/a%20b/c.wav");
  EXPECT_EQ(awsUriEncode("\xe1\x88\xb4", true), "%E1%88%B4");  // the suite's get-utf8
  EXPECT_EQ(awsUriEncode("100%", true), "100%25");
}

TEST(AwsSigV4, CanonicalQueryEncodesAndSortsPairs) {
  EXPECT_EQ(canonicalQuery(parseQuery("b=2&a=1&a=0&c")), "a=0&a=1&b=2&c=");
  EXPECT_EQ(canonicalQuery(parseQuery("q=a+b")), "q=a%2Bb");  // '+' is a plus, not a space
  EXPECT_EQ(canonicalQuery(parseQuery("q=a%20b&x=a%2Fb")), "q=a%20b&x=a%2Fb");
  EXPECT_EQ(canonicalQuery({{"uploadId", "VXBsb2Fk/ID=="}, {"partNumber", "10"}}),
            "partNumber=10&uploadId=VXBsb2Fk%2FID%3D%3D");
  // Sorted on the encoded names: '%' (0x25) sorts before letters.
  EXPECT_EQ(canonicalQuery({{"b", "1"}, {" a", "2"}}), "%20a=2&b=1");
}

TEST(AwsSigV4, FormatsAmzDateInUtc) {
  using namespace std::chrono;
  const sys_days day = year{2015} / August / 30;
  EXPECT_EQ(amzDate(system_clock::time_point(day + hours(12) + minutes(36))), "20150830T123600Z");
}

TEST(AwsSigV4, EncodesDigestsInBase64) {
  EXPECT_EQ(hexToBase64(std::string(kEmptySha256)), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
  EXPECT_EQ(hexToBase64("00ff10"), "AP8Q");
  EXPECT_EQ(hexToBase64("abc"), "");
  EXPECT_EQ(hexToBase64("zz"), "");
  const std::string text = "Ma";
  EXPECT_EQ(base64Encode(std::as_bytes(std::span(text))), "TWE=");
}

}  // namespace
}  // namespace siprecd::storage
