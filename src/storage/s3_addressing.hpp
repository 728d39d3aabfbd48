#pragma once

#include <string>
#include <string_view>

#include "base/result.hpp"

/// Where an S3 request goes: the endpoint, path-style or virtual-hosted-style addressing
/// (S3 user guide, "Virtual hosting of buckets") and the percent-encoded object path that
/// is both sent and signed.
namespace siprecd::storage {

/// An object's request target.
struct S3Target {
  std::string url;             ///< scheme://host[:port]/path, without query
  std::string host;            ///< the Host header (with the port when not the default)
  std::string canonical_path;  ///< the path as sent and signed ("/bucket/a%20b.wav")
};

class S3Addressing {
 public:
  /// `endpoint` empty: AWS, https://s3.<region>.amazonaws.com. Otherwise "http(s)://host[:port]"
  /// (an optional trailing '/'; no path, query, user info or fragment) of an S3-compatible
  /// store. Virtual-hosted style (bucket.host) is used unless `path_style`, the host is an
  /// IP address or "localhost", or the bucket is not a DNS-compatible name without dots;
  /// otherwise path style (host/bucket). Fails naming the field: bucket empty or with
  /// characters outside [A-Za-z0-9._-], region empty or not [a-z0-9-], malformed endpoint.
  static Result<S3Addressing> make(std::string_view bucket, std::string_view region,
                                   std::string_view endpoint, bool path_style);

  /// The target of object `key` (bytes outside A-Z a-z 0-9 - _ . ~ / percent-encoded).
  S3Target object(std::string_view key) const;
  /// "s3://bucket/key", the location announced in RECORDINGSTORED.
  std::string location(std::string_view key) const;

  const std::string& bucket() const { return bucket_; }
  const std::string& region() const { return region_; }
  bool virtualHosted() const { return virtual_hosted_; }

 private:
  std::string scheme_;  ///< "http" or "https"
  std::string host_;    ///< the request host (already with "bucket." when virtual-hosted)
  std::string bucket_;
  std::string region_;
  bool virtual_hosted_ = false;
};

}  // namespace siprecd::storage
