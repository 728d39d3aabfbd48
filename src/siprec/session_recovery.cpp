#include "siprec/session_recovery.hpp"

#include <limits>
#include <system_error>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/log.hpp"
#include "control/event_sink.hpp"
#include "siprec/recording_finalizer.hpp"

namespace siprecd::siprec {
namespace {

constexpr std::string_view kComponent = "siprec";
constexpr std::string_view kEndReason = "interrupted";

nlohmann::json parseOr(const std::string& text, nlohmann::json fallback) {
  auto parsed = nlohmann::json::parse(text, nullptr, false);
  return parsed.is_discarded() ? fallback : parsed;
}

FinalizeJob jobFor(const db::RecordingRecord& record, const std::filesystem::path& data_dir) {
  FinalizeJob job;
  job.recording_id = record.id;
  job.directory = data_dir / "sessions" / record.id;
  nlohmann::json streams = parseOr(record.streams_json, nlohmann::json::array());
  if (!streams.is_array()) {
    streams = nlohmann::json::array();
  }
  for (std::size_t i = 0; i < streams.size(); ++i) {
    std::size_t index = streams[i].value("index", i);
    job.spools.push_back(job.directory / fmt::format("stream-{}.spool", index));
  }
  // The timeline starts at the answer and ends with the last packet that reached the disk.
  job.start_epoch_ms = record.started_ms;
  job.metadata_xml = record.metadata_xml;
  // A pause still open when the process died lasts to the end of what was recorded.
  nlohmann::json pauses = parseOr(record.pauses_json, nlohmann::json::array());
  if (pauses.is_array()) {
    for (const auto& pause : pauses) {
      if (pause.is_object() && pause.contains("from")) {
        job.pauses.emplace_back(pause.value("from", int64_t{0}),
                                pause.value("to", std::numeric_limits<int64_t>::max()));
      }
    }
  }
  RecordingFacts facts;
  facts.recording_id = record.id;
  facts.domain = record.domain;
  facts.call = CallIdentity{record.call_id, record.from_uri, record.to_uri, record.request_uri,
                            record.source};
  facts.created_ms = record.created_ms;
  facts.answered_ms = record.started_ms;
  facts.end_reason = std::string(kEndReason);
  facts.interrupted = true;
  facts.streams = streams;
  facts.metadata = parseOr(record.metadata_json, nlohmann::json::object());
  job.document = recordingDocument(facts);
  job.document["pauses"] = pauses.is_array() ? pauses : nlohmann::json::array();
  return job;
}

void recoverRecording(db::Repository& repository, control::EventSink& events,
                      const RecoveredCallback& on_ready, db::RecordingRecord record,
                      const std::filesystem::path& data_dir, const Clock& clock) {
  log::ScopedContext scope("recording_id", record.id);
  auto outcome = finalizeRecording(jobFor(record, data_dir));
  record.end_reason = std::string(kEndReason);
  std::string detail;
  nlohmann::json event;
  if (outcome) {
    record.state = "ready";
    record.duration_ms = outcome->duration_ms;
    record.ended_ms = outcome->document.value("endTime", int64_t{0});
    record.streams_json = outcome->document["streams"].dump();
    record.audio_path = outcome->audio_path.string();
    if (auto it = outcome->document.find("assurance"); it != outcome->document.end()) {
      record.assurance_json = it->dump();
    }
    detail = "recovered after an interruption";
    event = readyEventData(outcome->document);
    log::info(kComponent, "interrupted recording recovered: {} ms", outcome->duration_ms);
  } else {
    record.state = "failed";
    record.error = "interrupted; recovery failed: " + outcome.error().message;
    detail = record.error;
    event = {{"reason", record.error}, {"kept", "spools"}, {"interrupted", true}};
    log::error(kComponent, "interrupted recording could not be recovered: {}",
               outcome.error().message);
  }
  std::string state = record.state;
  std::string id = record.id;
  std::string domain = record.domain;
  repository.updateRecording(std::move(record));
  repository.recordTransition(id, state, clock.epochMs(), std::move(detail));
  events.emit(
      state == "ready" ? control::EventType::RecordingReady : control::EventType::RecordingFailed,
      domain, id, std::move(event));
  if (state == "ready" && on_ready) {
    on_ready(domain, id);
  }
}

}  // namespace

std::size_t recoverInterruptedSessions(db::Repository& repository, control::EventSink& events,
                                       WorkerPool& workers, const std::filesystem::path& data_dir,
                                       const Clock& clock, RecoveredCallback on_ready) {
  std::size_t found = 0;
  auto unanswered = repository.recordingsInState("offered");
  if (unanswered) {
    for (db::RecordingRecord& record : *unanswered) {
      ++found;
      record.state = "failed";
      record.end_reason = std::string(kEndReason);
      record.error = "interrupted before the call was answered";
      std::error_code ignored;
      std::filesystem::remove_all(data_dir / "sessions" / record.id, ignored);
      std::string id = record.id;
      std::string error = record.error;
      repository.updateRecording(std::move(record));
      repository.recordTransition(std::move(id), "failed", clock.epochMs(), std::move(error));
    }
  } else {
    log::error(kComponent, "cannot list unanswered sessions: {}", unanswered.error().message);
  }
  for (const char* live_state : {"recording", "paused"}) {
    auto recording = repository.recordingsInState(live_state);
    if (!recording) {
      log::error(kComponent, "cannot list interrupted sessions: {}", recording.error().message);
      continue;
    }
    for (db::RecordingRecord& record : *recording) {
      ++found;
      workers.post(
          [&repository, &events, &clock, on_ready, data_dir, record = std::move(record)]() mutable {
            recoverRecording(repository, events, on_ready, std::move(record), data_dir, clock);
          });
    }
  }
  if (found > 0) {
    log::warn(kComponent, "{} sessions were interrupted by the previous shutdown; finalising them",
              found);
  }
  return found;
}

}  // namespace siprecd::siprec
