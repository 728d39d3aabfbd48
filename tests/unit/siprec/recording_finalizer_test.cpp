#include "siprec/recording_finalizer.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

namespace siprecd::siprec {
namespace {

class RecordingFinalizerTest : public ::testing::Test {
 protected:
  static std::string read(const std::filesystem::path& path) {
    std::ifstream file(path, std::ios::binary);
    std::stringstream content;
    content << file.rdbuf();
    return content.str();
  }

  test_support::TempDir dir_;
  const std::filesystem::path& directory_ = dir_.path();
};

TEST_F(RecordingFinalizerTest, WritesFilesAtomicallyWithoutLeftovers) {
  auto path = directory_ / "doc.json";
  ASSERT_TRUE(writeFileAtomically(path, "first").has_value());
  ASSERT_TRUE(writeFileAtomically(path, "second").has_value());
  EXPECT_EQ(read(path), "second");
  EXPECT_FALSE(std::filesystem::exists(directory_ / "doc.json.tmp"));
}

TEST_F(RecordingFinalizerTest, ReportsTheFaultyPath) {
  auto result = writeFileAtomically(directory_ / "missing" / "doc.json", "x");
  ASSERT_FALSE(result.has_value());
  EXPECT_NE(result.error().message.find("missing/doc.json"), std::string::npos);
}

TEST_F(RecordingFinalizerTest, RendersSilentSpoolsUntilTheCallEndAndWritesTheDocument) {
  // Spools that never received a packet (created, then the call ended): the recording
  // still spans the call from answer to BYE.
  FinalizeJob job;
  job.recording_id = "r1";
  job.directory = directory_;
  job.spools = {directory_ / "stream-0.spool", directory_ / "stream-1.spool"};
  for (const auto& spool : job.spools) {
    dir_.write(spool.filename().string(), "");
  }
  job.start_epoch_ms = 1'700'000'000'000;
  job.end_epoch_ms = 1'700'000'002'500;
  job.document = {{"recordingId", "r1"},
                  {"streams", nlohmann::json::array({{{"label", "1"}}, {{"label", "2"}}})}};
  job.metadata_xml = "<recording/>";

  auto outcome = finalizeRecording(job);
  ASSERT_TRUE(outcome.has_value()) << outcome.error().message;
  EXPECT_EQ(outcome->duration_ms, 2500);
  auto document = nlohmann::json::parse(read(directory_ / "recording.json"));
  EXPECT_EQ(document["state"], "ready");
  EXPECT_EQ(document["startTime"], 1'700'000'000'000);
  EXPECT_EQ(document["endTime"], 1'700'000'002'500);
  EXPECT_EQ(document["audio"]["channels"], 2);
  EXPECT_EQ(document["audio"]["sampleRate"], 8000);
  EXPECT_EQ(document["streams"][1]["packets"], 0);
  EXPECT_EQ(read(directory_ / "metadata.xml"), "<recording/>");
  // 2.5 s of 16-bit stereo at 8 kHz plus the 44-byte header.
  EXPECT_EQ(std::filesystem::file_size(directory_ / "recording.wav"), 44u + 2500u * 8u * 2u * 2u);
}

}  // namespace
}  // namespace siprecd::siprec
