#include "app/api_routes.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <curl/curl.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/manual_event_loop.hpp"
#include "base/strings.hpp"
#include "control/api_auth.hpp"
#include "control/command_service.hpp"
#include "control/json_web_token.hpp"
#include "db/sqlite_repository.hpp"
#include "support/temp_dir.hpp"

namespace siprecd::app {
namespace {

using nlohmann::json;

struct Reply {
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  json parsed() const { return json::parse(body, nullptr, false); }
};

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

std::size_t appendBody(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

std::size_t appendHeader(char* data, std::size_t size, std::size_t count, void* user) {
  const std::string_view line(data, size * count);
  const auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    (*static_cast<std::map<std::string, std::string>*>(user))[toLower(line.substr(0, colon))] =
        std::string(trim(line.substr(colon + 1)));
  }
  return size * count;
}

/// One request with libcurl: `method` GET, HEAD or POST (with `body`).
Reply request(uint16_t port, const std::string& method, const std::string& target,
              const std::vector<std::string>& headers = {}, const std::string& body = "") {
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  std::unique_ptr<curl_slist, SlistDeleter> list;
  for (const auto& header : headers) {
    list.reset(curl_slist_append(list.release(), header.c_str()));
  }
  Reply reply;
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + target;
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, list.get());
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, appendBody);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, appendHeader);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERDATA, &reply.headers);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, 10L);
  if (method == "HEAD") {
    curl_easy_setopt(curl.get(), CURLOPT_NOBODY, 1L);
  } else if (method == "POST") {
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  if (curl_easy_perform(curl.get()) == CURLE_OK) {
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &reply.status);
  }
  return reply;
}

class RecordingJobsStub final : public control::RecordingJobs {
 public:
  Result<void> store(control::StoreRequest request) override {
    std::lock_guard lock(mutex);
    stores.push_back(std::move(request));
    return {};
  }
  Result<void> remove(std::string, std::string, std::string) override { return {}; }
  std::size_t storeCount() {
    std::lock_guard lock(mutex);
    return stores.size();
  }
  std::mutex mutex;
  std::vector<control::StoreRequest> stores;
};

class LiveSessionsStub final : public control::LiveSessions {
 public:
  void apply(std::string, control::SessionCommand,
             std::function<void(Result<void>)> done) override {
    done(Result<void>{});
  }
};

constexpr std::string_view kApiKey = "acme-api-key";
constexpr std::string_view kJwtSecret = "acme-jwt-secret";
constexpr std::string_view kXml = "<recording xmlns='urn:ietf:params:xml:ns:recording:1'/>";

class ApiRoutesTest : public testing::Test {
 protected:
  void SetUp() override {
    auto opened = db::SqliteRepository::open(dir_.path() / "siprecd.db");
    ASSERT_TRUE(opened) << opened.error().message;
    repository_ = std::move(*opened);
    auto acme = std::make_shared<control::DomainSettings>();
    acme->name = "acme";
    acme->api_key_hashes = {control::sha256Hex(kApiKey)};
    acme->jwt_hs256_secret = std::string(kJwtSecret);
    acme->destinations["local"] = control::NamedDestination{"local", nullptr};
    auto open = std::make_shared<control::DomainSettings>();
    open->name = "open";
    open->destinations["local"] = control::NamedDestination{"local", nullptr};
    auto directory = std::make_shared<control::DomainDirectory>();
    (*directory)["acme"] = acme;
    (*directory)["open"] = open;
    domains_ = directory;
    commands_ = std::make_unique<control::CommandService>(domains_, *repository_, live_, jobs_,
                                                          tokens_, clock_);
  }

  void TearDown() override {
    server_.stop();
    repository_->flush();
  }

  void start(ApiRateLimit limit = ApiRateLimit{0, 1}) {
    registerApiRoutes(server_, ApiServices{domains_, *commands_, *repository_, clock_, limit});
    auto started = server_.start();
    ASSERT_TRUE(started) << started.error().message;
  }

  /// A finished recording with a 10-byte "WAV" on disk.
  db::RecordingRecord addRecording(const std::string& id, const std::string& domain = "acme") {
    const auto session = dir_.path() / "sessions" / id;
    std::filesystem::create_directories(session);
    std::ofstream(session / "recording.wav") << "0123456789";
    db::RecordingRecord record;
    record.id = id;
    record.domain = domain;
    record.state = "ready";
    record.call_id = "call-" + id;
    record.created_ms = clock_.epochMs() - 60'000;
    record.started_ms = record.created_ms;
    record.ended_ms = record.created_ms + 30'000;
    record.metadata_xml = std::string(kXml);
    record.metadata_json = R"({"participants":[{"participantId":"p1"}],"streams":[]})";
    record.audio_path = (session / "recording.wav").string();
    repository_->insertRecording(record);
    repository_->flush();
    return record;
  }

  Reply get(const std::string& target, std::vector<std::string> headers = {}) {
    headers.push_back("Authorization: Bearer " + std::string(kApiKey));
    return request(server_.port(), "GET", target, headers);
  }
  Reply post(const std::string& target, const std::string& body,
             std::vector<std::string> headers = {}) {
    headers.push_back("Authorization: Bearer " + std::string(kApiKey));
    headers.emplace_back("Content-Type: application/json");
    return request(server_.port(), "POST", target, headers, body);
  }

  test_support::TempDir dir_;
  std::unique_ptr<db::SqliteRepository> repository_;
  std::shared_ptr<const control::DomainDirectory> domains_;
  LiveSessionsStub live_;
  RecordingJobsStub jobs_;
  control::ReplyTokens tokens_{"server-secret"};
  ManualClock clock_;
  std::unique_ptr<control::CommandService> commands_;
  HttpServer server_{"127.0.0.1:0", 2, 4096};
};

TEST_F(ApiRoutesTest, StoreCommandIsAcceptedAndRepeatsAreIdempotent) {
  addRecording("r1");
  start();
  const std::string body = R"({"method":"STORERECORDING","recordingId":"r1","format":"flac"})";
  auto first = post("/callrecording/acme/storerecording", body, {"Idempotency-Key: k1"});
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.headers["content-type"], "application/json");
  EXPECT_EQ(first.parsed()["success"], true);
  EXPECT_EQ(first.parsed()["state"], "storing");
  auto again = post("/callrecording/acme/storerecording", body, {"Idempotency-Key: k1"});
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.parsed(), first.parsed());
  EXPECT_EQ(jobs_.storeCount(), 1u);
  ASSERT_EQ(jobs_.stores[0].format, recording::AudioFormat::Flac);
}

TEST_F(ApiRoutesTest, CommandErrorsAreJsonWithTheirStatus) {
  addRecording("r1");
  start();
  const auto check = [](const Reply& reply, long status) {
    EXPECT_EQ(reply.status, status) << reply.body;
    EXPECT_EQ(reply.parsed()["success"], false) << reply.body;
    EXPECT_EQ(reply.parsed()["error"]["code"], status) << reply.body;
  };
  check(post("/callrecording/acme/explode", R"({"recordingId":"r1"})"), 404);
  check(post("/callrecording/nobody/stoprecording", R"({"recordingId":"r1"})"), 404);
  check(post("/callrecording/acme/storerecording", "{not json"), 400);
  check(post("/callrecording/acme/storerecording", R"({"recordingId":"r1","format":"aiff"})"), 400);
  check(post("/callrecording/acme/storerecording", R"({"recordingId":"zz"})"), 404);
  check(post("/callrecording/acme/stoprecording", R"({"recordingId":"r1"})"), 409);
  check(post("/callrecording/acme/storerecording", std::string(5000, ' ')), 413);
  // Invalid UTF-8 in a field echoed into the message must not break the reply.
  check(post("/callrecording/acme/storerecording", "{\"recordingId\":\"r1\",\"format\":\"\xff\"}"),
        400);
  EXPECT_EQ(jobs_.storeCount(), 0u);
}

TEST_F(ApiRoutesTest, CredentialsAreRequiredWhereConfigured) {
  addRecording("r1");
  start();
  auto none = request(server_.port(), "GET", "/callrecording/acme/recordings");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.headers["www-authenticate"], R"(Bearer realm="siprecd")");
  auto wrong = request(server_.port(), "GET", "/callrecording/acme/recordings",
                       {"Authorization: Bearer wrong"});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_NE(wrong.headers["www-authenticate"].find("invalid_token"), std::string::npos);
  const auto now_s = clock_.epochMs() / 1000;
  const auto token = control::signHs256({{"domain", "acme"}, {"exp", now_s + 60}}, kJwtSecret);
  EXPECT_EQ(request(server_.port(), "GET", "/callrecording/acme/recordings",
                    {"Authorization: Bearer " + token})
                .status,
            200);
  const auto foreign = control::signHs256({{"domain", "open"}, {"exp", now_s + 60}}, kJwtSecret);
  EXPECT_EQ(request(server_.port(), "GET", "/callrecording/acme/recordings",
                    {"Authorization: Bearer " + foreign})
                .status,
            403);
  // A domain without credentials is open.
  EXPECT_EQ(request(server_.port(), "GET", "/callrecording/open/recordings").status, 200);
}

TEST_F(ApiRoutesTest, RateLimitAnswers429WithRetryAfter) {
  start(ApiRateLimit{1, 2});
  EXPECT_EQ(get("/callrecording/acme/recordings").status, 200);
  EXPECT_EQ(get("/callrecording/acme/recordings").status, 200);
  auto limited = get("/callrecording/acme/recordings");
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.headers["retry-after"], "1");
  EXPECT_EQ(limited.parsed()["error"]["code"], 429);
  // Another client (here: an open domain) has its own bucket.
  EXPECT_EQ(request(server_.port(), "GET", "/callrecording/open/recordings").status, 200);
  clock_.advance(std::chrono::seconds(1));
  EXPECT_EQ(get("/callrecording/acme/recordings").status, 200);
}

TEST_F(ApiRoutesTest, ListsAndShowsRecordings) {
  addRecording("r1");
  addRecording("r2");
  addRecording("o1", "open");
  start();
  auto list = get("/callrecording/acme/recordings?limit=1");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(list.parsed()["items"].size(), 1u);
  EXPECT_TRUE(list.parsed()["nextCursor"].is_string());
  EXPECT_EQ(get("/callrecording/acme/recordings?state=bogus").status, 400);
  auto detail = get("/callrecording/acme/recordings/r1");
  ASSERT_EQ(detail.status, 200) << detail.body;
  EXPECT_EQ(detail.parsed()["recordingId"], "r1");
  EXPECT_EQ(detail.parsed()["participants"][0]["participantId"], "p1");
  EXPECT_EQ(get("/callrecording/acme/recordings/o1").status, 404);
  EXPECT_EQ(get("/callrecording/acme/events/dead").parsed()["items"], json::array());
  EXPECT_EQ(get("/callrecording/acme/events/dead?limit=0").status, 400);
}

TEST_F(ApiRoutesTest, MetadataAsJsonOrXml) {
  addRecording("r1");
  start();
  auto as_json = get("/callrecording/acme/recordings/r1/metadata");
  ASSERT_EQ(as_json.status, 200);
  EXPECT_EQ(as_json.parsed()["recordingId"], "r1");
  EXPECT_EQ(as_json.parsed()["participants"][0]["participantId"], "p1");
  auto by_accept = get("/callrecording/acme/recordings/r1/metadata", {"Accept: application/xml"});
  EXPECT_EQ(by_accept.status, 200);
  EXPECT_EQ(by_accept.headers["content-type"], "application/xml");
  EXPECT_EQ(by_accept.body, kXml);
  EXPECT_EQ(get("/callrecording/acme/recordings/r1/metadata?format=xml").body, kXml);
  EXPECT_EQ(get("/callrecording/acme/recordings/r1/metadata?format=yaml").status, 400);
}

TEST_F(ApiRoutesTest, AudioWithRangeAndHead) {
  addRecording("r1");
  start();
  auto whole = get("/callrecording/acme/recordings/r1/audio");
  EXPECT_EQ(whole.status, 200);
  EXPECT_EQ(whole.body, "0123456789");
  EXPECT_EQ(whole.headers["content-type"], "audio/wav");
  EXPECT_EQ(whole.headers["accept-ranges"], "bytes");
  auto part = get("/callrecording/acme/recordings/r1/audio", {"Range: bytes=-4"});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, "6789");
  EXPECT_EQ(part.headers["content-range"], "bytes 6-9/10");
  EXPECT_EQ(get("/callrecording/acme/recordings/r1/audio", {"Range: bytes=20-"}).status, 416);
  auto head = request(server_.port(), "HEAD", "/callrecording/acme/recordings/r1/audio",
                      {"Authorization: Bearer " + std::string(kApiKey)});
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.headers["content-length"], "10");
  EXPECT_EQ(head.body, "");
  EXPECT_EQ(get("/callrecording/acme/recordings/r1/audio?format=aiff").status, 400);
}

TEST_F(ApiRoutesTest, ServesTheOpenApiDocumentWithoutCredentials) {
  start();
  auto document = request(server_.port(), "GET", "/openapi.yaml");
  EXPECT_EQ(document.status, 200);
  EXPECT_EQ(document.headers["content-type"], "application/yaml");
  EXPECT_EQ(document.body.rfind("openapi: 3.1", 0), 0u);
  EXPECT_EQ(document.body, openApiDocument());
}

}  // namespace
}  // namespace siprecd::app
