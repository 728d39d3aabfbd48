#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "base/result.hpp"
#include "storage/destination.hpp"
#include "storage/http_destination.hpp"

namespace siprecd::storage {

/// A configured destination (mirrors app::DestinationConfig; the wiring converts). Secrets
/// live here only: never in logs, events or errors.
struct DestinationSettings {
  std::string name;
  std::string type = "file";  ///< file | s3 | http
  /// Default key template ({domain} {recordingId} {date} {callId} {ext}).
  std::string key_template = "{domain}/{date}/{recordingId}.{ext}";
  // file
  std::filesystem::path path;  ///< root directory
  unsigned file_mode = 0640;
  unsigned dir_mode = 0750;
  // s3
  std::string bucket, region = "us-east-1", endpoint;
  bool path_style = false;
  std::string access_key_id, secret_access_key, session_token, profile;
  std::string sse, kms_key_id, storage_class;
  uint64_t multipart_threshold_bytes = 16ULL << 20;
  uint64_t part_size_bytes = 8ULL << 20;
  // http (the URL comes with each command)
  HttpDestinationSettings http;
};

/// Builds the destination `settings` describe: "file" (needs `path`) → FileDestination,
/// "http" → HttpDestination, "s3" (needs a bucket and credentials) → S3Destination; any
/// other type fails naming it. Errors name the destination; called
/// at start-up (configuration errors).
Result<std::shared_ptr<Destination>> makeDestination(const DestinationSettings& settings);

}  // namespace siprecd::storage
