// RecordingSession: the application's commands on a live call (DESIGN.md §2 command table)
// and the event fields the session announces.
#include <algorithm>

#include <fmt/format.h>

#include "base/log.hpp"
#include "siprec/recording_session.hpp"

namespace siprecd::siprec {
namespace {

constexpr std::string_view kComponent = "siprec";

tl::unexpected<Error> wrongState(std::string_view command, std::string_view state) {
  return fail(fmt::format("{} is not possible while the recording is {}", command, state), 409);
}

}  // namespace

Result<void> RecordingSession::stopRecording() {
  if (state_ != SessionState::Recording) {
    return wrongState("STOPRECORDING", state_ == SessionState::Offered ? "offered" : "ending");
  }
  log::ScopedContext scope("recording_id", recording_id_);
  log::info(kComponent, "STOPRECORDING: ending the call, keeping the recording");
  end("stopped", true);
  return {};
}

Result<void> RecordingSession::cancelRecording() {
  if (state_ == SessionState::Offered) {
    // Not answered yet: refuse the INVITE; nothing was captured.
    log::ScopedContext scope("recording_id", recording_id_);
    decision_.reset();
    if (pending_invite_) {
      respond(*pending_invite_, 480, "recording cancelled by the application");
      pending_invite_.reset();
    }
    finishWithoutRecording("cancelled", "CANCELRECORDING before answer");
    return {};
  }
  if (state_ != SessionState::Recording) {
    return wrongState("CANCELRECORDING", "ending");
  }
  log::ScopedContext scope("recording_id", recording_id_);
  log::info(kComponent, "CANCELRECORDING: ending the call and discarding the recording");
  cancelled_ = true;
  end("cancelled", true);
  return {};
}

Result<void> RecordingSession::pauseRecording() {
  if (state_ != SessionState::Recording || paused_) {
    return wrongState("PAUSERECORDING", paused_ ? "paused" : "not recording");
  }
  paused_ = true;
  pauses_.push_back(Pause{context_.loop.clock().epochMs(), std::nullopt});
  setCapturePaused(true);
  persist("paused", "PAUSERECORDING");
  return {};
}

Result<void> RecordingSession::resumeRecording() {
  if (state_ != SessionState::Recording || !paused_) {
    return wrongState("RESUMERECORDING", paused_ ? "ending" : "not paused");
  }
  paused_ = false;
  pauses_.back().to_ms = context_.loop.clock().epochMs();
  setCapturePaused(false);
  persist("recording", "RESUMERECORDING");
  return {};
}

void RecordingSession::setCapturePaused(bool paused) {
  for (const auto& stream : streams_) {
    if (stream.handle) {
      context_.media.setCapturePaused(stream.handle->id, paused);
    }
  }
}

nlohmann::json RecordingSession::pausesJson(std::optional<int64_t> open_end_ms) const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& pause : pauses_) {
    nlohmann::json entry = {{"from", pause.from_ms}};
    if (auto to = pause.to_ms ? pause.to_ms : open_end_ms) {
      entry["to"] = *to;
    }
    list.push_back(std::move(entry));
  }
  return list;
}

nlohmann::json RecordingSession::eventData() const {
  nlohmann::json metadata = metadata_ ? rsMetadataToJson(*metadata_) : nlohmann::json::object();
  nlohmann::json streams = nlohmann::json::array();
  for (std::size_t i = 0; i < streams_.size(); ++i) {
    const auto& stream = streams_[i];
    nlohmann::json entry = {{"index", i},
                            {"label", stream.label},
                            {"codec", stream.negotiated.codec_name},
                            {"clockRate", stream.negotiated.clock_rate}};
    if (metadata_) {
      if (auto participant = participantForLabel(*metadata_, stream.label)) {
        entry["participantId"] = *participant;
      }
    }
    streams.push_back(std::move(entry));
  }
  nlohmann::json data = {{"callId", identity_.call_id},
                         {"from", identity_.from},
                         {"to", identity_.to},
                         {"requestUri", identity_.request_uri},
                         {"source", identity_.source},
                         {"participants", metadata.value("participants", nlohmann::json::array())},
                         {"streams", std::move(streams)}};
  if (answered_ms_) {
    data["startTime"] = *answered_ms_;
  }
  return data;
}

std::vector<std::string> RecordingSession::streamSides() const {
  std::vector<std::string> sides(streams_.size());
  if (!metadata_) {
    return sides;
  }
  // Order the senders as the metadata lists its participants, so that the same call always
  // puts the same party on the same channel whatever order the m-lines come in.
  std::vector<std::string> senders;
  std::vector<std::optional<std::string>> sender_of(streams_.size());
  for (std::size_t i = 0; i < streams_.size(); ++i) {
    sender_of[i] = participantForLabel(*metadata_, streams_[i].label);
  }
  for (const auto& participant : metadata_->participants) {
    bool sends = std::any_of(sender_of.begin(), sender_of.end(),
                             [&](const auto& id) { return id && *id == participant.id; });
    if (sends) {
      senders.push_back(participant.id);
    }
  }
  for (std::size_t i = 0; i < streams_.size(); ++i) {
    if (!sender_of[i]) {
      continue;
    }
    auto position = std::find(senders.begin(), senders.end(), *sender_of[i]) - senders.begin();
    sides[i] = position % 2 == 0 ? "left" : "right";
  }
  return sides;
}

}  // namespace siprecd::siprec
