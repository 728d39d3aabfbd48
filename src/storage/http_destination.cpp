#include "storage/http_destination.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <thread>

#include <curl/curl.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "base/log.hpp"
#include "base/strings.hpp"
#include "storage/curl_handles.hpp"
#include "storage/file_io.hpp"
#include "storage/sha256.hpp"

namespace siprecd::storage {
namespace {

constexpr std::string_view kComponent = "storage";
constexpr std::size_t kBodyExcerptBytes = 200;

struct Upload {
  int fd = -1;
  bool read_error = false;
};

size_t readBody(char* buffer, size_t size, size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  for (;;) {
    const ssize_t n = ::read(upload->fd, buffer, size * count);
    if (n >= 0) {
      return static_cast<size_t>(n);
    }
    if (errno != EINTR) {
      upload->read_error = true;
      return CURL_READFUNC_ABORT;
    }
  }
}

size_t keepExcerpt(char* data, size_t size, size_t count, void* user) {
  auto* excerpt = static_cast<std::string*>(user);
  const size_t bytes = size * count;
  if (excerpt->size() < kBodyExcerptBytes) {
    excerpt->append(data, std::min(bytes, kBodyExcerptBytes - excerpt->size()));
  }
  return bytes;
}

/// The response body excerpt made safe for a message: one line, printable, without the
/// URL's query (some servers echo the request).
std::string safeExcerpt(std::string excerpt, std::string_view query) {
  if (!query.empty()) {
    for (std::size_t at = excerpt.find(query); at != std::string::npos;
         at = excerpt.find(query, at)) {
      excerpt.replace(at, query.size(), "<redacted>");
    }
  }
  for (char& c : excerpt) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      c = ' ';
    }
  }
  return std::string(trim(excerpt));
}

struct Attempt {
  bool done = false;       ///< success
  bool retryable = false;  ///< on failure
  long status = 0;
  std::string error;
};

bool isRetryableStatus(long status) {
  return status >= 500 || status == 408 || status == 429;
}

}  // namespace

std::string urlWithoutQuery(std::string_view url) {
  return std::string(url.substr(0, url.find_first_of("?#")));
}

bool isHttpUrl(std::string_view url) {
  std::string_view rest;
  if (istartsWith(url, "http://")) {
    rest = url.substr(7);
  } else if (istartsWith(url, "https://")) {
    rest = url.substr(8);
  } else {
    return false;
  }
  if (rest.empty() || rest.front() == '/' || rest.front() == '?' || rest.front() == '#') {
    return false;
  }
  return std::none_of(url.begin(), url.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte <= 0x20 || byte == 0x7f;
  });
}

HttpDestination::HttpDestination(HttpDestinationSettings settings) : settings_(settings) {
  ensureCurlGlobalInit();
}

Result<StoredObject> HttpDestination::put(const std::filesystem::path& file, std::string_view key,
                                          std::string_view content_type) {
  if (!isHttpUrl(key)) {
    return fail("http destination: the url must be an http:// or https:// URL", 400);
  }
  const std::string url(key);
  const std::string location = urlWithoutQuery(url);
  const std::string_view query =
      url.size() > location.size() ? std::string_view(url).substr(location.size() + 1) : "";
  auto digest = sha256OfFile(file);
  if (!digest) {
    return fail("http destination " + location + ": " + digest.error().message);
  }

  auto perform = [&]() -> Attempt {
    Attempt attempt;
    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
      attempt.error = "failed: " + systemErrorMessage("cannot open", file);
      return attempt;
    }
    CurlEasy curl(curl_easy_init());
    if (!curl) {
      attempt.error = "failed: cannot create a curl handle";
      return attempt;
    }
    CurlHeaders headers;
    for (const std::string& header :
         {fmt::format("Content-Type: {}", content_type), std::string("Expect:")}) {
      if (!appendHeader(headers, header)) {
        attempt.error = "failed: out of memory";
        return attempt;
      }
    }
    Upload upload{fd.get()};
    std::string excerpt;
    char error_buffer[CURL_ERROR_SIZE] = {};
    CURL* handle = curl.get();
    curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
    curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(handle, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(handle, CURLOPT_READFUNCTION, readBody);
    curl_easy_setopt(handle, CURLOPT_READDATA, &upload);
    curl_easy_setopt(handle, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(digest->size));
    curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, keepExcerpt);
    curl_easy_setopt(handle, CURLOPT_WRITEDATA, &excerpt);
    curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_buffer);
    curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(settings_.connect_timeout.count()));
    curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS,
                     static_cast<long>(settings_.attempt_timeout.count()));
    const CURLcode code = curl_easy_perform(handle);
    if (upload.read_error) {
      attempt.error = "failed: " + systemErrorMessage("cannot read", file);
      return attempt;
    }
    if (code != CURLE_OK) {
      attempt.retryable = true;
      attempt.error = fmt::format(
          "failed: {}", error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code));
      return attempt;
    }
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &attempt.status);
    if (attempt.status >= 200 && attempt.status < 300) {
      attempt.done = true;
      return attempt;
    }
    attempt.retryable = isRetryableStatus(attempt.status);
    attempt.error = fmt::format("answered {}", attempt.status);
    if (std::string body = safeExcerpt(std::move(excerpt), query); !body.empty()) {
      attempt.error += ": " + body;
    }
    return attempt;
  };

  const int attempts = std::max(1, settings_.attempts);
  auto backoff = settings_.backoff;
  Attempt attempt;
  for (int i = 1; i <= attempts; ++i) {
    attempt = perform();
    if (attempt.done) {
      return StoredObject{location, digest->size, digest->sha256};
    }
    if (!attempt.retryable || i == attempts) {
      break;
    }
    log::warn(kComponent, "PUT {} {} (attempt {} of {}); retrying in {} ms", location,
              attempt.error, i, attempts, backoff.count());
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, settings_.max_backoff);
  }
  return fail(fmt::format("http destination: PUT {} {}", location, attempt.error),
              static_cast<int>(attempt.status));
}

}  // namespace siprecd::storage
