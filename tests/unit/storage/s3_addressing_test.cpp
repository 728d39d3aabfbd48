#include "storage/s3_addressing.hpp"

#include <gtest/gtest.h>

namespace siprecd::storage {
namespace {

TEST(S3Addressing, AwsVirtualHostedByDefault) {
  auto addressing = S3Addressing::make("recordings", "eu-west-1", "", false);
  ASSERT_TRUE(addressing) << addressing.error().message;
  const S3Target target = addressing->object("acme/2024-01-02/a b+c.wav");
  EXPECT_EQ(target.host, "recordings.s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(target.canonical_path, "/acme/2024-01-02/a%20b%2Bc.wav");
  EXPECT_EQ(target.url,
            "https://recordings.s3.eu-west-1.amazonaws.com/acme/2024-01-02/a%20b%2Bc.wav");
  EXPECT_EQ(addressing->location("acme/a.wav"), "s3://recordings/acme/a.wav");
}

TEST(S3Addressing, PathStyleForEndpointsWhenAsked) {
  auto addressing = S3Addressing::make("rec", "us-east-1", "http://minio.local:9000/", true);
  ASSERT_TRUE(addressing);
  const S3Target target = addressing->object("k.wav");
  EXPECT_EQ(target.host, "minio.local:9000");
  EXPECT_EQ(target.canonical_path, "/rec/k.wav");
  EXPECT_EQ(target.url, "http://minio.local:9000/rec/k.wav");
}

TEST(S3Addressing, VirtualHostedOnACustomEndpoint) {
  auto addressing = S3Addressing::make("rec", "auto", "https://ACCOUNT.r2.example.com", false);
  ASSERT_TRUE(addressing);
  EXPECT_TRUE(addressing->virtualHosted());
  EXPECT_EQ(addressing->object("k").url, "https://rec.account.r2.example.com/k");
}

TEST(S3Addressing, FallsBackToPathStyleWhereVirtualHostsCannotWork) {
  for (const auto& [bucket, endpoint] :
       std::vector<std::pair<std::string, std::string>>{{"rec", "http://127.0.0.1:4566"},
                                                        {"rec", "http://[::1]:4566"},
                                                        {"rec", "http://localhost:4566"},
                                                        {"my.dotted.bucket", ""},
                                                        {"Upper_Case", ""}}) {
    auto addressing = S3Addressing::make(bucket, "us-east-1", endpoint, false);
    ASSERT_TRUE(addressing) << bucket << " " << endpoint;
    EXPECT_FALSE(addressing->virtualHosted()) << bucket << " " << endpoint;
    EXPECT_EQ(addressing->object("k").canonical_path, "/" + bucket + "/k");
  }
}

TEST(S3Addressing, RejectsBadFieldsNamingThem) {
  auto bucket = S3Addressing::make("a/b", "us-east-1", "", false);
  ASSERT_FALSE(bucket);
  EXPECT_NE(bucket.error().message.find("bucket"), std::string::npos);
  EXPECT_FALSE(S3Addressing::make("", "us-east-1", "", false));
  auto region = S3Addressing::make("b", "US EAST", "", false);
  ASSERT_FALSE(region);
  EXPECT_NE(region.error().message.find("region"), std::string::npos);
  for (const char* endpoint :
       {"ftp://h", "h:9000", "http://", "http://h/path", "http://user@h", "http://h?x=1"}) {
    auto made = S3Addressing::make("b", "us-east-1", endpoint, true);
    ASSERT_FALSE(made) << endpoint;
    EXPECT_NE(made.error().message.find("endpoint"), std::string::npos);
  }
}

}  // namespace
}  // namespace siprecd::storage
