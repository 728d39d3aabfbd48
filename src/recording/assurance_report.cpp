// assuranceReport(), declared in renderer.hpp.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <string>

#include "recording/renderer.hpp"

namespace siprecd::recording {

namespace {

/// The first of `keys` holding a number in `object`, else nullopt.
std::optional<double> numberAt(const nlohmann::json& object,
                               std::initializer_list<const char*> keys) {
  if (!object.is_object()) {
    return std::nullopt;
  }
  for (const char* key : keys) {
    const auto found = object.find(key);
    if (found != object.end() && found->is_number()) {
      return found->get<double>();
    }
  }
  return std::nullopt;
}

uint64_t countAt(const nlohmann::json& object, const char* key) {
  const auto value = numberAt(object, {key});
  return value && *value > 0 ? static_cast<uint64_t>(*value) : 0;
}

double doubleAt(const nlohmann::json& object, const char* key) {
  return numberAt(object, {key}).value_or(0.0);
}

nlohmann::json optionalMs(const std::optional<int64_t>& ms) {
  return ms ? nlohmann::json(*ms) : nlohmann::json();
}

/// The stats' gap list as [{"start", "duration"}], whatever spelling the capture side
/// used; entries without both numbers are left out.
nlohmann::json gapsOf(const nlohmann::json& stats) {
  nlohmann::json gaps = nlohmann::json::array();
  if (!stats.is_object()) {
    return gaps;
  }
  const auto list = stats.find("gaps");
  if (list == stats.end() || !list->is_array()) {
    return gaps;
  }
  for (const nlohmann::json& gap : *list) {
    const auto start =
        numberAt(gap, {"start", "startTime", "startMs", "startEpochMs", "start_epoch_ms"});
    const auto duration = numberAt(gap, {"duration", "durationMs", "duration_ms"});
    if (start && duration) {
      gaps.push_back({{"start", std::llround(*start)}, {"duration", std::llround(*duration)}});
    }
  }
  return gaps;
}

std::string formatNumber(double value) {
  std::array<char, 32> text{};
  std::snprintf(text.data(), text.size(), "%.1f", value);
  return text.data();
}

}  // namespace

nlohmann::json assuranceReport(const nlohmann::json& streams_json, const RenderResult& rendered) {
  const std::size_t listed = streams_json.is_array() ? streams_json.size() : 0;
  const std::size_t count = std::max(listed, rendered.streams.size());
  nlohmann::json streams = nlohmann::json::array();
  nlohmann::json warnings = nlohmann::json::array();
  const auto warn = [&warnings](const char* code, std::size_t stream, std::string message) {
    warnings.push_back({{"code", code}, {"stream", stream}, {"message", std::move(message)}});
  };
  uint64_t silent_streams = 0;
  uint64_t audible_streams = 0;
  bool complete = count > 0;

  for (std::size_t i = 0; i < count; ++i) {
    static const nlohmann::json kNoStats = nlohmann::json::object();
    const nlohmann::json& stats =
        i < listed && streams_json[i].is_object() ? streams_json[i] : kNoStats;
    const RenderedStream* stream = i < rendered.streams.size() ? &rendered.streams[i] : nullptr;
    const std::string name = "stream " + std::to_string(i);

    const auto stats_packets = numberAt(stats, {"packets"});
    const uint64_t packets =
        stats_packets ? countAt(stats, "packets") : (stream != nullptr ? stream->packets : 0);
    const bool received = packets > 0 || (stream != nullptr && stream->first_packet_ms);
    const uint64_t lost = countAt(stats, "lost");
    const uint64_t out_of_source = countAt(stats, "foreignSourcePackets");
    const uint64_t gaps_over = countAt(stats, "gapsOver200ms");
    const uint64_t longest_gap = countAt(stats, "longestGapMs");
    const uint64_t spool_dropped = countAt(stats, "spoolRecordsDropped");

    nlohmann::json entry = {
        {"index", i},
        {"codec", stream != nullptr ? stream->codec : std::string()},
        {"packets", packets},
        {"lost", lost},
        {"duplicates", countAt(stats, "duplicates")},
        {"outOfSource", out_of_source},
        {"jitterMs", doubleAt(stats, "jitterMs")},
        {"maxJitterMs", doubleAt(stats, "maxJitterMs")},
        {"ssrcChanges", countAt(stats, "ssrcChanges")},
        {"gapsOver200ms", gaps_over},
        {"longestGapMs", longest_gap},
        {"gaps", gapsOf(stats)},
        {"firstPacketTime",
         stream != nullptr ? optionalMs(stream->first_packet_ms) : nlohmann::json()},
        {"lastPacketTime",
         stream != nullptr ? optionalMs(stream->last_packet_ms) : nlohmann::json()},
        {"loudestRmsDbfs",
         stream != nullptr ? stream->loudest_rms_dbfs : RenderedStream::kSilentDbfs},
        {"clockDriftPpm", stream != nullptr ? stream->drift_ppm : 0.0},
    };
    // Set one by one: written inside the braced list above, "reordered" went missing from
    // the object (found by AssuranceReport.CleanTwoWayCallIsComplete).
    const uint64_t reordered = countAt(stats, "reordered");
    entry["reordered"] = reordered;
    entry["late"] = stats.contains("late") ? countAt(stats, "late") : reordered;
    if (const auto label = stats.find("label"); label != stats.end() && label->is_string()) {
      entry["label"] = *label;
    }

    const char* silent_reason = nullptr;
    if (!received) {
      silent_reason = "noPackets";
      warn("noPackets", i, name + " received no RTP packet");
    } else if (stream != nullptr &&
               (!stream->error.empty() ||
                (stream->packets > 0 && stream->undecodable_packets >= stream->packets))) {
      silent_reason = "undecodable";
      warn("undecodable", i,
           name + (stream->error.empty() ? ": no payload could be decoded" : ": " + stream->error));
    } else if (stream != nullptr && stream->loudest_rms_dbfs < kSilentLegDbfs) {
      silent_reason = "lowLevel";
      warn("lowLevel", i,
           name + " carries no audible audio (loudest second " +
               formatNumber(stream->loudest_rms_dbfs) + " dBFS RMS)");
    }
    entry["silent"] = silent_reason != nullptr;
    entry["silentReason"] =
        silent_reason != nullptr ? nlohmann::json(silent_reason) : nlohmann::json();
    if (silent_reason != nullptr) {
      ++silent_streams;
      complete = false;
    } else {
      ++audible_streams;
    }

    const double loss_percent =
        packets + lost > 0 ? 100.0 * static_cast<double>(lost) / static_cast<double>(packets + lost)
                           : 0.0;
    if (loss_percent > kLossWarningPercent) {
      warn("packetLoss", i,
           name + " lost " + std::to_string(lost) + " packets (" + formatNumber(loss_percent) +
               "%)");
    }
    if (loss_percent > kIncompleteLossPercent) {
      complete = false;
    }
    if (gaps_over > 0) {
      warn("longGaps", i,
           name + " has " + std::to_string(gaps_over) + " gaps over 200 ms (longest " +
               std::to_string(longest_gap) + " ms)");
    }
    if (out_of_source > 0) {
      warn("outOfSource", i,
           name + " dropped " + std::to_string(out_of_source) + " packets from another source");
    }
    if (spool_dropped > 0) {
      warn("spoolLoss", i,
           name + " lost " + std::to_string(spool_dropped) + " packets to spool write errors");
      complete = false;
    }
    if (stream != nullptr && stream->undecodable_packets > 0 && silent_reason == nullptr) {
      warn("undecodablePackets", i,
           name + " had " + std::to_string(stream->undecodable_packets) +
               " payloads that could not be decoded (left silent)");
    }
    streams.push_back(std::move(entry));
  }

  const bool one_way = count >= 2 && silent_streams > 0 && audible_streams > 0;
  if (one_way) {
    warnings.push_back({{"code", "oneWay"},
                        {"message", "one side of the call is silent while the other has audio"}});
  }
  return {{"streams", std::move(streams)},
          {"silentStreams", silent_streams},
          {"oneWay", one_way},
          {"complete", complete},
          {"warnings", std::move(warnings)}};
}

}  // namespace siprecd::recording
