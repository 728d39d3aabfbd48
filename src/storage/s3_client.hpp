#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include "base/result.hpp"
#include "storage/aws_sigv4.hpp"
#include "storage/s3_addressing.hpp"

/// One S3 REST call, signed with Signature Version 4 and sent with libcurl, retried with
/// exponential back-off while the failure is transient.
namespace siprecd::storage {

struct S3ClientSettings {
  std::chrono::milliseconds connect_timeout{10'000};
  /// An attempt is abandoned when less than 1 KiB/s flows for this long (a stalled peer).
  std::chrono::milliseconds stall_timeout{60'000};
  /// Attempts in all (>= 1): transport errors and isRetryableS3Error() answers are retried.
  int attempts = 6;
  /// Wait before the first retry, doubled before each further one, at most max_backoff.
  std::chrono::milliseconds backoff{1'000};
  std::chrono::milliseconds max_backoff{30'000};
};

/// A request on one object.
struct S3Call {
  std::string operation;  ///< for messages: "PutObject", "UploadPart 3", ...
  std::string method;     ///< "PUT", "POST", "DELETE"
  std::string key;        ///< the object key (unencoded)
  NameValues query;       ///< decoded; a value-less parameter goes out as "?uploads"
  /// Further headers, all signed (Content-Type, x-amz-*).
  NameValues headers;
  /// The body: `file` bytes [file_offset, file_offset + file_size) when `file` is set,
  /// else `body`.
  std::filesystem::path file;
  uint64_t file_offset = 0;
  uint64_t file_size = 0;
  std::string body;
  std::string payload_sha256;  ///< lower-case hex of the body (x-amz-content-sha256)
  /// S3 may answer 200 with an <Error> document (CompleteMultipartUpload): check for it.
  bool error_may_come_with_200 = false;
};

struct S3Reply {
  long status = 0;
  std::string body;  ///< at most the first 64 KiB
  std::string etag;  ///< the ETag response header, quotes included
};

class S3Client {
 public:
  S3Client(S3Addressing addressing, S3ClientSettings settings);

  /// Sends `call` signed with `credentials` (re-signed at each attempt, x-amz-date = now).
  /// Returns the 2xx reply. Fails with code = the HTTP status (0 for a transport error)
  /// and a message "<operation> s3://bucket/key: <S3 error code> (HTTP <status>):
  /// <S3 message>" (or the transport error, or the status and the start of a non-XML
  /// body): never a credential. Between attempts it sleeps; when `stop` becomes true it
  /// gives up at the next attempt boundary. Blocking; thread-safe.
  Result<S3Reply> send(const S3Call& call, const AwsCredentials& credentials,
                       const std::atomic<bool>* stop = nullptr) const;

  const S3Addressing& addressing() const { return addressing_; }

 private:
  struct Attempt;
  Attempt perform(const S3Call& call, const AwsCredentials& credentials) const;

  S3Addressing addressing_;
  S3ClientSettings settings_;
};

}  // namespace siprecd::storage
