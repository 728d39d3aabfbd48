#include "siprec/recording_finalizer.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

#include "base/unique_fd.hpp"
#include "recording/renderer.hpp"

namespace siprecd::siprec {
namespace {

Error systemError(std::string_view what, const std::filesystem::path& path) {
  return Error{std::string(what) + " " + path.string() + ": " + std::strerror(errno), 0};
}

}  // namespace

Result<void> writeFileAtomically(const std::filesystem::path& path, std::string_view content,
                                 Durability durability) {
  std::filesystem::path temporary = path;
  temporary += ".tmp";
  UniqueFd file(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640));
  if (file.get() < 0) {
    return tl::unexpected(systemError("cannot create", temporary));
  }
  std::size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(file.get(), content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return tl::unexpected(systemError("cannot write", temporary));
    }
    written += static_cast<std::size_t>(n);
  }
  if (durability == Durability::Synced && ::fsync(file.get()) != 0) {
    return tl::unexpected(systemError("cannot fsync", temporary));
  }
  if (file.close() != 0) {
    return tl::unexpected(systemError("cannot close", temporary));
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    return tl::unexpected(systemError("cannot rename to", path));
  }
  return {};
}

nlohmann::json recordingDocument(const RecordingFacts& facts) {
  auto optional = [](const std::optional<int64_t>& ms) {
    return ms ? nlohmann::json(*ms) : nlohmann::json();
  };
  return {
      {"recordingId", facts.recording_id},
      {"domain", facts.domain},
      {"callId", facts.call.call_id},
      {"from", facts.call.from},
      {"to", facts.call.to},
      {"requestUri", facts.call.request_uri},
      {"source", facts.call.source},
      {"createdTime", facts.created_ms},
      {"answeredTime", optional(facts.answered_ms)},
      {"byeTime", optional(facts.bye_ms)},
      {"endReason", facts.end_reason},
      {"interrupted", facts.interrupted},
      {"streams", facts.streams},
      {"metadata", facts.metadata},
  };
}

nlohmann::json readyEventData(const nlohmann::json& document) {
  nlohmann::json data = nlohmann::json::object();
  for (const char* key :
       {"callId", "from", "to", "requestUri", "source", "startTime", "endTime", "duration",
        "endReason", "interrupted", "audio", "streams", "assurance", "pauses"}) {
    if (auto it = document.find(key); it != document.end()) {
      data[key] = *it;
    }
  }
  const auto metadata = document.value("metadata", nlohmann::json::object());
  data["participants"] = metadata.value("participants", nlohmann::json::array());
  return data;
}

namespace {

recording::StreamSide sideOf(const std::vector<std::string>& sides, std::size_t index) {
  if (index >= sides.size()) {
    return recording::StreamSide::Unknown;
  }
  if (sides[index] == "left") {
    return recording::StreamSide::Left;
  }
  return sides[index] == "right" ? recording::StreamSide::Right : recording::StreamSide::Unknown;
}

}  // namespace

Result<FinalizeOutcome> finalizeRecording(const FinalizeJob& job) {
  // The temporary recording keeps one channel per stream (nothing mixed away); pauses are
  // silenced here already, so no copy of the recording carries what was paused. Layouts,
  // masks and trim are STORERECORDING's.
  recording::RecordingRenderRequest request;
  for (std::size_t i = 0; i < job.spools.size(); ++i) {
    request.streams.push_back(recording::LayoutStream{job.spools[i], sideOf(job.sides, i)});
  }
  request.output = job.directory / "recording.wav";
  request.format = recording::AudioFormat::Wav;
  request.layout = recording::ChannelLayout::Multitrack;
  request.session_start_epoch_ms = job.start_epoch_ms;
  request.session_end_epoch_ms = job.end_epoch_ms;
  for (const auto& [from, to] : job.pauses) {
    if (from < to) {
      request.pauses.push_back(recording::TimeSpan{from, to});
    }
  }
  request.sync_to_disk = false;
  auto rendered = recording::renderRecording(request);
  if (!rendered) {
    return tl::unexpected(rendered.error());
  }

  FinalizeOutcome outcome;
  outcome.audio_path = request.output;
  outcome.duration_ms = rendered->duration_ms;
  nlohmann::json document = job.document;
  document["state"] = "ready";
  document["startTime"] = rendered->start_epoch_ms;
  document["endTime"] = rendered->end_epoch_ms;
  document["duration"] = rendered->duration_ms;
  document["audio"] = {{"file", "recording.wav"},
                       {"format", "wav"},
                       {"layout", "multitrack"},
                       {"sampleRate", rendered->sample_rate},
                       {"channels", rendered->channels}};
  auto& streams = document["streams"];
  const auto& timeline = rendered->timeline;
  for (std::size_t i = 0; i < timeline.streams.size() && i < streams.size(); ++i) {
    const auto& stream = timeline.streams[i];
    streams[i]["packets"] = stream.packets;
    streams[i]["firstPacketTime"] =
        stream.first_packet_ms ? nlohmann::json(*stream.first_packet_ms) : nlohmann::json();
    streams[i]["lastPacketTime"] =
        stream.last_packet_ms ? nlohmann::json(*stream.last_packet_ms) : nlohmann::json();
    if (i < job.sides.size() && !job.sides[i].empty()) {
      streams[i]["side"] = job.sides[i];
    }
  }
  document["assurance"] = recording::assuranceReport(streams, timeline);
  if (!job.metadata_xml.empty()) {
    if (auto written = writeFileAtomically(job.directory / "metadata.xml", job.metadata_xml,
                                           Durability::Unsynced);
        !written) {
      return tl::unexpected(written.error());
    }
  }
  if (auto written = writeFileAtomically(job.directory / "recording.json", document.dump(2),
                                         Durability::Unsynced);
      !written) {
    return tl::unexpected(written.error());
  }
  outcome.document = std::move(document);
  return outcome;
}

}  // namespace siprecd::siprec
