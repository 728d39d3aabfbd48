#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "recording/renderer.hpp"

namespace siprecd::control {

/// A validated STORERECORDING (DESIGN.md §2): times already absolute (epoch ms).
struct StoreRequest {
  std::string domain;
  std::string recording_id;
  std::string destination = "local";        ///< a configured name of the domain, or "http"
  std::optional<std::string> key_template;  ///< overrides the destination's default
  std::string url;                          ///< the pre-signed URL for an `http` destination
  recording::AudioFormat format = recording::AudioFormat::Wav;
  recording::ChannelLayout layout = recording::ChannelLayout::Stereo;
  std::vector<recording::Mask> masks;
  std::optional<recording::TimeSpan> trim;
};

/// Work on finished recordings (store, delete) that runs on the worker pool and ends in an
/// event. Thread-safe. Errors carry the HTTP status to answer in their code: 400 (unknown
/// destination, bad template), 404 (unknown recording), 409 (wrong state: not ready/stored,
/// or a store/delete already running).
class RecordingJobs {
 public:
  virtual ~RecordingJobs() = default;
  /// Checks the state, marks the recording `storing` and starts render + upload; ends in
  /// `stored` + RECORDINGSTORED, or back to the previous state + RECORDINGFAILED (the temp
  /// recording stays).
  virtual Result<void> store(StoreRequest request) = 0;
  /// Deletes siprecd's copy (session directory, spools, temp recording) and marks the
  /// recording `deleted` + RECORDINGDELETED with `reason` ("command" | "retention").
  virtual Result<void> remove(std::string domain, std::string recording_id, std::string reason) = 0;
};

}  // namespace siprecd::control
