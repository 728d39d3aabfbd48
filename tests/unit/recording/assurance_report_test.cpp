#include <gtest/gtest.h>

#include "recording/renderer.hpp"

namespace siprecd::recording {
namespace {

constexpr int64_t kT0Ms = 1'700'000'000'000;

RenderedStream audible(uint64_t packets) {
  RenderedStream stream;
  stream.codec = "PCMU";
  stream.packets = packets;
  stream.sample_rate = 8000;
  stream.first_packet_ms = kT0Ms;
  stream.last_packet_ms = kT0Ms + static_cast<int64_t>(packets) * 20;
  stream.loudest_rms_dbfs = -18.5;
  stream.timeline_segments = 1;
  return stream;
}

bool hasWarning(const nlohmann::json& report, const std::string& code, int stream) {
  for (const auto& warning : report["warnings"]) {
    if (warning["code"] == code &&
        (stream < 0 ? !warning.contains("stream") : warning.value("stream", -1) == stream)) {
      return true;
    }
  }
  return false;
}

TEST(AssuranceReport, CleanTwoWayCallIsComplete) {
  const nlohmann::json stats = nlohmann::json::parse(R"([
    {"index": 0, "label": "caller", "packets": 500, "lost": 2, "duplicates": 1, "reordered": 3,
     "foreignSourcePackets": 0, "jitterMs": 1.5, "maxJitterMs": 4.25, "ssrcChanges": 1,
     "gapsOver200ms": 0, "longestGapMs": 40},
    {"index": 1, "label": "callee", "packets": 498}])");
  RenderResult rendered;
  rendered.streams = {audible(500), audible(498)};
  rendered.streams[0].drift_ppm = 12.5;
  const nlohmann::json report = assuranceReport(stats, rendered);
  ASSERT_EQ(report["streams"].size(), 2U);
  const auto& first = report["streams"][0];
  EXPECT_EQ(first["index"], 0);
  EXPECT_EQ(first["label"], "caller");
  EXPECT_EQ(first["codec"], "PCMU");
  EXPECT_EQ(first["packets"], 500);
  EXPECT_EQ(first["lost"], 2);
  EXPECT_EQ(first["duplicates"], 1);
  EXPECT_EQ(first["reordered"], 3);
  EXPECT_EQ(first["late"], 3);  // no "late" in these stats: the reordered count
  EXPECT_EQ(first["outOfSource"], 0);
  EXPECT_EQ(first["jitterMs"], 1.5);
  EXPECT_EQ(first["maxJitterMs"], 4.25);
  EXPECT_EQ(first["ssrcChanges"], 1);
  EXPECT_EQ(first["gapsOver200ms"], 0);
  EXPECT_EQ(first["longestGapMs"], 40);
  EXPECT_EQ(first["gaps"], nlohmann::json::array());
  EXPECT_EQ(first["firstPacketTime"], kT0Ms);
  EXPECT_EQ(first["lastPacketTime"], kT0Ms + 10'000);
  EXPECT_EQ(first["loudestRmsDbfs"], -18.5);
  EXPECT_EQ(first["clockDriftPpm"], 12.5);
  EXPECT_EQ(first["silent"], false);
  EXPECT_TRUE(first["silentReason"].is_null());
  EXPECT_EQ(report["streams"][1]["lost"], 0);  // absent keys count 0
  EXPECT_EQ(report["silentStreams"], 0);
  EXPECT_EQ(report["oneWay"], false);
  EXPECT_EQ(report["complete"], true);
  EXPECT_TRUE(report["warnings"].empty()) << report["warnings"].dump();
}

TEST(AssuranceReport, LowLevelLegMakesTheCallOneWay) {
  RenderResult rendered;
  rendered.streams = {audible(500), audible(500)};
  rendered.streams[1].loudest_rms_dbfs = -75;
  const nlohmann::json report = assuranceReport(nlohmann::json::array(), rendered);
  EXPECT_EQ(report["streams"][1]["silent"], true);
  EXPECT_EQ(report["streams"][1]["silentReason"], "lowLevel");
  EXPECT_EQ(report["silentStreams"], 1);
  EXPECT_EQ(report["oneWay"], true);
  EXPECT_EQ(report["complete"], false);
  EXPECT_TRUE(hasWarning(report, "lowLevel", 1));
  EXPECT_TRUE(hasWarning(report, "oneWay", -1));
}

TEST(AssuranceReport, TellsNoPacketsFromUndecodable) {
  RenderResult rendered;
  rendered.streams = {audible(100), RenderedStream{}, audible(0)};
  rendered.streams[2].codec = "SILK";
  rendered.streams[2].error = "codec SILK/16000 cannot be decoded; rendered as silence";
  const nlohmann::json stats = nlohmann::json::parse(R"([{}, {"packets": 0}, {"packets": 90}])");
  const nlohmann::json report = assuranceReport(stats, rendered);
  EXPECT_EQ(report["streams"][1]["silentReason"], "noPackets");
  EXPECT_TRUE(report["streams"][1]["firstPacketTime"].is_null());
  EXPECT_EQ(report["streams"][2]["silentReason"], "undecodable");
  EXPECT_EQ(report["streams"][2]["packets"], 90);
  EXPECT_EQ(report["silentStreams"], 2);
  EXPECT_EQ(report["oneWay"], true);
  EXPECT_TRUE(hasWarning(report, "noPackets", 1));
  EXPECT_TRUE(hasWarning(report, "undecodable", 2));
}

TEST(AssuranceReport, BothLegsSilentIsNotOneWay) {
  RenderResult rendered;
  rendered.streams = {RenderedStream{}, RenderedStream{}};
  const nlohmann::json report = assuranceReport(nullptr, rendered);
  EXPECT_EQ(report["silentStreams"], 2);
  EXPECT_EQ(report["oneWay"], false);
  EXPECT_EQ(report["complete"], false);
}

TEST(AssuranceReport, WarnsOnLossGapsForeignSourcesAndSpoolLoss) {
  const nlohmann::json stats = nlohmann::json::parse(R"([
    {"packets": 900, "lost": 100, "gapsOver200ms": 2, "longestGapMs": 900,
     "gaps": [{"start": 1700000001000, "duration": 900}, {"startTime": 1700000005000,
               "durationMs": 300}, {"start": "bad"}],
     "foreignSourcePackets": 7},
    {"packets": 1000, "lost": 15, "spoolRecordsDropped": 3, "reordered": 9, "late": 2}])");
  RenderResult rendered;
  rendered.streams = {audible(900), audible(1000)};
  rendered.streams[1].undecodable_packets = 4;
  const nlohmann::json report = assuranceReport(stats, rendered);
  EXPECT_EQ(report["streams"][0]["gaps"],
            nlohmann::json::parse(R"([{"start": 1700000001000, "duration": 900},
                                      {"start": 1700000005000, "duration": 300}])"));
  EXPECT_EQ(report["streams"][0]["outOfSource"], 7);
  EXPECT_EQ(report["streams"][1]["reordered"], 9);
  EXPECT_EQ(report["streams"][1]["late"], 2);
  EXPECT_TRUE(hasWarning(report, "packetLoss", 0));  // 10%
  EXPECT_TRUE(hasWarning(report, "packetLoss", 1));  // 1.5%
  EXPECT_TRUE(hasWarning(report, "longGaps", 0));
  EXPECT_TRUE(hasWarning(report, "outOfSource", 0));
  EXPECT_TRUE(hasWarning(report, "spoolLoss", 1));
  EXPECT_TRUE(hasWarning(report, "undecodablePackets", 1));
  EXPECT_EQ(report["silentStreams"], 0);
  EXPECT_EQ(report["complete"], false);
}

TEST(AssuranceReport, ModestLossStaysComplete) {
  const nlohmann::json stats = nlohmann::json::parse(R"([{"packets": 980, "lost": 20}])");
  RenderResult rendered;
  rendered.streams = {audible(980)};
  const nlohmann::json report = assuranceReport(stats, rendered);
  EXPECT_TRUE(hasWarning(report, "packetLoss", 0));  // 2%
  EXPECT_EQ(report["complete"], true);
}

}  // namespace
}  // namespace siprecd::recording
