#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/worker_pool.hpp"
#include "control/domain_settings.hpp"
#include "control/event_sink.hpp"
#include "control/recording_job_runner.hpp"
#include "db/repository.hpp"
#include "media/spool_writer.hpp"
#include "storage/file_destination.hpp"
#include "support/temp_dir.hpp"
#include "webhook_test_support.hpp"

// Not `siprecd::testing`: unqualified `testing::Test` inside siprecd would then find it.
namespace siprecd::test_support {

/// An EventSink that keeps what it is given, in order. Thread-safe.
class CollectingEventSink final : public control::EventSink {
 public:
  struct Event {
    control::EventType type;
    std::string domain;
    std::string recording_id;
    nlohmann::json data;
  };

  void emit(control::EventType type, std::string domain, std::string recording_id,
            nlohmann::json data) override {
    std::lock_guard lock(mutex_);
    events_.push_back(Event{type, std::move(domain), std::move(recording_id), std::move(data)});
    if (on_emit_) {
      on_emit_(events_.back());
    }
  }
  /// Called (under the sink's lock) with each event as it is emitted; set before any job runs.
  void onEmit(std::function<void(const Event&)> hook) { on_emit_ = std::move(hook); }
  std::vector<Event> events() const {
    std::lock_guard lock(mutex_);
    return events_;
  }
  std::vector<control::EventType> types() const {
    std::lock_guard lock(mutex_);
    std::vector<control::EventType> types;
    for (const auto& event : events_) {
      types.push_back(event.type);
    }
    return types;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Event> events_;
  std::function<void(const Event&)> on_emit_;
};

/// A destination double whose put() can be held (to keep a job running) or made to fail;
/// otherwise it delegates to a real FileDestination.
class ScriptedDestination final : public storage::Destination {
 public:
  explicit ScriptedDestination(std::filesystem::path root)
      : file_(storage::FileDestinationSettings{std::move(root), 0640, 0750}) {}

  std::string_view kind() const override { return "file"; }
  Result<storage::StoredObject> put(const std::filesystem::path& file, std::string_view key,
                                    std::string_view content_type) override {
    {
      std::lock_guard lock(mutex_);
      ++calls_;
      entered_ = true;
    }
    entered_changed_.notify_all();
    if (hold_) {
      gate_.wait();
    }
    if (!failure_.empty()) {
      return fail(failure_);
    }
    return file_.put(file, key, content_type);
  }

  void holdUntilReleased() { hold_ = true; }
  void release() { gate_.open(); }
  void failWith(std::string message) { failure_ = std::move(message); }
  /// Waits (real time, bounded) until put() was entered.
  bool waitEntered() {
    std::unique_lock lock(mutex_);
    return entered_changed_.wait_for(lock, std::chrono::seconds(10), [&] { return entered_; });
  }
  int calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }

 private:
  storage::FileDestination file_;
  Gate gate_;
  bool hold_ = false;    // set before use
  std::string failure_;  // set before use
  mutable std::mutex mutex_;
  std::condition_variable entered_changed_;
  bool entered_ = false;  // guarded by mutex_
  int calls_ = 0;         // guarded by mutex_
};

/// μ-law codes: 0x00 decodes to about -32124, 0x80 to about +32124 (G.711).
inline constexpr std::byte kMuLawLow{0x00};
inline constexpr std::byte kMuLawHigh{0x80};

/// Writes a PCMU spool of `packets` 20 ms packets of the constant code `code`, the first
/// arriving at `start_ms` (epoch ms).
inline void writeSpool(const std::filesystem::path& path, uint32_t stream_index,
                       const std::string& label, std::byte code, int64_t start_ms, int packets) {
  media::SpoolHeader header;
  header.recording_id = "rec";
  header.stream_index = stream_index;
  header.label = label;
  header.codec_name = "PCMU";
  header.clock_rate = 8000;
  header.payload_type = 0;
  auto writer = media::SpoolWriter::create(path, header, 16 * 1024);
  ASSERT_TRUE(writer) << writer.error().message;
  const std::vector<std::byte> payload(160, code);
  for (int i = 0; i < packets; ++i) {
    media::SpoolRecord record;
    record.arrival_epoch_us = (start_ms + 20 * i) * 1000;
    record.seq = media::SeqNum(static_cast<uint16_t>(1000 + i));
    record.timestamp = media::RtpTimestamp(static_cast<uint32_t>(160 * i));
    record.ssrc = media::Ssrc(0x1234 + stream_index);
    record.payload_type = 0;
    record.payload = payload;
    writer->append(record);
  }
  ASSERT_TRUE(writer->finish());
}

/// A runner over a real SQLite repository, a real worker pool and files in a temporary
/// directory; domain "acme" stores to "local" ({temp}/store) and "scripted".
class RecordingJobFixture : public ::testing::Test {
 protected:
  static constexpr int64_t kStartMs = SharedManualClock::kEpochStartMs + 1'000'000;

  void SetUp() override {
    auto repository = db::openSqliteRepository(temp_.path() / "db" / "siprecd.db");
    ASSERT_TRUE(repository) << repository.error().message;
    repository_ = std::move(*repository);
    scripted_ = std::make_shared<ScriptedDestination>(store_root_);
    rebuild();
  }

  void TearDown() override {
    if (runner_) {
      runner_->waitIdle();
    }
    repository_->flush();
  }

  /// (Re)creates the runner with the current domain settings.
  void rebuild(std::optional<control::AutoStorePolicy> auto_store = std::nullopt) {
    auto acme = std::make_shared<control::DomainSettings>();
    acme->name = "acme";
    acme->retention = std::chrono::hours(48);
    acme->destinations["local"] = control::NamedDestination{
        "local", std::make_shared<storage::FileDestination>(
                     storage::FileDestinationSettings{store_root_, 0640, 0750})};
    acme->destinations["scripted"] = control::NamedDestination{"scripted", scripted_};
    acme->auto_store = auto_store;
    auto other = std::make_shared<control::DomainSettings>();
    other->name = "other";
    other->retention = std::chrono::hours(24 * 30);
    domains_ = {{"acme", acme}, {"other", other}};
    runner_.reset();
    runner_ = std::make_unique<control::RecordingJobRunner>(
        *repository_, events_, workers_, clock_, domains_,
        control::RecordingJobRunner::Settings{temp_.path() / "data", nullptr});
  }

  std::filesystem::path sessionDir(const std::string& id) const {
    return temp_.path() / "data" / "sessions" / id;
  }

  /// A finished two-stream call: spools (stream 0 "1" negative, stream 1 "2" positive, 1 s
  /// each from kStartMs), recording.json and metadata.xml, a placeholder recording.wav and
  /// the row in `state`. In the metadata, participant "B" (listed first) sends stream "2".
  db::RecordingRecord addRecording(const std::string& id, std::string state = "ready",
                                   std::string domain = "acme", int64_t created_ms = kStartMs) {
    const auto dir = sessionDir(id);
    std::filesystem::create_directories(dir);
    writeSpool(dir / "stream-0.spool", 0, "1", kMuLawLow, kStartMs, 50);
    writeSpool(dir / "stream-1.spool", 1, "2", kMuLawHigh, kStartMs, 50);
    const nlohmann::json metadata = {
        {"participants",
         {{{"participantId", "B"}, {"aors", {"sip:b@x"}}, {"send", {"s2"}}, {"recv", {"s1"}}},
          {{"participantId", "A"}, {"aors", {"sip:a@x"}}, {"send", {"s1"}}, {"recv", {"s2"}}}}},
        {"streams", {{{"streamId", "s1"}, {"label", "1"}}, {{"streamId", "s2"}, {"label", "2"}}}},
        {"sessions", nlohmann::json::array()},
        {"groups", nlohmann::json::array()}};
    const nlohmann::json document = {
        {"recordingId", id},
        {"domain", domain},
        {"callId", "call-" + id},
        {"answeredTime", kStartMs},
        {"byeTime", kStartMs + 1000},
        {"streams", {{{"index", 0}, {"label", "1"}}, {{"index", 1}, {"label", "2"}}}},
        {"metadata", metadata}};
    std::ofstream(dir / "recording.json") << document.dump(2);
    std::ofstream(dir / "metadata.xml") << kMetadataXml;
    std::ofstream(dir / "recording.wav") << "placeholder";

    db::RecordingRecord record;
    record.id = id;
    record.domain = std::move(domain);
    record.state = std::move(state);
    record.call_id = "call-" + id;
    record.created_ms = created_ms;
    record.started_ms = kStartMs;
    record.ended_ms = kStartMs + 1000;
    record.duration_ms = 1000;
    record.metadata_xml = kMetadataXml;
    record.metadata_json = metadata.dump();
    record.streams_json = document["streams"].dump();
    record.audio_path = (dir / "recording.wav").string();
    repository_->insertRecording(record);
    repository_->flush();
    return record;
  }

  db::RecordingRecord find(const std::string& id) {
    repository_->flush();
    auto found = repository_->findRecording(id);
    EXPECT_TRUE(found && *found);
    return found && *found ? **found : db::RecordingRecord{};
  }

  std::vector<std::string> states(const std::string& id) {
    repository_->flush();
    std::vector<std::string> list;
    auto transitions = repository_->transitions(id);
    EXPECT_TRUE(transitions);
    for (const auto& transition : *transitions) {
      list.push_back(transition.state);
    }
    return list;
  }

  /// Waits for every job, then for their writes.
  void settle() {
    runner_->waitIdle();
    repository_->flush();
  }

  control::StoreRequest storeRequest(const std::string& id, std::string destination = "local") {
    control::StoreRequest request;
    request.domain = "acme";
    request.recording_id = id;
    request.destination = std::move(destination);
    return request;
  }

  static constexpr const char* kMetadataXml =
      "<?xml version=\"1.0\"?><recording xmlns=\"urn:ietf:params:xml:ns:recording:1\"/>";

  TempDir temp_;
  std::filesystem::path store_root_ = temp_.path() / "store";
  std::unique_ptr<db::Repository> repository_;
  CollectingEventSink events_;
  SharedManualClock clock_;
  std::shared_ptr<ScriptedDestination> scripted_;
  control::DomainDirectory domains_;
  std::unique_ptr<control::RecordingJobRunner> runner_;
  // Declared after the runner so that it is destroyed first: queued jobs finish while the
  // runner still exists.
  WorkerPool workers_{2};
};

}  // namespace siprecd::test_support
