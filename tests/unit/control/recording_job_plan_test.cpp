#include "control/recording_job_plan.hpp"

#include <limits>

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

namespace siprecd::control {
namespace {

using recording::StreamSide;

const nlohmann::json kMetadata = {{"participants",
                                   {{{"participantId", "B"}, {"send", {"s2"}}},
                                    {{"participantId", "A"}, {"send", {"s1", "s3"}}}}},
                                  {"streams",
                                   {{{"streamId", "s1"}, {"label", "1"}},
                                    {{"streamId", "s2"}, {"label", "2"}},
                                    {{"streamId", "s3"}, {"label", "3"}}}}};

TEST(RecordingJobPlan, SidesFollowTheMetadataParticipantOrder) {
  const nlohmann::json streams = {{{"label", "1"}}, {{"label", "2"}}, {{"label", "3"}}};
  EXPECT_EQ(streamSides(streams, kMetadata),
            (std::vector<StreamSide>{StreamSide::Right, StreamSide::Left, StreamSide::Right}));
}

TEST(RecordingJobPlan, ExplicitSidesWinAndUnknownSendersStayUnknown) {
  const nlohmann::json streams = {{{"label", "1"}, {"side", "left"}}, {{"label", "9"}}};
  EXPECT_EQ(streamSides(streams, kMetadata),
            (std::vector<StreamSide>{StreamSide::Left, StreamSide::Unknown}));
  EXPECT_EQ(streamSides(streams, nlohmann::json::object()),
            (std::vector<StreamSide>{StreamSide::Left, StreamSide::Unknown}));
}

TEST(RecordingJobPlan, SideSkipsADisassociatedParticipant) {
  nlohmann::json metadata = kMetadata;
  metadata["participants"].push_back({{"participantId", "C"}, {"send", {"s2"}}});
  metadata["participants"][0]["disassociateTime"] = 5;
  // s2 is now sent by C (still associated); senders in metadata order: A (s1), C (s2).
  const nlohmann::json streams = {{{"label", "1"}}, {{"label", "2"}}};
  EXPECT_EQ(streamSides(streams, metadata),
            (std::vector<StreamSide>{StreamSide::Left, StreamSide::Right}));
}

TEST(RecordingJobPlan, PausesCloseAtTheEndAndSkipMalformedEntries) {
  const auto pauses = parsePauses(
      R"([{"from":100,"to":200},{"from":300},{"to":5},{"from":"x"},{"from":400,"to":400}])", 1000);
  ASSERT_EQ(pauses.size(), 2u);
  EXPECT_EQ(pauses[0].from_ms, 100);
  EXPECT_EQ(pauses[0].to_ms, 200);
  EXPECT_EQ(pauses[1].from_ms, 300);
  EXPECT_EQ(pauses[1].to_ms, 1000);
  EXPECT_EQ(parsePauses(R"([{"from":1}])", std::nullopt)[0].to_ms,
            std::numeric_limits<int64_t>::max());
  EXPECT_TRUE(parsePauses("", 1).empty());
  EXPECT_TRUE(parsePauses("not json", 1).empty());
}

TEST(RecordingJobPlan, RenderRequestComesFromRecordingJsonElseTheRow) {
  db::RecordingRecord record;
  record.started_ms = 1000;
  record.ended_ms = 9000;
  record.streams_json = R"([{"index":0},{"index":1}])";
  record.pauses_json = R"([{"from":2000,"to":3000}])";
  const nlohmann::json document = {{"answeredTime", 1500},
                                   {"byeTime", 8000},
                                   {"streams", {{{"index", 3}, {"label", "1"}}}},
                                   {"metadata", kMetadata}};
  auto request = renderRequestFor(record, "/data/sessions/r", document);
  ASSERT_TRUE(request);
  ASSERT_EQ(request->streams.size(), 1u);
  EXPECT_EQ(request->streams[0].spool_path, "/data/sessions/r/stream-3.spool");
  EXPECT_EQ(request->streams[0].side, StreamSide::Left);
  EXPECT_EQ(request->session_start_epoch_ms, 1500);
  EXPECT_EQ(request->session_end_epoch_ms, 8000);
  ASSERT_EQ(request->pauses.size(), 1u);

  auto fallback = renderRequestFor(record, "/d", nlohmann::json::object());
  ASSERT_TRUE(fallback);
  ASSERT_EQ(fallback->streams.size(), 2u);
  EXPECT_EQ(fallback->streams[1].spool_path, "/d/stream-1.spool");
  EXPECT_EQ(fallback->session_start_epoch_ms, 1000);
  EXPECT_EQ(fallback->session_end_epoch_ms, 9000);

  record.streams_json = "";
  EXPECT_FALSE(renderRequestFor(record, "/d", nlohmann::json::object()));
}

TEST(RecordingJobPlan, SessionDirectoryRefusesIdsThatAreNotPlainNames) {
  EXPECT_EQ(*sessionDirectory("/data", "a1-b2"), "/data/sessions/a1-b2");
  for (const char* id : {"", ".", "..", "a/b", "../x", "a b"}) {
    EXPECT_FALSE(sessionDirectory("/data", id)) << id;
  }
}

TEST(RecordingJobPlan, DocumentKeyReplacesTheExtension) {
  EXPECT_EQ(documentKey("a/b/r1.wav", "wav", ".json"), "a/b/r1.json");
  EXPECT_EQ(documentKey("a/b/r1", "wav", ".xml"), "a/b/r1.xml");
  EXPECT_EQ(documentKey("a/r1.mp3.wav", "wav", ".json"), "a/r1.mp3.json");
  EXPECT_EQ(documentKey("a/.wav", "wav", ".json"), "a/.json");
  EXPECT_EQ(documentKey("a/x.json", "json", ".json"), "a/x.json.json");
}

TEST(RecordingJobPlan, MissingOrBrokenRecordingJsonReadsAsEmpty) {
  test_support::TempDir temp;
  EXPECT_EQ(readRecordingDocument(temp.path()), nlohmann::json::object());
  temp.write("recording.json", "{broken");
  EXPECT_EQ(readRecordingDocument(temp.path()), nlohmann::json::object());
  temp.write("recording.json", R"({"recordingId":"r"})");
  EXPECT_EQ(readRecordingDocument(temp.path())["recordingId"], "r");
}

}  // namespace
}  // namespace siprecd::control
