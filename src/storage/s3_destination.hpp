#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "storage/aws_credentials.hpp"
#include "storage/destination.hpp"
#include "storage/s3_client.hpp"

namespace siprecd::storage {

struct S3DestinationSettings {
  std::string name;  ///< the configured destination's name, for messages
  std::string bucket;
  std::string region = "us-east-1";
  std::string endpoint;  ///< empty: AWS; else http(s)://host[:port] of an S3-compatible store
  bool path_style = false;
  AwsCredentialConfig credentials;
  std::string sse;            ///< "", "AES256" or "aws:kms" (x-amz-server-side-encryption)
  std::string kms_key_id;     ///< with aws:kms only; empty: the bucket's/AWS managed key
  std::string storage_class;  ///< x-amz-storage-class ("STANDARD_IA", ...); empty: default
  /// Objects of at least this size go up as multipart uploads.
  uint64_t multipart_threshold_bytes = 16ULL << 20;
  uint64_t part_size_bytes = 8ULL << 20;  ///< raised to S3's 5 MiB minimum
  int parallel_parts = 4;                 ///< parts in flight at once (1..16)
  S3ClientSettings client;
};

/// AWS S3 or an S3-compatible store (DESIGN.md §2 `s3`), over libcurl with Signature V4
/// computed here (aws_sigv4.hpp) and the x-amz-content-sha256 payload hash on every request.
///
/// put() resolves the credentials (aws_credentials.hpp; again at every put, so rotated
/// files and variables take effect), then:
///  * below multipart_threshold_bytes: one PutObject streamed from the file;
///  * otherwise CreateMultipartUpload, UploadPart of each planParts() part with up to
///    `parallel_parts` in flight (one thread each), CompleteMultipartUpload; any failure
///    after the upload was created sends AbortMultipartUpload, so no partial object and no
///    orphaned parts remain.
/// Every object and part carries x-amz-checksum-sha256 (S3 verifies it), plus Content-Type,
/// server-side encryption, storage class and tags (x-amz-tagging) as configured. Transient
/// failures are retried (S3ClientSettings); a permanent one fails with a message naming the
/// destination, the operation, the location and S3's error code. Location "s3://bucket/key".
/// Credentials never appear in messages or logs. Thread-safe (no mutable state); blocking.
class S3Destination final : public Destination {
 public:
  /// Validates the settings and that credentials can be resolved now (a configuration
  /// error at start-up otherwise). Fails naming the destination and the field.
  static Result<std::unique_ptr<S3Destination>> make(
      S3DestinationSettings settings, EnvironmentLookup environment = processEnvironment());

 private:
  struct Validated {
    explicit Validated() = default;
  };

 public:
  /// Use make(); the token keeps unvalidated construction out.
  S3Destination(Validated, S3DestinationSettings settings, EnvironmentLookup environment,
                S3Addressing addressing);

  std::string_view kind() const override { return "s3"; }
  /// put() without tags.
  Result<StoredObject> put(const std::filesystem::path& file, std::string_view key,
                           std::string_view content_type) override;
  /// Stores `file` as object `key` with `tags` (S3 object tagging: at most 10, keys up to
  /// 128 and values up to 256 bytes; extra or oversize tags are dropped with a warning).
  /// Fails with the HTTP status of the failing answer as code (0: transport or local I/O).
  Result<StoredObject> putTagged(const std::filesystem::path& file, std::string_view key,
                                 std::string_view content_type, const ObjectTags& tags) override;

  const S3Addressing& addressing() const { return client_.addressing(); }

 private:
  /// The headers an object is created with (Content-Type, SSE, storage class, tags).
  NameValues objectHeaders(std::string_view content_type, const ObjectTags& tags) const;
  Result<StoredObject> putSingle(const std::filesystem::path& file, std::string_view key,
                                 const NameValues& headers, const AwsCredentials& credentials);
  Result<StoredObject> putMultipart(const std::filesystem::path& file, uint64_t size,
                                    std::string_view key, const NameValues& headers,
                                    const AwsCredentials& credentials);
  Error named(const Error& error) const;

  S3DestinationSettings settings_;
  EnvironmentLookup environment_;
  S3Client client_;
};

/// The x-amz-tagging header value: "k1=v1&k2=v2", each key and value UriEncoded.
std::string s3TaggingHeader(const ObjectTags& tags);

}  // namespace siprecd::storage
