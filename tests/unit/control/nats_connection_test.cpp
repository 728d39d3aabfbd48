#include "control/nats_connection.hpp"

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "control/nats_test_server.hpp"
#include "support/temp_dir.hpp"

namespace siprecd::control {
namespace {

using namespace std::chrono_literals;
using test_support::connectTo;
using test_support::eventually;
using test_support::NatsTestServer;
using test_support::natsTestSettings;
using test_support::streamMessages;

class NatsConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!NatsTestServer::installed()) {
      GTEST_SKIP() << NatsTestServer::kBinary << " not installed";
    }
    ASSERT_TRUE(server_.start());
  }

  NatsTestServer server_;
};

TEST(NatsSettings, RefusesAMissingUrlNamingTheKey) {
  NatsSettings settings;
  settings.url = " , ";
  const auto connection = NatsConnection::open(settings);
  ASSERT_FALSE(connection);
  EXPECT_EQ(connection.error().message.rfind("nats.url", 0), 0u) << connection.error().message;
  EXPECT_EQ(connection.error().code, 2);
}

TEST(NatsSettings, RefusesUnreadableFilesAndHalfCredentials) {
  NatsSettings settings = natsTestSettings("nats://127.0.0.1:4222");
  settings.credentials_file = "/nonexistent/siprecd.creds";
  auto connection = NatsConnection::open(settings);
  ASSERT_FALSE(connection);
  EXPECT_NE(connection.error().message.find("nats.credentials"), std::string::npos);

  settings = natsTestSettings("nats://127.0.0.1:4222");
  settings.tls_ca = "/nonexistent/ca.pem";
  connection = NatsConnection::open(settings);
  ASSERT_FALSE(connection);
  EXPECT_NE(connection.error().message.find("nats.tls_ca"), std::string::npos);

  settings = natsTestSettings("nats://127.0.0.1:4222");
  settings.user = "siprecd";
  connection = NatsConnection::open(settings);
  ASSERT_FALSE(connection);
  EXPECT_NE(connection.error().message.find("nats.password"), std::string::npos);
}

TEST(NatsSubjectToken, ReplacesCharactersThatWouldSplitOrWildcardASubject) {
  EXPECT_EQ(natsSubjectToken("default"), "default");
  EXPECT_EQ(natsSubjectToken("rec.example.com"), "rec_example_com");
  EXPECT_EQ(natsSubjectToken("a*b>c d"), "a_b_c_d");
  EXPECT_EQ(natsSubjectToken("acme-1_x"), "acme-1_x");
}

TEST(NatsSettings, SplitsCommaSeparatedUrls) {
  EXPECT_EQ(splitNatsUrls(" nats://a:4222 ,tls://b:4222,, "),
            (std::vector<std::string>{"nats://a:4222", "tls://b:4222"}));
  EXPECT_TRUE(splitNatsUrls("").empty());
}

TEST_F(NatsConnectionTest, ConnectsAndCreatesAMissingStreamOnce) {
  auto connection = connectTo(server_.url());
  ASSERT_TRUE(connection);
  EXPECT_FALSE(streamMessages(*connection, "SIPRECD_COMMANDS"));
  const NatsStreamSpec spec{"SIPRECD_COMMANDS", "siprecd.*.commands", true, 1h, 60s};
  const auto created = connection->ensureStream(spec);
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(streamMessages(*connection, "SIPRECD_COMMANDS"), 0u);

  jsStreamInfo* raw = nullptr;
  jsErrCode error = static_cast<jsErrCode>(0);
  ASSERT_EQ(js_GetStreamInfo(&raw, connection->jetStream(), "SIPRECD_COMMANDS", nullptr, &error),
            NATS_OK);
  NatsPtr<jsStreamInfo> info(raw);
  ASSERT_EQ(info->Config->SubjectsLen, 1);
  EXPECT_STREQ(info->Config->Subjects[0], "siprecd.*.commands");
  EXPECT_EQ(info->Config->Retention, js_WorkQueuePolicy);
  EXPECT_EQ(info->Config->Storage, js_FileStorage);
  EXPECT_EQ(info->Config->MaxAge, int64_t{3600} * 1'000'000'000);
  EXPECT_EQ(info->Config->Duplicates, int64_t{60} * 1'000'000'000);

  // Present (even with another configuration): left as it is.
  const NatsStreamSpec other{"SIPRECD_COMMANDS", "siprecd.*.commands", false, 0s, 120s};
  EXPECT_TRUE(connection->ensureStream(other));
  raw = nullptr;
  ASSERT_EQ(js_GetStreamInfo(&raw, connection->jetStream(), "SIPRECD_COMMANDS", nullptr, &error),
            NATS_OK);
  info.reset(raw);
  EXPECT_EQ(info->Config->Retention, js_WorkQueuePolicy);
}

TEST_F(NatsConnectionTest, ReportsAStreamItCannotCreate) {
  auto connection = connectTo(server_.url());
  ASSERT_TRUE(connection);
  ASSERT_TRUE(connection->ensureStream({"FIRST", "siprecd.*.events.>", false, 0s, 120s}));
  // The same subjects under another name overlap: JetStream refuses.
  const auto second = connection->ensureStream({"SECOND", "siprecd.*.events.>", false, 0s, 120s});
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message.find("SECOND"), std::string::npos) << second.error().message;
}

TEST_F(NatsConnectionTest, OpensWithoutAServerAndConnectsWhenOneStarts) {
  server_.stop();
  auto connection = NatsConnection::open(natsTestSettings(server_.url()));
  ASSERT_TRUE(connection) << connection.error().message;
  EXPECT_FALSE((*connection)->connected());
  ASSERT_TRUE(server_.start());
  EXPECT_TRUE(eventually([&] { return (*connection)->connected(); }));
}

TEST_F(NatsConnectionTest, ReconnectsAfterTheServerRestarts) {
  auto connection = connectTo(server_.url());
  ASSERT_TRUE(connection);
  server_.stop();
  EXPECT_TRUE(eventually([&] { return !connection->connected(); }));
  ASSERT_TRUE(server_.start());
  EXPECT_TRUE(eventually([&] { return connection->connected(); }));
  EXPECT_TRUE(connection->ensureStream({"AFTER", "after.>", false, 0s, 120s}));
}

}  // namespace
}  // namespace siprecd::control
