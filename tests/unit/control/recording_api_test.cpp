#include "control/recording_api.hpp"

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "db/sqlite_repository.hpp"
#include "recording_job_test_support.hpp"
#include "support/temp_dir.hpp"

namespace siprecd::control {
namespace {

using nlohmann::json;

constexpr int64_t kStart = 1'700'000'000'000;
constexpr std::string_view kXml =
    "<recording xmlns='urn:ietf:params:xml:ns:recording:1'><datamode>complete</datamode>"
    "</recording>";

class RecordingApiTest : public testing::Test {
 protected:
  RecordingApiTest() {
    auto opened = db::SqliteRepository::open(dir_.path() / "siprecd.db");
    EXPECT_TRUE(opened) << opened.error().message;
    repository_ = std::move(*opened);
    api_ = std::make_unique<RecordingApi>(*repository_);
  }

  db::RecordingRecord add(const std::string& id, const std::string& state, int64_t created_ms,
                          const std::string& domain = "acme",
                          const std::string& from = "sip:alice@example.com") {
    db::RecordingRecord record;
    record.id = id;
    record.domain = domain;
    record.state = state;
    record.call_id = "call-" + id;
    record.from_uri = from;
    record.to_uri = "sip:bob@example.com";
    record.request_uri = "sip:srs@rec.example";
    record.source = "udp:10.0.0.1:5060";
    record.created_ms = created_ms;
    record.started_ms = created_ms + 100;
    record.metadata_xml = std::string(kXml);
    record.metadata_json = json{
        {"participants",
         {{{"participantId", "p1"},
           {"name", "Alice"},
           {"aors", {from}},
           {"associateTime", created_ms + 100}}}},
        {"streams", {{{"streamId", "s1"}, {"label", "1"}}}},
        {"sessions", json::array()},
        {"groups",
         json::array()}}.dump();
    record.streams_json = json{{{"index", 0}, {"label", "1"}, {"packets", 50}}}.dump();
    repository_->insertRecording(record);
    repository_->flush();
    return record;
  }

  /// A finished one-stream call with a real spool and a WAV placeholder on disk.
  db::RecordingRecord addFinished(const std::string& id) {
    const auto session = dir_.path() / "sessions" / id;
    std::filesystem::create_directories(session);
    test_support::writeSpool(session / "stream-0.spool", 0, "1", test_support::kMuLawHigh, kStart,
                             50);
    std::ofstream(session / "recording.wav") << "RIFF-placeholder";
    db::RecordingRecord record = add(id, "ready", kStart - 100);
    record.started_ms = kStart;
    record.ended_ms = kStart + 1000;
    record.duration_ms = 1000;
    record.audio_path = (session / "recording.wav").string();
    record.pauses_json = R"([{"from":1700000000200,"to":1700000000300}])";
    record.assurance_json = R"({"streams":[{"index":0,"lost":0}]})";
    record.stored_json = R"({"destination":"local","location":"file:///x.wav"})";
    repository_->updateRecording(record);
    repository_->recordTransition(id, "recording", kStart, "");
    repository_->recordTransition(id, "ready", kStart + 1000, "bye");
    repository_->flush();
    return record;
  }

  db::OutboxEvent event(const std::string& event_id, const std::string& recording_id,
                        const std::string& domain = "acme") {
    db::OutboxEvent outbox;
    outbox.event_id = event_id;
    outbox.domain = domain;
    outbox.recording_id = recording_id;
    outbox.name = "RECORDINGREADY";
    outbox.body = json{{"method", "RECORDINGREADY"}, {"eventId", event_id}}.dump();
    outbox.created_ms = kStart;
    return outbox;
  }

  static RecordingListParams params() { return {}; }

  std::vector<std::string> ids(const json& page) {
    std::vector<std::string> list;
    for (const auto& item : page["items"]) {
      list.push_back(item["recordingId"].get<std::string>());
    }
    return list;
  }

  test_support::TempDir dir_;
  std::unique_ptr<db::SqliteRepository> repository_;
  std::unique_ptr<RecordingApi> api_;
};

TEST_F(RecordingApiTest, ListsNewestFirstInPages) {
  add("a1", "ready", 1000);
  add("a2", "recording", 2000);
  add("a3", "stored", 3000);
  add("o1", "ready", 4000, "other");
  RecordingListParams query;
  query.limit = "2";
  auto first = api_->list("acme", query);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(ids(*first), (std::vector<std::string>{"a3", "a2"}));
  ASSERT_TRUE((*first)["nextCursor"].is_string());
  query.cursor = (*first)["nextCursor"].get<std::string>();
  auto second = api_->list("acme", query);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(ids(*second), (std::vector<std::string>{"a1"}));
  EXPECT_TRUE((*second)["nextCursor"].is_null());

  const json& item = (*first)["items"][0];
  EXPECT_EQ(item["state"], "stored");
  EXPECT_EQ(item["domain"], "acme");
  EXPECT_EQ(item["callId"], "call-a3");
  EXPECT_EQ(item["from"], "sip:alice@example.com");
  EXPECT_EQ(item["createdTime"], 3000);
  EXPECT_EQ(item["startTime"], 3100);
  EXPECT_TRUE(item["endTime"].is_null());
}

TEST_F(RecordingApiTest, FiltersByStateTimeAndParticipant) {
  add("a1", "ready", 1000);
  add("a2", "recording", 2000, "acme", "sip:carol@example.com");
  add("a3", "ready", 3000);
  RecordingListParams by_state;
  by_state.state = "ready";
  EXPECT_EQ(ids(*api_->list("acme", by_state)), (std::vector<std::string>{"a3", "a1"}));
  RecordingListParams by_time;
  by_time.from = "2000";
  by_time.to = "3000";
  EXPECT_EQ(ids(*api_->list("acme", by_time)), (std::vector<std::string>{"a2"}));
  RecordingListParams by_participant;
  by_participant.participant = "CAROL";
  EXPECT_EQ(ids(*api_->list("acme", by_participant)), (std::vector<std::string>{"a2"}));
}

TEST_F(RecordingApiTest, BadListParametersAre400NamingThem) {
  const auto error = [this](RecordingListParams query) {
    auto result = api_->list("acme", query);
    EXPECT_FALSE(result);
    EXPECT_EQ(result ? 0 : result.error().code, 400);
    return result ? std::string() : result.error().message;
  };
  RecordingListParams query;
  query.state = "sleeping";
  EXPECT_EQ(error(query).rfind("state:", 0), 0u);
  query = {};
  query.from = "yesterday";
  EXPECT_EQ(error(query).rfind("from:", 0), 0u);
  query = {};
  query.to = "-5";
  EXPECT_EQ(error(query).rfind("to:", 0), 0u);
  query = {};
  query.from = "10";
  query.to = "10";
  EXPECT_EQ(error(query).rfind("to:", 0), 0u);
  for (const std::string limit : {"0", "1001", "ten", ""}) {
    query = {};
    query.limit = limit;
    EXPECT_EQ(error(query).rfind("limit:", 0), 0u) << limit;
  }
  query = {};
  query.cursor = "not-a-cursor";
  EXPECT_EQ(error(query).rfind("cursor:", 0), 0u);
}

TEST_F(RecordingApiTest, DetailShowsTimelineStreamsAndEventDelivery) {
  addFinished("r1");
  auto delivered = event("e1", "r1");
  repository_->insertEvent(delivered);
  repository_->insertEvent(event("e2", "r1"));
  repository_->flush();
  delivered.status = "delivered";
  delivered.attempts = 1;
  delivered.delivered_ms = kStart + 2000;
  repository_->updateEventDelivery(delivered);
  repository_->flush();

  auto detail = api_->get("acme", "r1");
  ASSERT_TRUE(detail) << detail.error().message;
  const json& d = *detail;
  EXPECT_EQ(d["recordingId"], "r1");
  EXPECT_EQ(d["state"], "ready");
  EXPECT_EQ(d["startTime"], kStart);
  EXPECT_EQ(d["endTime"], kStart + 1000);
  EXPECT_EQ(d["duration"], 1000);
  EXPECT_EQ(d["requestUri"], "sip:srs@rec.example");
  EXPECT_EQ(d["source"], "udp:10.0.0.1:5060");
  EXPECT_EQ(d["hasAudio"], true);
  ASSERT_EQ(d["participants"].size(), 1u);
  EXPECT_EQ(d["participants"][0]["name"], "Alice");
  EXPECT_EQ(d["participants"][0]["associateTime"], kStart);
  EXPECT_EQ(d["metadata"]["streams"][0]["label"], "1");
  EXPECT_EQ(d["streams"][0]["packets"], 50);
  EXPECT_EQ(d["pauses"][0]["from"], kStart + 200);
  EXPECT_EQ(d["assurance"]["streams"][0]["lost"], 0);
  EXPECT_EQ(d["stored"]["destination"], "local");
  ASSERT_EQ(d["transitions"].size(), 2u);
  EXPECT_EQ(d["transitions"][1]["state"], "ready");
  EXPECT_EQ(d["transitions"][1]["time"], kStart + 1000);
  EXPECT_EQ(d["transitions"][1]["detail"], "bye");
  ASSERT_EQ(d["events"].size(), 2u);
  EXPECT_EQ(d["events"][0]["eventId"], "e1");
  EXPECT_EQ(d["events"][0]["method"], "RECORDINGREADY");
  EXPECT_EQ(d["events"][0]["status"], "delivered");
  EXPECT_EQ(d["events"][0]["attempts"], 1);
  EXPECT_EQ(d["events"][0]["deliveredTime"], kStart + 2000);
  EXPECT_FALSE(d["events"][0].contains("body"));
  EXPECT_EQ(d["events"][1]["status"], "pending");
  EXPECT_TRUE(d["events"][1]["deliveredTime"].is_null());
}

TEST_F(RecordingApiTest, EmptyJsonColumnsBecomeNullsOrEmptyLists) {
  add("a1", "recording", 1000);
  auto detail = api_->get("acme", "a1");
  ASSERT_TRUE(detail);
  EXPECT_TRUE((*detail)["assurance"].is_null());
  EXPECT_TRUE((*detail)["stored"].is_null());
  EXPECT_EQ((*detail)["pauses"], json::array());
  EXPECT_EQ((*detail)["events"], json::array());
  EXPECT_EQ((*detail)["hasAudio"], false);
}

TEST_F(RecordingApiTest, AnotherDomainsRecordingIsNotFound) {
  add("o1", "ready", 1000, "other");
  auto detail = api_->get("acme", "o1");
  ASSERT_FALSE(detail);
  EXPECT_EQ(detail.error().code, 404);
  EXPECT_EQ(api_->get("acme", "nothing").error().code, 404);
  EXPECT_EQ(api_->metadata("acme", "o1").error().code, 404);
  EXPECT_EQ(api_->audio("acme", "o1", std::nullopt).error().code, 404);
}

TEST_F(RecordingApiTest, MetadataAsReceivedAndAsJson) {
  add("a1", "ready", 1000);
  auto metadata = api_->metadata("acme", "a1");
  ASSERT_TRUE(metadata) << metadata.error().message;
  EXPECT_EQ(metadata->xml, kXml);
  EXPECT_EQ(metadata->json["participants"][0]["participantId"], "p1");

  auto plain = add("plain", "ready", 2000);
  plain.metadata_xml.clear();
  plain.metadata_json.clear();
  repository_->updateRecording(plain);
  repository_->flush();
  auto none = api_->metadata("acme", "plain");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, 404);
}

TEST_F(RecordingApiTest, AudioIsTheTempWavWhileTheRecordingHoldsOne) {
  const auto record = addFinished("r1");
  auto audio = api_->audio("acme", "r1", std::nullopt);
  ASSERT_TRUE(audio) << audio.error().message;
  EXPECT_EQ(audio->path, record.audio_path);
  EXPECT_EQ(audio->content_type, "audio/wav");
  EXPECT_EQ(api_->audio("acme", "r1", recording::AudioFormat::Wav)->path, record.audio_path);

  add("live", "recording", 1000);
  EXPECT_EQ(api_->audio("acme", "live", std::nullopt).error().code, 409);
  auto deleted = record;
  deleted.state = "deleted";
  repository_->updateRecording(deleted);
  repository_->flush();
  EXPECT_EQ(api_->audio("acme", "r1", std::nullopt).error().code, 409);
}

TEST_F(RecordingApiTest, MissingAudioFileIs404) {
  auto record = addFinished("r1");
  std::filesystem::remove(record.audio_path);
  EXPECT_EQ(api_->audio("acme", "r1", std::nullopt).error().code, 404);
}

TEST_F(RecordingApiTest, OtherFormatsAreRenderedOnceIntoACacheBesideTheWav) {
  const auto record = addFinished("r1");
  auto flac = api_->audio("acme", "r1", recording::AudioFormat::Flac);
  ASSERT_TRUE(flac) << flac.error().message;
  EXPECT_EQ(flac->content_type, "audio/flac");
  EXPECT_EQ(flac->path.parent_path(), std::filesystem::path(record.audio_path).parent_path());
  ASSERT_TRUE(std::filesystem::exists(flac->path));
  std::string magic(4, '\0');
  std::ifstream(flac->path, std::ios::binary).read(magic.data(), 4);
  EXPECT_EQ(magic, "fLaC");
  const auto rendered_at = std::filesystem::last_write_time(flac->path);
  auto again = api_->audio("acme", "r1", recording::AudioFormat::Flac);
  ASSERT_TRUE(again);
  EXPECT_EQ(std::filesystem::last_write_time(again->path), rendered_at);
}

TEST_F(RecordingApiTest, RecordingWithoutStreamsCannotBeRendered) {
  auto record = addFinished("r1");
  record.streams_json = "[]";
  repository_->updateRecording(record);
  repository_->flush();
  auto result = api_->audio("acme", "r1", recording::AudioFormat::Mp3);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, 400);
  EXPECT_NE(result.error().message.find("wav"), std::string::npos);
}

TEST_F(RecordingApiTest, DeadEventsOfTheDomainWithTheirBodies) {
  add("a1", "ready", 1000);
  add("o1", "ready", 1000, "other");
  auto dead = event("e-dead", "a1");
  auto foreign = event("e-other", "o1", "other");
  repository_->insertEvent(dead);
  repository_->insertEvent(foreign);
  repository_->insertEvent(event("e-pending", "a1"));
  repository_->flush();
  for (auto* e : {&dead, &foreign}) {
    e->status = "dead";
    e->attempts = 12;
    e->last_error = "HTTP 500";
    repository_->updateEventDelivery(*e);
  }
  repository_->flush();
  auto events = api_->deadEvents("acme", 100);
  ASSERT_TRUE(events) << events.error().message;
  ASSERT_EQ((*events)["items"].size(), 1u);
  const json& item = (*events)["items"][0];
  EXPECT_EQ(item["eventId"], "e-dead");
  EXPECT_EQ(item["status"], "dead");
  EXPECT_EQ(item["attempts"], 12);
  EXPECT_EQ(item["lastError"], "HTTP 500");
  EXPECT_EQ(item["body"]["method"], "RECORDINGREADY");
}

}  // namespace
}  // namespace siprecd::control
