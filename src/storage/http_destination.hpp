#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "storage/destination.hpp"

namespace siprecd::storage {

struct HttpDestinationSettings {
  std::chrono::milliseconds connect_timeout{10'000};
  /// Limit of one attempt (connect + upload + response).
  std::chrono::milliseconds attempt_timeout{600'000};
  /// Attempts in all (>= 1): transport errors, 5xx, 408 and 429 are retried.
  int attempts = 4;
  /// Wait before the first retry, doubled before each further one, at most max_backoff.
  std::chrono::milliseconds backoff{1'000};
  std::chrono::milliseconds max_backoff{30'000};
};

/// PUT to a pre-signed URL given in the command (DESIGN.md §2 `http`), with libcurl: the
/// `key` of put() is the URL (http or https only; redirects are not followed). The body
/// streams from the file with Content-Length and the given Content-Type (a pre-signed S3
/// URL may sign Content-Type, so the caller passes the format's type); "Expect:
/// 100-continue" is not sent. Any 2xx is success; transport errors, 5xx, 408 and 429 are
/// retried with exponential back-off; any other status fails at once with the status and
/// the start of the response body. The URL's query (it carries the signature) never
/// appears in the location, in errors or in logs: location = scheme://host/path.
/// Only the audio is stored: there is no URL for the .json/.xml documents, which the job
/// therefore skips for this kind. Thread-safe; blocking (sleeps between attempts).
class HttpDestination final : public Destination {
 public:
  explicit HttpDestination(HttpDestinationSettings settings = {});

  std::string_view kind() const override { return "http"; }
  /// Fails with code 400 for a URL that is not http(s); otherwise with the remote status
  /// (or 0 for a transport error) and a message naming the location.
  Result<StoredObject> put(const std::filesystem::path& file, std::string_view key,
                           std::string_view content_type) override;

 private:
  HttpDestinationSettings settings_;
};

/// `url` without its query and fragment (the part that is safe to log and announce).
std::string urlWithoutQuery(std::string_view url);
/// Whether `url` starts with "http://" or "https://" (case-insensitive) and names a host.
bool isHttpUrl(std::string_view url);

}  // namespace siprecd::storage
