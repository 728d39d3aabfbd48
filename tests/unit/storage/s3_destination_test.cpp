#include "storage/s3_destination.hpp"

#include <map>

#include <gtest/gtest.h>

#include "s3_fake_server.hpp"
#include "storage/destination_factory.hpp"
#include "support/temp_dir.hpp"

namespace siprecd::storage {
namespace {

constexpr uint64_t kMiB = 1ULL << 20;
constexpr std::string_view kKeyId = "AKIDTEST";
constexpr std::string_view kSecret = "unit-test-secret-key";

EnvironmentLookup noEnvironment() {
  return [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
}

std::string pattern(std::size_t size) {
  std::string content(size, '\0');
  for (std::size_t i = 0; i < size; ++i) {
    content[i] = static_cast<char>((i * 7919) % 253);
  }
  return content;
}

class S3DestinationTest : public ::testing::Test {
 protected:
  S3DestinationSettings settings() const {
    S3DestinationSettings s;
    s.name = "archive";
    s.bucket = "rec";
    s.endpoint = server_.endpoint();
    s.path_style = true;
    s.credentials = {std::string(kKeyId), std::string(kSecret), "", ""};
    s.multipart_threshold_bytes = 5 * kMiB;
    s.part_size_bytes = 5 * kMiB;
    s.client.backoff = std::chrono::milliseconds(1);
    s.client.max_backoff = std::chrono::milliseconds(4);
    s.client.attempts = 3;
    return s;
  }
  std::unique_ptr<S3Destination> make(S3DestinationSettings s) const {
    auto destination = S3Destination::make(std::move(s), noEnvironment());
    EXPECT_TRUE(destination) << destination.error().message;
    return destination ? std::move(*destination) : nullptr;
  }

  test_support::TempDir temp_;
  test_support::S3FakeServer server_{std::string(kKeyId), std::string(kSecret)};
};

TEST_F(S3DestinationTest, SmallFileIsOneSignedPutWithChecksumAndObjectHeaders) {
  auto s = settings();
  s.sse = "aws:kms";
  s.kms_key_id = "arn:aws:kms:us-east-1:111122223333:key/k1";
  s.storage_class = "STANDARD_IA";
  auto destination = make(s);
  ASSERT_TRUE(destination);
  const std::string content = pattern(1000);
  auto stored = destination->putTagged(temp_.write("a.wav", content), "acme/2024-01-02/a b.wav",
                                       "audio/wav", {{"domain", "acme"}, {"recordingId", "r 1&2"}});
  ASSERT_TRUE(stored) << stored.error().message;
  EXPECT_EQ(stored->location, "s3://rec/acme/2024-01-02/a b.wav");
  EXPECT_EQ(stored->size, content.size());
  EXPECT_EQ(stored->sha256, sha256Hex(content));
  EXPECT_EQ(server_.object("/rec/acme/2024-01-02/a%20b.wav"), content);
  const auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 1u);
  const auto& headers = requests[0].headers;
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(headers.at("content-type"), "audio/wav");
  EXPECT_EQ(headers.at("x-amz-content-sha256"), sha256Hex(content));
  EXPECT_EQ(headers.at("x-amz-checksum-sha256"), hexToBase64(sha256Hex(content)));
  EXPECT_EQ(headers.at("x-amz-server-side-encryption"), "aws:kms");
  EXPECT_EQ(headers.at("x-amz-server-side-encryption-aws-kms-key-id"), s.kms_key_id);
  EXPECT_EQ(headers.at("x-amz-storage-class"), "STANDARD_IA");
  EXPECT_EQ(headers.at("x-amz-tagging"), "domain=acme&recordingId=r%201%262");
  EXPECT_FALSE(headers.contains("x-amz-security-token"));
  EXPECT_NE(headers.at("authorization").find("x-amz-tagging"), std::string::npos);
}

TEST_F(S3DestinationTest, SessionTokenTravelsSignedAndNoCredentialInLogsOrErrors) {
  auto s = settings();
  s.credentials.session_token = "session-token-value";
  auto destination = make(s);
  ASSERT_TRUE(destination);
  ASSERT_TRUE(destination->put(temp_.write("a.wav", "abc"), "a.wav", "audio/wav"));
  const auto headers = server_.requests().at(0).headers;
  EXPECT_EQ(headers.at("x-amz-security-token"), "session-token-value");
  EXPECT_NE(headers.at("authorization").find("x-amz-security-token"), std::string::npos);
}

TEST_F(S3DestinationTest, LargeFileGoesUpInParallelPartsAndIsAssembled) {
  auto destination = make(settings());
  ASSERT_TRUE(destination);
  const std::string content = pattern(16 * kMiB + 123);
  auto stored = destination->put(temp_.write("big.wav", content), "big.wav", "audio/wav");
  ASSERT_TRUE(stored) << stored.error().message;
  EXPECT_EQ(stored->size, content.size());
  EXPECT_EQ(stored->sha256, sha256Hex(content));
  EXPECT_EQ(server_.object("/rec/big.wav"), content);
  EXPECT_EQ(server_.openUploads(), 0u);
  std::map<std::string, int> operations;
  for (const auto& request : server_.requests()) {
    const std::string op =
        request.method + (request.query.find("uploads") != std::string::npos      ? " create"
                          : request.query.find("partNumber") != std::string::npos ? " part"
                                                                                  : " other");
    ++operations[op];
    if (op == "PUT part") {
      EXPECT_TRUE(request.headers.contains("x-amz-checksum-sha256"));
    }
  }
  EXPECT_EQ(operations["POST create"], 1);
  EXPECT_EQ(operations["PUT part"], 4);  // 5 + 5 + 5 + 1 MiB
  EXPECT_EQ(operations["POST other"], 1);
  const auto created = server_.objectRequest("/rec/big.wav");
  ASSERT_TRUE(created);
  EXPECT_EQ(created->headers.at("x-amz-checksum-algorithm"), "SHA256");
  EXPECT_EQ(created->headers.at("content-type"), "audio/wav");
}

TEST_F(S3DestinationTest, RetriesTransientFailuresThenStores) {
  server_.intercept([](const test_support::S3FakeServer::Request&,
                       std::size_t index) -> std::optional<test_support::S3FakeServer::Response> {
    if (index == 0) {
      return test_support::S3FakeServer::error(503, "SlowDown", "Please reduce your request rate.");
    }
    if (index == 1) {
      return test_support::S3FakeServer::Response{502, "<html>bad gateway</html>", {}};
    }
    return std::nullopt;
  });
  auto destination = make(settings());
  ASSERT_TRUE(destination);
  auto stored = destination->put(temp_.write("a.wav", "abc"), "a.wav", "audio/wav");
  ASSERT_TRUE(stored) << stored.error().message;
  EXPECT_EQ(server_.requests().size(), 3u);
  EXPECT_EQ(server_.object("/rec/a.wav"), "abc");
}

TEST_F(S3DestinationTest, PermanentErrorNamesTheS3CodeAndIsNotRetried) {
  server_.intercept([](const test_support::S3FakeServer::Request&,
                       std::size_t) -> std::optional<test_support::S3FakeServer::Response> {
    return test_support::S3FakeServer::error(403, "AccessDenied", "Access Denied");
  });
  auto destination = make(settings());
  ASSERT_TRUE(destination);
  auto stored = destination->put(temp_.write("a.wav", "abc"), "k/a.wav", "audio/wav");
  ASSERT_FALSE(stored);
  EXPECT_EQ(stored.error().code, 403);
  EXPECT_EQ(stored.error().message,
            "s3 destination 'archive': PutObject s3://rec/k/a.wav: AccessDenied (HTTP 403): "
            "Access Denied");
  EXPECT_EQ(server_.requests().size(), 1u);
}

TEST_F(S3DestinationTest, WrongSecretIsRejectedAndNeverQuoted) {
  auto s = settings();
  s.credentials.secret_access_key = "the-wrong-secret";
  auto destination = make(s);
  ASSERT_TRUE(destination);
  auto stored = destination->put(temp_.write("a.wav", "abc"), "a.wav", "audio/wav");
  ASSERT_FALSE(stored);
  EXPECT_NE(stored.error().message.find("SignatureDoesNotMatch (HTTP 403)"), std::string::npos)
      << stored.error().message;
  EXPECT_EQ(stored.error().message.find("the-wrong-secret"), std::string::npos);
  EXPECT_FALSE(server_.object("/rec/a.wav"));
}

TEST_F(S3DestinationTest, FailedPartAbortsTheUploadAndLeavesNoObject) {
  server_.intercept([](const test_support::S3FakeServer::Request& request,
                       std::size_t) -> std::optional<test_support::S3FakeServer::Response> {
    if (request.query.find("partNumber=2") != std::string::npos) {
      return test_support::S3FakeServer::error(400, "InvalidArgument", "bad part");
    }
    return std::nullopt;
  });
  auto destination = make(settings());
  ASSERT_TRUE(destination);
  auto stored =
      destination->put(temp_.write("big.wav", pattern(11 * kMiB)), "big.wav", "audio/wav");
  ASSERT_FALSE(stored);
  EXPECT_NE(stored.error().message.find("UploadPart 2 s3://rec/big.wav: InvalidArgument"),
            std::string::npos)
      << stored.error().message;
  EXPECT_FALSE(server_.object("/rec/big.wav"));
  EXPECT_EQ(server_.openUploads(), 0u);
  const auto requests = server_.requests();
  EXPECT_EQ(requests.back().method, "DELETE");
}

TEST_F(S3DestinationTest, ErrorInsideA200CompleteAnswerFailsTheStore) {
  server_.intercept([](const test_support::S3FakeServer::Request& request,
                       std::size_t) -> std::optional<test_support::S3FakeServer::Response> {
    if (request.method == "POST" && request.query.starts_with("uploadId")) {
      auto answer = test_support::S3FakeServer::error(200, "AccessDenied", "late denial");
      return answer;
    }
    return std::nullopt;
  });
  auto destination = make(settings());
  ASSERT_TRUE(destination);
  auto stored = destination->put(temp_.write("big.wav", pattern(6 * kMiB)), "big.wav", "audio/wav");
  ASSERT_FALSE(stored);
  EXPECT_NE(stored.error().message.find("CompleteMultipartUpload s3://rec/big.wav: AccessDenied"),
            std::string::npos)
      << stored.error().message;
  EXPECT_EQ(server_.openUploads(), 0u);
}

TEST_F(S3DestinationTest, UnreachableStoreIsRetriedThenReportedAsTransportError) {
  auto s = settings();
  s.endpoint = "http://127.0.0.1:1";
  auto destination = make(s);
  ASSERT_TRUE(destination);
  auto stored = destination->put(temp_.write("a.wav", "abc"), "a.wav", "audio/wav");
  ASSERT_FALSE(stored);
  EXPECT_EQ(stored.error().code, 0);
  EXPECT_NE(stored.error().message.find("PutObject s3://rec/a.wav: "), std::string::npos);
}

TEST_F(S3DestinationTest, MakeValidatesSettingsAndCredentials) {
  auto s = settings();
  s.sse = "DES";
  EXPECT_FALSE(S3Destination::make(s, noEnvironment()));
  s = settings();
  s.kms_key_id = "k";
  EXPECT_FALSE(S3Destination::make(s, noEnvironment()));
  s = settings();
  s.storage_class = "glacier deep";
  EXPECT_FALSE(S3Destination::make(s, noEnvironment()));
  s = settings();
  s.credentials = {};
  auto missing = S3Destination::make(s, [](const std::string& name) -> std::optional<std::string> {
    if (name == "HOME") {
      return "/nonexistent-home-for-test";
    }
    return std::nullopt;
  });
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("s3 destination 'archive': no AWS credentials"),
            std::string::npos);
}

TEST_F(S3DestinationTest, EnvironmentCredentialsAreReadAtEachPut) {
  auto s = settings();
  s.credentials = {};
  std::string secret = "rotated-away";
  auto environment = [&secret](const std::string& name) -> std::optional<std::string> {
    if (name == "AWS_ACCESS_KEY_ID") {
      return std::string(kKeyId);
    }
    if (name == "AWS_SECRET_ACCESS_KEY") {
      return secret;
    }
    return std::nullopt;
  };
  auto destination = S3Destination::make(s, environment);
  ASSERT_TRUE(destination);
  EXPECT_FALSE((*destination)->put(temp_.write("a.wav", "abc"), "a.wav", "audio/wav"));
  secret = std::string(kSecret);
  EXPECT_TRUE((*destination)->put(temp_.write("a.wav", "abc"), "a.wav", "audio/wav"));
}

TEST_F(S3DestinationTest, RejectsEmptyAndOversizeKeys) {
  auto destination = make(settings());
  ASSERT_TRUE(destination);
  const auto file = temp_.write("a.wav", "abc");
  EXPECT_EQ(destination->put(file, "", "audio/wav").error().code, 400);
  EXPECT_EQ(destination->put(file, std::string(1025, 'k'), "audio/wav").error().code, 400);
  EXPECT_TRUE(server_.requests().empty());
}

TEST(S3DestinationFactory, BuildsAnS3DestinationFromSettings) {
  DestinationSettings settings;
  settings.name = "cloud";
  settings.type = "s3";
  settings.bucket = "rec";
  settings.endpoint = "http://127.0.0.1:9";
  settings.path_style = true;
  settings.access_key_id = "AKID";
  settings.secret_access_key = "secret";
  auto destination = makeDestination(settings);
  ASSERT_TRUE(destination) << destination.error().message;
  EXPECT_EQ((*destination)->kind(), "s3");

  settings.bucket = "bad/bucket";
  auto bad = makeDestination(settings);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("'cloud'"), std::string::npos);
}

}  // namespace
}  // namespace siprecd::storage
