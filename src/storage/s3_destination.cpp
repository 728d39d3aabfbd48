#include "storage/s3_destination.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "base/log.hpp"
#include "storage/s3_part_plan.hpp"
#include "storage/s3_xml.hpp"
#include "storage/sha256.hpp"

namespace siprecd::storage {
namespace {

constexpr std::string_view kComponent = "storage";
constexpr std::size_t kMaxKeyBytes = 1024;
constexpr std::size_t kMaxTags = 10;
constexpr std::size_t kMaxTagKeyBytes = 128;
constexpr std::size_t kMaxTagValueBytes = 256;
constexpr int kMaxParallelParts = 16;
constexpr int kAbortAttempts = 3;

bool isStorageClassChar(char c) {
  return (c >= 'A' && c <= 'Z') || c == '_';
}

}  // namespace

std::string s3TaggingHeader(const ObjectTags& tags) {
  std::string out;
  for (const auto& [name, value] : tags) {
    if (!out.empty()) {
      out.push_back('&');
    }
    out += awsUriEncode(name, false) + "=" + awsUriEncode(value, false);
  }
  return out;
}

Result<std::unique_ptr<S3Destination>> S3Destination::make(S3DestinationSettings settings,
                                                           EnvironmentLookup environment) {
  const std::string prefix = fmt::format("s3 destination '{}': ", settings.name);
  auto addressing =
      S3Addressing::make(settings.bucket, settings.region, settings.endpoint, settings.path_style);
  if (!addressing) {
    return fail(prefix + addressing.error().message);
  }
  if (!settings.sse.empty() && settings.sse != "AES256" && settings.sse != "aws:kms") {
    return fail(prefix + fmt::format("sse \"{}\": expected AES256 or aws:kms", settings.sse));
  }
  if (!settings.kms_key_id.empty() && settings.sse != "aws:kms") {
    return fail(prefix + "kms_key_id needs sse aws:kms");
  }
  if (!std::all_of(settings.storage_class.begin(), settings.storage_class.end(),
                   isStorageClassChar)) {
    return fail(prefix + fmt::format("storage_class \"{}\" is not an S3 storage class",
                                     settings.storage_class));
  }
  if (settings.parallel_parts < 1 || settings.parallel_parts > kMaxParallelParts) {
    return fail(prefix + fmt::format("parallel_parts must be within 1..{}", kMaxParallelParts));
  }
  if (auto credentials = resolveAwsCredentials(settings.credentials, environment); !credentials) {
    return fail(prefix + credentials.error().message);
  }
  return std::make_unique<S3Destination>(Validated(), std::move(settings), std::move(environment),
                                         std::move(*addressing));
}

S3Destination::S3Destination(Validated, S3DestinationSettings settings,
                             EnvironmentLookup environment, S3Addressing addressing)
    : settings_(std::move(settings)),
      environment_(std::move(environment)),
      client_(std::move(addressing), settings_.client) {}

Error S3Destination::named(const Error& error) const {
  return Error{fmt::format("s3 destination '{}': {}", settings_.name, error.message), error.code};
}

Result<StoredObject> S3Destination::put(const std::filesystem::path& file, std::string_view key,
                                        std::string_view content_type) {
  return putTagged(file, key, content_type, {});
}

NameValues S3Destination::objectHeaders(std::string_view content_type,
                                        const ObjectTags& tags) const {
  NameValues headers{{"content-type", content_type.empty() ? "application/octet-stream"
                                                           : std::string(content_type)}};
  if (!settings_.sse.empty()) {
    headers.emplace_back("x-amz-server-side-encryption", settings_.sse);
    if (!settings_.kms_key_id.empty()) {
      headers.emplace_back("x-amz-server-side-encryption-aws-kms-key-id", settings_.kms_key_id);
    }
  }
  if (!settings_.storage_class.empty()) {
    headers.emplace_back("x-amz-storage-class", settings_.storage_class);
  }
  ObjectTags kept;
  for (const auto& tag : tags) {
    if (kept.size() < kMaxTags && !tag.first.empty() && tag.first.size() <= kMaxTagKeyBytes &&
        tag.second.size() <= kMaxTagValueBytes) {
      kept.push_back(tag);
    } else {
      log::warn(kComponent,
                "s3 destination '{}': tag '{}' dropped (S3 allows {} tags, keys up "
                "to {} and values up to {} bytes)",
                settings_.name, tag.first.substr(0, 64), kMaxTags, kMaxTagKeyBytes,
                kMaxTagValueBytes);
    }
  }
  if (!kept.empty()) {
    headers.emplace_back("x-amz-tagging", s3TaggingHeader(kept));
  }
  return headers;
}

Result<StoredObject> S3Destination::putTagged(const std::filesystem::path& file,
                                              std::string_view key, std::string_view content_type,
                                              const ObjectTags& tags) {
  if (key.empty() || key.size() > kMaxKeyBytes) {
    return tl::unexpected(
        named(Error{fmt::format("the object key must have 1 to {} bytes", kMaxKeyBytes), 400}));
  }
  auto credentials = resolveAwsCredentials(settings_.credentials, environment_);
  if (!credentials) {
    return tl::unexpected(named(credentials.error()));
  }
  std::error_code error;
  const uint64_t size = std::filesystem::file_size(file, error);
  if (error) {
    return tl::unexpected(
        named(Error{fmt::format("cannot stat {}: {}", file.string(), error.message())}));
  }
  const NameValues headers = objectHeaders(content_type, tags);
  auto stored = useMultipartUpload(size, settings_.multipart_threshold_bytes)
                    ? putMultipart(file, size, key, headers, credentials->credentials)
                    : putSingle(file, key, headers, credentials->credentials);
  if (!stored) {
    return tl::unexpected(named(stored.error()));
  }
  log::debug(kComponent, "s3 destination '{}': stored {} ({} bytes, credentials from {})",
             settings_.name, stored->location, stored->size, credentials->source);
  return stored;
}

Result<StoredObject> S3Destination::putSingle(const std::filesystem::path& file,
                                              std::string_view key, const NameValues& headers,
                                              const AwsCredentials& credentials) {
  auto digest = sha256OfFile(file);
  if (!digest) {
    return tl::unexpected(digest.error());
  }
  S3Call call;
  call.operation = "PutObject";
  call.method = "PUT";
  call.key = key;
  call.headers = headers;
  call.headers.emplace_back("x-amz-checksum-sha256", hexToBase64(digest->sha256));
  call.file = file;
  call.file_size = digest->size;
  call.payload_sha256 = digest->sha256;
  auto reply = client_.send(call, credentials);
  if (!reply) {
    return tl::unexpected(reply.error());
  }
  return StoredObject{client_.addressing().location(key), digest->size, digest->sha256};
}

Result<StoredObject> S3Destination::putMultipart(const std::filesystem::path& file, uint64_t size,
                                                 std::string_view key, const NameValues& headers,
                                                 const AwsCredentials& credentials) {
  auto parts = planParts(size, settings_.part_size_bytes);
  if (!parts) {
    return tl::unexpected(parts.error());
  }
  auto digests = digestParts(file, *parts);
  if (!digests) {
    return tl::unexpected(digests.error());
  }
  const std::string location = client_.addressing().location(key);
  const std::string empty_sha256 = sha256Hex("");

  S3Call create;
  create.operation = "CreateMultipartUpload";
  create.method = "POST";
  create.key = key;
  create.query = {{"uploads", ""}};
  create.headers = headers;
  create.headers.emplace_back("x-amz-checksum-algorithm", "SHA256");
  create.payload_sha256 = empty_sha256;
  auto created = client_.send(create, credentials);
  if (!created) {
    return tl::unexpected(created.error());
  }
  const auto upload_id = xmlElementText(created->body, "UploadId");
  if (!upload_id || upload_id->empty()) {
    return fail(fmt::format("CreateMultipartUpload {}: the answer has no UploadId", location),
                static_cast<int>(created->status));
  }

  // Parts in parallel: each worker takes the next part until all are sent or one failed.
  std::vector<S3CompletedPart> completed(parts->size());
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex failure_mutex;
  std::optional<Error> failure;
  auto worker = [&] {
    for (std::size_t i = next++; i < parts->size() && !stop.load(); i = next++) {
      const S3Part& part = (*parts)[i];
      S3Call upload;
      upload.operation = fmt::format("UploadPart {}", part.number);
      upload.method = "PUT";
      upload.key = key;
      upload.query = {{"partNumber", std::to_string(part.number)}, {"uploadId", *upload_id}};
      completed[i].number = part.number;
      completed[i].checksum_sha256 = hexToBase64(digests->part_sha256[i]);
      upload.headers = {{"x-amz-checksum-sha256", completed[i].checksum_sha256}};
      upload.file = file;
      upload.file_offset = part.offset;
      upload.file_size = part.size;
      upload.payload_sha256 = digests->part_sha256[i];
      auto reply = client_.send(upload, credentials, &stop);
      if (reply && reply->etag.empty()) {
        reply = fail(fmt::format("UploadPart {} {}: the answer has no ETag", part.number, location),
                     static_cast<int>(reply->status));
      }
      if (!reply) {
        std::lock_guard lock(failure_mutex);
        if (!failure) {
          failure = reply.error();
        }
        stop = true;
        return;
      }
      completed[i].etag = reply->etag;
    }
  };
  {
    const auto threads =
        std::min<std::size_t>(static_cast<std::size_t>(settings_.parallel_parts), parts->size());
    std::vector<std::jthread> workers;
    workers.reserve(threads);
    for (std::size_t t = 0; t < threads; ++t) {
      workers.emplace_back(worker);
    }
  }  // joined

  if (!failure) {
    S3Call complete;
    complete.operation = "CompleteMultipartUpload";
    complete.method = "POST";
    complete.key = key;
    complete.query = {{"uploadId", *upload_id}};
    complete.headers = {{"content-type", "application/xml"}};
    complete.body = completeMultipartUploadXml(completed);
    complete.payload_sha256 = sha256Hex(complete.body);
    complete.error_may_come_with_200 = true;
    auto done = client_.send(complete, credentials);
    if (done) {
      return StoredObject{location, digests->file_size, digests->file_sha256};
    }
    failure = done.error();
  }

  S3Call abort;
  abort.operation = "AbortMultipartUpload";
  abort.method = "DELETE";
  abort.key = key;
  abort.query = {{"uploadId", *upload_id}};
  abort.payload_sha256 = empty_sha256;
  S3Client aborter(client_.addressing(), [&] {
    S3ClientSettings limited = settings_.client;
    limited.attempts = std::min(limited.attempts, kAbortAttempts);
    return limited;
  }());
  if (auto aborted = aborter.send(abort, credentials); !aborted) {
    log::warn(kComponent,
              "s3 destination '{}': {} (its parts stay until a lifecycle rule "
              "removes incomplete uploads)",
              settings_.name, aborted.error().message);
  }
  return tl::unexpected(*failure);
}

}  // namespace siprecd::storage
