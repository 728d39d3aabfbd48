// RsMetadata operations: partial-update merge (RFC 7865 datamode), the JSON view, and
// the label → participant lookup used for channel layout.

#include "siprec/rs_metadata.hpp"

#include <algorithm>
#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

namespace siprecd::siprec {
namespace {

void overrideString(std::string& current, const std::string& update) {
  if (!update.empty()) {
    current = update;
  }
}

void overrideList(std::vector<std::string>& current, const std::vector<std::string>& update) {
  if (!update.empty()) {
    current = update;
  }
}

void overrideTime(std::optional<int64_t>& current, const std::optional<int64_t>& update) {
  if (update) {
    current = update;
  }
}

void mergeItem(RsGroup& current, const RsGroup& update) {
  overrideTime(current.associate_time_ms, update.associate_time_ms);
  overrideTime(current.disassociate_time_ms, update.disassociate_time_ms);
  overrideString(current.extension_xml, update.extension_xml);
}

void mergeItem(RsSession& current, const RsSession& update) {
  overrideString(current.group_id, update.group_id);
  overrideList(current.sip_session_ids, update.sip_session_ids);
  overrideTime(current.start_time_ms, update.start_time_ms);
  overrideTime(current.stop_time_ms, update.stop_time_ms);
  overrideString(current.reason, update.reason);
  overrideString(current.extension_xml, update.extension_xml);
}

void mergeItem(RsParticipant& current, const RsParticipant& update) {
  overrideList(current.aors, update.aors);
  overrideString(current.name, update.name);
  if (update.streams_known) {
    current.send = update.send;
    current.recv = update.recv;
    current.streams_known = true;
  }
  // A participant that left and is associated again later (RFC 7865 allows a new
  // participantsessionassoc) is no longer gone, unless the update says it left again.
  if (update.associate_time_ms && !update.disassociate_time_ms && current.disassociate_time_ms &&
      *update.associate_time_ms > *current.disassociate_time_ms) {
    current.disassociate_time_ms.reset();
  }
  overrideTime(current.associate_time_ms, update.associate_time_ms);
  overrideTime(current.disassociate_time_ms, update.disassociate_time_ms);
  overrideString(current.extension_xml, update.extension_xml);
}

void mergeItem(RsStream& current, const RsStream& update) {
  overrideString(current.session_id, update.session_id);
  overrideString(current.label, update.label);
  overrideString(current.extension_xml, update.extension_xml);
}

template <typename T>
void mergeById(std::vector<T>& current, const std::vector<T>& update) {
  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < current.size(); ++i) {
    index.try_emplace(current[i].id, i);
  }
  for (const T& item : update) {
    const auto [it, inserted] = index.try_emplace(item.id, current.size());
    if (inserted) {
      current.push_back(item);
    } else {
      mergeItem(current[it->second], item);
    }
  }
}

void putTime(nlohmann::json& object, const char* key, const std::optional<int64_t>& time_ms) {
  if (time_ms) {
    object[key] = *time_ms;
  }
}

void putString(nlohmann::json& object, const char* key, const std::string& value) {
  if (!value.empty()) {
    object[key] = value;
  }
}

nlohmann::json stringArray(const std::vector<std::string>& values) {
  nlohmann::json array = nlohmann::json::array();
  for (const std::string& value : values) {
    array.push_back(value);
  }
  return array;
}

}  // namespace

void mergeRsMetadata(RsMetadata& current, const RsMetadata& update) {
  if (&current == &update) {
    return;  // merging a document into itself changes nothing
  }
  if (update.data_mode == DataMode::Complete) {
    current = update;
    return;
  }
  mergeById(current.groups, update.groups);
  mergeById(current.sessions, update.sessions);
  mergeById(current.participants, update.participants);
  mergeById(current.streams, update.streams);
  overrideString(current.extension_xml, update.extension_xml);
}

nlohmann::json rsMetadataToJson(const RsMetadata& metadata) {
  nlohmann::json participants = nlohmann::json::array();
  for (const RsParticipant& item : metadata.participants) {
    nlohmann::json entry = {{"participantId", item.id},
                            {"aors", stringArray(item.aors)},
                            {"send", stringArray(item.send)},
                            {"recv", stringArray(item.recv)}};
    putString(entry, "name", item.name);
    putTime(entry, "associateTime", item.associate_time_ms);
    putTime(entry, "disassociateTime", item.disassociate_time_ms);
    participants.push_back(std::move(entry));
  }
  nlohmann::json streams = nlohmann::json::array();
  for (const RsStream& item : metadata.streams) {
    nlohmann::json entry = {{"streamId", item.id}};
    putString(entry, "label", item.label);
    putString(entry, "sessionId", item.session_id);
    streams.push_back(std::move(entry));
  }
  nlohmann::json sessions = nlohmann::json::array();
  for (const RsSession& item : metadata.sessions) {
    nlohmann::json entry = {{"sessionId", item.id},
                            {"sipSessionIds", stringArray(item.sip_session_ids)}};
    putString(entry, "groupId", item.group_id);
    putTime(entry, "startTime", item.start_time_ms);
    putTime(entry, "stopTime", item.stop_time_ms);
    putString(entry, "reason", item.reason);
    sessions.push_back(std::move(entry));
  }
  nlohmann::json groups = nlohmann::json::array();
  for (const RsGroup& item : metadata.groups) {
    nlohmann::json entry = {{"groupId", item.id}};
    putTime(entry, "associateTime", item.associate_time_ms);
    putTime(entry, "disassociateTime", item.disassociate_time_ms);
    groups.push_back(std::move(entry));
  }
  return {{"participants", std::move(participants)},
          {"streams", std::move(streams)},
          {"sessions", std::move(sessions)},
          {"groups", std::move(groups)}};
}

std::optional<std::string> participantForLabel(const RsMetadata& metadata, std::string_view label) {
  for (const RsStream& stream : metadata.streams) {
    if (stream.label != label) {
      continue;
    }
    const RsParticipant* departed = nullptr;
    for (const RsParticipant& participant : metadata.participants) {
      if (std::find(participant.send.begin(), participant.send.end(), stream.id) ==
          participant.send.end()) {
        continue;
      }
      if (!participant.disassociate_time_ms) {
        return participant.id;
      }
      if (departed == nullptr) {
        departed = &participant;
      }
    }
    if (departed != nullptr) {
      return departed->id;
    }
  }
  return std::nullopt;
}

}  // namespace siprecd::siprec
