#include "control/recording_job_runner.hpp"

#include <filesystem>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <sndfile.h>

#include "recording_job_test_support.hpp"
#include "storage/key_template.hpp"
#include "storage/sha256.hpp"

namespace siprecd::control {
namespace {

namespace fs = std::filesystem;
using test_support::RecordingJobFixture;

/// A WAV file read back whole (interleaved 16-bit frames).
struct Wav {
  int sample_rate = 0;
  int channels = 0;
  std::vector<int16_t> frames;
  double mean(int channel) const {
    double sum = 0;
    const std::size_t count = frames.size() / static_cast<std::size_t>(channels);
    for (std::size_t i = 0; i < count; ++i) {
      sum += frames[i * static_cast<std::size_t>(channels) + static_cast<std::size_t>(channel)];
    }
    return count == 0 ? 0 : sum / static_cast<double>(count);
  }
};

Wav readWav(const fs::path& path) {
  SF_INFO info{};
  SNDFILE* file = sf_open(path.c_str(), SFM_READ, &info);
  Wav wav;
  if (file == nullptr) {
    ADD_FAILURE() << "cannot open " << path << ": " << sf_strerror(nullptr);
    return wav;
  }
  wav.sample_rate = info.samplerate;
  wav.channels = info.channels;
  wav.frames.resize(static_cast<std::size_t>(info.frames * info.channels));
  sf_readf_short(file, wav.frames.data(), info.frames);
  sf_close(file);
  return wav;
}

int temporaries(const fs::path& dir) {
  int count = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().filename().string().starts_with("store-")) {
      ++count;
    }
  }
  return count;
}

class RecordingJobRunnerTest : public RecordingJobFixture {
 protected:
  std::string audioKey(const std::string& id) const {
    return "acme/" + storage::keyDate(kStartMs) + "/" + id + ".wav";
  }
};

TEST_F(RecordingJobRunnerTest, StoresTheRenderedRecordingWithDocumentsAndAnnouncesIt) {
  addRecording("r1");
  ASSERT_TRUE(runner_->store(storeRequest("r1")));
  settle();

  const fs::path audio = store_root_ / audioKey("r1");
  ASSERT_TRUE(fs::exists(audio));
  const Wav wav = readWav(audio);
  EXPECT_EQ(wav.channels, 2);
  EXPECT_EQ(wav.sample_rate, 8000);
  EXPECT_NEAR(static_cast<double>(wav.frames.size()) / 2, 8000, 160);
  // Participant B sends stream "2" (positive) and is listed first: it is the left channel.
  EXPECT_GT(wav.mean(0), 10000);
  EXPECT_LT(wav.mean(1), -10000);

  const auto digest = storage::sha256OfFile(audio);
  ASSERT_TRUE(digest);
  const auto events = events_.events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, EventType::RecordingStored);
  EXPECT_EQ(events[0].recording_id, "r1");
  const auto& data = events[0].data;
  EXPECT_EQ(data["destination"], "local");
  EXPECT_EQ(data["location"], storage::fileUrl(audio));
  EXPECT_EQ(data["key"], audioKey("r1"));
  EXPECT_EQ(data["format"], "wav");
  EXPECT_EQ(data["layout"], "stereo");
  EXPECT_EQ(data["size"], digest->size);
  EXPECT_EQ(data["sha256"], digest->sha256);
  EXPECT_EQ(data["duration"], 1000);
  EXPECT_EQ(data["startTime"], kStartMs);
  EXPECT_EQ(data["endTime"], kStartMs + 1000);

  // The documents beside the audio.
  const fs::path json_path = store_root_ / ("acme/" + storage::keyDate(kStartMs) + "/r1.json");
  const fs::path xml_path = store_root_ / ("acme/" + storage::keyDate(kStartMs) + "/r1.xml");
  ASSERT_TRUE(fs::exists(json_path));
  std::ifstream json_in(json_path);
  const auto document = nlohmann::json::parse(json_in);
  EXPECT_EQ(document["recordingId"], "r1");
  EXPECT_EQ(document["store"]["sha256"], digest->sha256);
  EXPECT_EQ(document["store"]["location"], storage::fileUrl(audio));
  std::ifstream xml_in(xml_path);
  std::string xml((std::istreambuf_iterator<char>(xml_in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(xml, kMetadataXml);
  EXPECT_EQ(data["documents"]["json"], storage::fileUrl(json_path));

  const auto record = find("r1");
  EXPECT_EQ(record.state, "stored");
  const auto stored = nlohmann::json::parse(record.stored_json);
  EXPECT_EQ(stored["sha256"], digest->sha256);
  EXPECT_EQ(stored["key"], audioKey("r1"));
  EXPECT_EQ(stored["destination"], "local");
  EXPECT_EQ(states("r1"), (std::vector<std::string>{"storing", "stored"}));
  EXPECT_EQ(temporaries(sessionDir("r1")), 0);
  EXPECT_TRUE(fs::exists(sessionDir("r1") / "recording.wav"));  // the temp recording stays
}

TEST_F(RecordingJobRunnerTest, KeyTemplateOfTheCommandOverridesTheDestinationDefault) {
  addRecording("r1");
  auto request = storeRequest("r1");
  request.key_template = "calls/{callId}.{ext}";
  request.layout = recording::ChannelLayout::Mono;
  ASSERT_TRUE(runner_->store(request));
  settle();
  EXPECT_TRUE(fs::exists(store_root_ / "calls/call-r1.wav"));
  EXPECT_TRUE(fs::exists(store_root_ / "calls/call-r1.json"));
  EXPECT_EQ(readWav(store_root_ / "calls/call-r1.wav").channels, 1);
}

TEST_F(RecordingJobRunnerTest, TrimIsApplied) {
  addRecording("r1");
  auto request = storeRequest("r1");
  request.trim = recording::TimeSpan{kStartMs + 250, kStartMs + 750};
  ASSERT_TRUE(runner_->store(request));
  settle();
  const auto events = events_.events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data["duration"], 500);
  EXPECT_EQ(events[0].data["startTime"], kStartMs + 250);
  EXPECT_NEAR(static_cast<double>(readWav(store_root_ / audioKey("r1")).frames.size()) / 2, 4000,
              80);
}

TEST_F(RecordingJobRunnerTest, UnknownRecordingOrAnotherDomainsIs404) {
  addRecording("theirs", "ready", "other");
  auto missing = runner_->store(storeRequest("nope"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, 404);
  auto foreign = runner_->store(storeRequest("theirs"));
  ASSERT_FALSE(foreign);
  EXPECT_EQ(foreign.error().code, 404);
  auto removed = runner_->remove("acme", "theirs", "command");
  ASSERT_FALSE(removed);
  EXPECT_EQ(removed.error().code, 404);
  auto unknown_domain = runner_->store([] {
    StoreRequest request;
    request.domain = "nobody";
    request.recording_id = "theirs";
    return request;
  }());
  ASSERT_FALSE(unknown_domain);
  EXPECT_EQ(unknown_domain.error().code, 404);
  EXPECT_TRUE(events_.events().empty());
}

TEST_F(RecordingJobRunnerTest, StoreNeedsReadyOrStored) {
  for (const char* state : {"offered", "recording", "paused", "storing", "deleted", "failed"}) {
    const std::string id = std::string("r-") + state;
    addRecording(id, state);
    auto result = runner_->store(storeRequest(id));
    ASSERT_FALSE(result) << state;
    EXPECT_EQ(result.error().code, 409) << state;
    EXPECT_NE(result.error().message.find(state), std::string::npos) << result.error().message;
    EXPECT_EQ(find(id).state, state);
  }
}

TEST_F(RecordingJobRunnerTest, BadDestinationUrlOrTemplateIs400AndChangesNothing) {
  addRecording("r1");
  auto unknown = runner_->store(storeRequest("r1", "archive"));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, 400);
  EXPECT_NE(unknown.error().message.find("archive"), std::string::npos);

  auto no_url = runner_->store(storeRequest("r1", "http"));
  ASSERT_FALSE(no_url);
  EXPECT_EQ(no_url.error().code, 400);
  auto bad_url = storeRequest("r1", "http");
  bad_url.url = "file:///etc/passwd";
  EXPECT_EQ(runner_->store(bad_url).error().code, 400);

  auto traversal = storeRequest("r1");
  traversal.key_template = "../{recordingId}.{ext}";
  auto escaped = runner_->store(traversal);
  ASSERT_FALSE(escaped);
  EXPECT_EQ(escaped.error().code, 400);

  EXPECT_FALSE(runner_->busy("r1"));
  EXPECT_EQ(find("r1").state, "ready");
  EXPECT_TRUE(states("r1").empty());
  EXPECT_TRUE(events_.events().empty());
}

TEST_F(RecordingJobRunnerTest, SecondStoreOrDeleteWhileStoringIs409) {
  addRecording("r1");
  scripted_->holdUntilReleased();
  ASSERT_TRUE(runner_->store(storeRequest("r1", "scripted")));
  ASSERT_TRUE(scripted_->waitEntered());
  EXPECT_TRUE(runner_->busy("r1"));
  EXPECT_EQ(find("r1").state, "storing");

  auto again = runner_->store(storeRequest("r1"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, 409);
  auto removed = runner_->remove("acme", "r1", "command");
  ASSERT_FALSE(removed);
  EXPECT_EQ(removed.error().code, 409);

  scripted_->release();
  settle();
  EXPECT_FALSE(runner_->busy("r1"));
  EXPECT_EQ(find("r1").state, "stored");
  // Once done, the recording accepts commands again; a delete follows the store in order.
  ASSERT_TRUE(runner_->remove("acme", "r1", "command"));
  settle();
  EXPECT_EQ(events_.types(),
            (std::vector<EventType>{EventType::RecordingStored, EventType::RecordingDeleted}));
}

TEST_F(RecordingJobRunnerTest, FailedUploadRestoresTheStateAndKeepsTheTempRecording) {
  addRecording("r1");
  scripted_->failWith("scripted destination: 503 SlowDown");
  ASSERT_TRUE(runner_->store(storeRequest("r1", "scripted")));
  settle();

  const auto events = events_.events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, EventType::RecordingFailed);
  EXPECT_EQ(events[0].data["stage"], "upload");
  EXPECT_EQ(events[0].data["kept"], "temp recording");
  EXPECT_EQ(events[0].data["destination"], "scripted");
  EXPECT_NE(events[0].data["reason"].get<std::string>().find("SlowDown"), std::string::npos);
  const auto record = find("r1");
  EXPECT_EQ(record.state, "ready");
  EXPECT_NE(record.error.find("SlowDown"), std::string::npos);
  EXPECT_EQ(states("r1"), (std::vector<std::string>{"storing", "ready"}));
  EXPECT_EQ(temporaries(sessionDir("r1")), 0);
  EXPECT_TRUE(fs::exists(sessionDir("r1") / "recording.wav"));
  EXPECT_TRUE(fs::exists(sessionDir("r1") / "stream-0.spool"));
  EXPECT_FALSE(runner_->busy("r1"));
}

TEST_F(RecordingJobRunnerTest, FailedStoreOfAStoredRecordingGoesBackToStored) {
  addRecording("r1");
  ASSERT_TRUE(runner_->store(storeRequest("r1")));
  settle();
  scripted_->failWith("scripted failure");
  ASSERT_TRUE(runner_->store(storeRequest("r1", "scripted")));
  settle();
  const auto record = find("r1");
  EXPECT_EQ(record.state, "stored");
  EXPECT_FALSE(record.stored_json.empty());  // the earlier store is still described
  EXPECT_EQ(states("r1"), (std::vector<std::string>{"storing", "stored", "storing", "stored"}));
  EXPECT_EQ(events_.types(),
            (std::vector<EventType>{EventType::RecordingStored, EventType::RecordingFailed}));
}

TEST_F(RecordingJobRunnerTest, RecordingWithoutStreamsFailsAtRender) {
  auto record = addRecording("r1");
  fs::remove(sessionDir("r1") / "recording.json");
  record.streams_json = "[]";
  repository_->updateRecording(record);
  repository_->flush();
  ASSERT_TRUE(runner_->store(storeRequest("r1")));
  settle();
  const auto events = events_.events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, EventType::RecordingFailed);
  EXPECT_EQ(events[0].data["stage"], "render");
  EXPECT_EQ(find("r1").state, "ready");
}

TEST_F(RecordingJobRunnerTest, RecordingIsFreeForTheNextCommandWhenItsEventBecomesVisible) {
  // The outbox makes an event visible once the writes queued before it are done; model that
  // with afterWrites() and check the recording is no longer busy by then, so that an
  // application answering RECORDINGSTORED or RECORDINGFAILED at once never gets 409.
  std::mutex mutex;
  std::vector<std::pair<EventType, bool>> busy_when_visible;
  events_.onEmit([&](const test_support::CollectingEventSink::Event& event) {
    repository_->afterWrites([&, type = event.type, id = event.recording_id] {
      std::lock_guard lock(mutex);
      busy_when_visible.emplace_back(type, runner_->busy(id));
    });
  });
  addRecording("r1");
  ASSERT_TRUE(runner_->store(storeRequest("r1")));
  settle();
  ASSERT_TRUE(runner_->remove("acme", "r1", "command"));
  settle();

  std::lock_guard lock(mutex);
  EXPECT_EQ(busy_when_visible,
            (std::vector<std::pair<EventType, bool>>{{EventType::RecordingStored, false},
                                                     {EventType::RecordingDeleted, false}}));
}

TEST_F(RecordingJobRunnerTest, RemoveDeletesTheSessionDirectoryAndAnnouncesIt) {
  addRecording("r1");
  ASSERT_TRUE(runner_->remove("acme", "r1", "command"));
  settle();
  EXPECT_FALSE(fs::exists(sessionDir("r1")));
  const auto record = find("r1");
  EXPECT_EQ(record.state, "deleted");
  EXPECT_TRUE(record.audio_path.empty());
  EXPECT_EQ(states("r1"), (std::vector<std::string>{"deleted"}));
  const auto events = events_.events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, EventType::RecordingDeleted);
  EXPECT_EQ(events[0].data, (nlohmann::json{{"reason", "command"}}));

  auto again = runner_->remove("acme", "r1", "command");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, 409);
}

TEST_F(RecordingJobRunnerTest, RemoveRefusesLiveCallsAndRecordingsWithoutACopy) {
  for (const char* state : {"offered", "recording", "paused", "storing", "declined", "cancelled"}) {
    const std::string id = std::string("r-") + state;
    addRecording(id, state);
    auto result = runner_->remove("acme", id, "command");
    ASSERT_FALSE(result) << state;
    EXPECT_EQ(result.error().code, 409) << state;
    EXPECT_TRUE(fs::exists(sessionDir(id)));
  }
  addRecording("r-failed", "failed");
  EXPECT_TRUE(runner_->remove("acme", "r-failed", "command"));
  settle();
  EXPECT_EQ(find("r-failed").state, "deleted");
}

TEST_F(RecordingJobRunnerTest, AutoStoreStoresAReadyRecordingWithTheDomainPolicy) {
  rebuild(AutoStorePolicy{"local", recording::AudioFormat::Wav, recording::ChannelLayout::Mono});
  addRecording("r1");
  runner_->onRecordingReady("acme", "r1");
  runner_->onRecordingReady("acme", "r1");  // announced twice: stored once
  settle();
  EXPECT_EQ(find("r1").state, "stored");
  EXPECT_EQ(events_.types(), (std::vector<EventType>{EventType::RecordingStored}));
  EXPECT_EQ(events_.events()[0].data["layout"], "mono");
}

TEST_F(RecordingJobRunnerTest, AutoStoreWithUnknownDestinationAnnouncesTheFailure) {
  rebuild(AutoStorePolicy{"nowhere"});
  addRecording("r1");
  runner_->onRecordingReady("acme", "r1");
  settle();
  EXPECT_EQ(find("r1").state, "ready");
  const auto events = events_.events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, EventType::RecordingFailed);
  EXPECT_EQ(events[0].data["stage"], "auto-store");
}

TEST_F(RecordingJobRunnerTest, WithoutAutoStoreReadyDoesNothing) {
  addRecording("r1");
  runner_->onRecordingReady("acme", "r1");
  runner_->onRecordingReady("nobody", "r1");
  settle();
  EXPECT_EQ(find("r1").state, "ready");
  EXPECT_TRUE(events_.events().empty());
}

TEST_F(RecordingJobRunnerTest, RecoveryReturnsInterruptedStoresToTheirPreviousState) {
  addRecording("was-ready", "storing");
  auto was_stored = addRecording("was-stored", "storing");
  was_stored.stored_json = R"({"destination":"local"})";
  repository_->updateRecording(was_stored);
  repository_->flush();
  std::ofstream(sessionDir("was-ready") / "store-abc.wav") << "partial";
  runner_->recoverInterruptedJobs();
  settle();
  EXPECT_EQ(find("was-ready").state, "ready");
  EXPECT_EQ(find("was-stored").state, "stored");
  EXPECT_FALSE(fs::exists(sessionDir("was-ready") / "store-abc.wav"));
  const auto events = events_.events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, EventType::RecordingFailed);
  EXPECT_EQ(events[0].data["stage"], "interrupted");
}

TEST_F(RecordingJobRunnerTest, RecoveryAutoStoresReadyRecordings) {
  rebuild(AutoStorePolicy{});
  addRecording("r1");
  runner_->recoverInterruptedJobs();
  settle();
  EXPECT_EQ(find("r1").state, "stored");
}

TEST_F(RecordingJobRunnerTest, StoppedRunnerRefusesWork) {
  addRecording("r1");
  runner_->stop();
  auto result = runner_->store(storeRequest("r1"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, 503);
  EXPECT_EQ(runner_->remove("acme", "r1", "command").error().code, 503);
}

}  // namespace
}  // namespace siprecd::control
