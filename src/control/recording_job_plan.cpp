#include "control/recording_job_plan.hpp"

#include <algorithm>
#include <fstream>
#include <limits>
#include <sstream>

#include <fmt/format.h>

namespace siprecd::control {
namespace {

nlohmann::json parseOr(std::string_view text, nlohmann::json fallback) {
  if (text.empty()) {
    return fallback;
  }
  auto parsed = nlohmann::json::parse(text, nullptr, false);
  return parsed.is_discarded() ? fallback : parsed;
}

std::optional<int64_t> optionalMs(const nlohmann::json& object, const char* name) {
  if (!object.is_object()) {
    return std::nullopt;
  }
  const auto it = object.find(name);
  if (it == object.end() || !it->is_number_integer()) {
    return std::nullopt;
  }
  return it->get<int64_t>();
}

std::string stringField(const nlohmann::json& object, const char* name) {
  if (!object.is_object()) {
    return {};
  }
  const auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool containsString(const nlohmann::json& array, const std::string& value) {
  return array.is_array() &&
         std::any_of(array.begin(), array.end(),
                     [&](const nlohmann::json& item) { return item.is_string() && item == value; });
}

/// The participant sending the stream labelled `label` (participantForLabel on JSON).
std::optional<std::string> senderOf(const nlohmann::json& metadata, const std::string& label) {
  const auto& streams = metadata.is_object() ? metadata.value("streams", nlohmann::json::array())
                                             : nlohmann::json::array();
  const auto& participants = metadata.is_object()
                                 ? metadata.value("participants", nlohmann::json::array())
                                 : nlohmann::json::array();
  if (label.empty() || !streams.is_array() || !participants.is_array()) {
    return std::nullopt;
  }
  for (const auto& stream : streams) {
    if (stringField(stream, "label") != label) {
      continue;
    }
    const std::string stream_id = stringField(stream, "streamId");
    std::optional<std::string> departed;
    for (const auto& participant : participants) {
      if (!containsString(participant.is_object() ? participant.value("send", nlohmann::json())
                                                  : nlohmann::json(),
                          stream_id)) {
        continue;
      }
      const std::string id = stringField(participant, "participantId");
      if (!participant.contains("disassociateTime")) {
        return id;
      }
      if (!departed) {
        departed = id;
      }
    }
    if (departed) {
      return departed;
    }
  }
  return std::nullopt;
}

}  // namespace

Result<std::filesystem::path> sessionDirectory(const std::filesystem::path& data_dir,
                                               std::string_view recording_id) {
  const bool plain = !recording_id.empty() && recording_id != "." && recording_id != ".." &&
                     std::all_of(recording_id.begin(), recording_id.end(), [](char c) {
                       return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '@' ||
                              c == '-';
                     });
  if (!plain) {
    return fail("recording id is not a plain directory name", 500);
  }
  return data_dir / "sessions" / std::string(recording_id);
}

nlohmann::json readRecordingDocument(const std::filesystem::path& session_dir) {
  std::ifstream in(session_dir / "recording.json", std::ios::binary);
  if (!in) {
    return nlohmann::json::object();
  }
  std::stringstream text;
  text << in.rdbuf();
  auto document = parseOr(text.str(), nlohmann::json::object());
  return document.is_object() ? document : nlohmann::json::object();
}

std::vector<recording::StreamSide> streamSides(const nlohmann::json& streams,
                                               const nlohmann::json& metadata) {
  using recording::StreamSide;
  const std::size_t count = streams.is_array() ? streams.size() : 0;
  std::vector<StreamSide> sides(count, StreamSide::Unknown);
  std::vector<std::optional<std::string>> sender(count);
  bool all_explicit = true;
  for (std::size_t i = 0; i < count; ++i) {
    const std::string side = stringField(streams[i], "side");
    if (side == "left") {
      sides[i] = StreamSide::Left;
    } else if (side == "right") {
      sides[i] = StreamSide::Right;
    } else {
      all_explicit = false;
      sender[i] = senderOf(metadata, stringField(streams[i], "label"));
    }
  }
  if (all_explicit) {
    return sides;
  }
  std::vector<std::string> senders;
  const auto participants = metadata.is_object()
                                ? metadata.value("participants", nlohmann::json::array())
                                : nlohmann::json::array();
  for (const auto& participant : participants) {
    const std::string id = stringField(participant, "participantId");
    if (std::any_of(sender.begin(), sender.end(), [&](const auto& s) { return s && *s == id; })) {
      senders.push_back(id);
    }
  }
  for (std::size_t i = 0; i < count; ++i) {
    if (!sender[i]) {
      continue;
    }
    const auto position = std::find(senders.begin(), senders.end(), *sender[i]) - senders.begin();
    sides[i] = position % 2 == 0 ? StreamSide::Left : StreamSide::Right;
  }
  return sides;
}

std::vector<recording::TimeSpan> parsePauses(std::string_view pauses_json,
                                             std::optional<int64_t> open_end_ms) {
  std::vector<recording::TimeSpan> pauses;
  const auto list = parseOr(pauses_json, nlohmann::json::array());
  if (!list.is_array()) {
    return pauses;
  }
  for (const auto& entry : list) {
    const auto from = optionalMs(entry, "from");
    if (!from) {
      continue;
    }
    const int64_t to =
        optionalMs(entry, "to").value_or(open_end_ms.value_or(std::numeric_limits<int64_t>::max()));
    if (to > *from) {
      pauses.push_back(recording::TimeSpan{*from, to});
    }
  }
  return pauses;
}

Result<recording::RecordingRenderRequest> renderRequestFor(const db::RecordingRecord& record,
                                                           const std::filesystem::path& session_dir,
                                                           const nlohmann::json& document) {
  nlohmann::json streams = document.is_object() ? document.value("streams", nlohmann::json::array())
                                                : nlohmann::json::array();
  if (!streams.is_array() || streams.empty()) {
    streams = parseOr(record.streams_json, nlohmann::json::array());
  }
  if (!streams.is_array() || streams.empty()) {
    return fail("the recording lists no stream to render", 500);
  }
  recording::RecordingRenderRequest request;
  const auto sides = streamSides(
      streams, document.is_object() ? document.value("metadata", nlohmann::json::object())
                                    : parseOr(record.metadata_json, nlohmann::json::object()));
  for (std::size_t i = 0; i < streams.size(); ++i) {
    std::size_t index = i;
    if (streams[i].is_object() && streams[i].contains("index") &&
        streams[i]["index"].is_number_integer() && streams[i]["index"].get<int64_t>() >= 0) {
      index = streams[i]["index"].get<std::size_t>();
    }
    request.streams.push_back(
        recording::LayoutStream{session_dir / fmt::format("stream-{}.spool", index), sides[i]});
  }
  request.session_start_epoch_ms = optionalMs(document, "answeredTime");
  if (!request.session_start_epoch_ms) {
    request.session_start_epoch_ms = record.started_ms;
  }
  request.session_end_epoch_ms = optionalMs(document, "byeTime");
  if (!request.session_end_epoch_ms) {
    request.session_end_epoch_ms = record.ended_ms;
  }
  request.pauses = parsePauses(record.pauses_json, request.session_end_epoch_ms);
  return request;
}

std::string documentKey(std::string_view audio_key, std::string_view ext, std::string_view suffix) {
  std::string base(audio_key);
  const std::string dotted_ext = "." + std::string(ext);
  if (!ext.empty() && base.size() > dotted_ext.size() && base.ends_with(dotted_ext)) {
    base.resize(base.size() - dotted_ext.size());
  }
  std::string key = base + std::string(suffix);
  if (key == audio_key) {
    key = std::string(audio_key) + std::string(suffix);
  }
  return key;
}

}  // namespace siprecd::control
