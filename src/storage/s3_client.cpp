#include "storage/s3_client.hpp"

#include <algorithm>
#include <cerrno>
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
#include "storage/s3_xml.hpp"

namespace siprecd::storage {
namespace {

constexpr std::string_view kComponent = "storage";
constexpr std::size_t kMaxReplyBytes = 64 * 1024;
constexpr std::size_t kExcerptBytes = 200;
constexpr long kStallBytesPerSecond = 1024;

/// The request body for curl's read callback: a file range or bytes in memory.
struct BodySource {
  int fd = -1;
  uint64_t offset = 0;
  uint64_t left = 0;
  std::string_view memory;
  bool read_error = false;
  int error_number = 0;
};

size_t readBody(char* buffer, size_t size, size_t count, void* user) {
  auto* source = static_cast<BodySource*>(user);
  const std::size_t room = size * count;
  if (source->fd < 0) {
    const std::size_t n = std::min(room, source->memory.size());
    std::copy_n(source->memory.data(), n, buffer);
    source->memory.remove_prefix(n);
    return n;
  }
  const auto want = static_cast<std::size_t>(std::min<uint64_t>(room, source->left));
  if (want == 0) {
    return 0;
  }
  for (;;) {
    const ssize_t n = ::pread(source->fd, buffer, want, static_cast<off_t>(source->offset));
    if (n > 0) {
      source->offset += static_cast<uint64_t>(n);
      source->left -= static_cast<uint64_t>(n);
      return static_cast<size_t>(n);
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    source->read_error = true;
    source->error_number = n < 0 ? errno : 0;
    return CURL_READFUNC_ABORT;
  }
}

size_t keepReply(char* data, size_t size, size_t count, void* user) {
  auto* reply = static_cast<std::string*>(user);
  const size_t bytes = size * count;
  if (reply->size() < kMaxReplyBytes) {
    reply->append(data, std::min(bytes, kMaxReplyBytes - reply->size()));
  }
  return bytes;
}

size_t keepEtag(char* data, size_t size, size_t count, void* user) {
  auto* etag = static_cast<std::string*>(user);
  const size_t bytes = size * count;
  const std::string_view line(data, bytes);
  if (istartsWith(line, "etag:")) {
    *etag = std::string(trim(line.substr(5)));
  }
  return bytes;
}

std::string wireQuery(const NameValues& query) {
  std::string out;
  for (const auto& [name, value] : query) {
    out += out.empty() ? "?" : "&";
    out += awsUriEncode(name, false);
    if (!value.empty()) {
      out += "=" + awsUriEncode(value, false);
    }
  }
  return out;
}

std::string printableExcerpt(std::string_view body) {
  std::string out(body.substr(0, kExcerptBytes));
  for (char& c : out) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      c = ' ';
    }
  }
  return std::string(trim(out));
}

/// Sleeps `duration` in short slices, returning early (false) once `stop` is set.
bool sleepUnlessStopped(std::chrono::milliseconds duration, const std::atomic<bool>* stop) {
  const auto until = std::chrono::steady_clock::now() + duration;
  while (std::chrono::steady_clock::now() < until) {
    if (stop != nullptr && stop->load()) {
      return false;
    }
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        std::chrono::milliseconds(50), until - std::chrono::steady_clock::now()));
  }
  return stop == nullptr || !stop->load();
}

}  // namespace

struct S3Client::Attempt {
  bool done = false;
  bool retryable = false;
  long status = 0;
  std::string error;
  S3Reply reply;
};

S3Client::S3Client(S3Addressing addressing, S3ClientSettings settings)
    : addressing_(std::move(addressing)), settings_(settings) {
  ensureCurlGlobalInit();
}

S3Client::Attempt S3Client::perform(const S3Call& call, const AwsCredentials& credentials) const {
  Attempt attempt;
  const S3Target target = addressing_.object(call.key);
  BodySource source;
  UniqueFd fd;
  uint64_t body_size = call.body.size();
  if (!call.file.empty()) {
    fd.reset(::open(call.file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
      attempt.error = systemErrorMessage("cannot open", call.file);
      return attempt;
    }
    source.fd = fd.get();
    source.offset = call.file_offset;
    source.left = call.file_size;
    body_size = call.file_size;
  } else {
    source.memory = call.body;
  }

  const std::string date = amzDate(std::chrono::system_clock::now());
  SigV4Request request;
  request.method = call.method;
  request.canonical_path = target.canonical_path;
  request.query = call.query;
  request.payload_sha256 = call.payload_sha256;
  request.headers = {
      {"host", target.host}, {"x-amz-date", date}, {"x-amz-content-sha256", call.payload_sha256}};
  if (!credentials.session_token.empty()) {
    request.headers.emplace_back("x-amz-security-token", credentials.session_token);
  }
  request.headers.insert(request.headers.end(), call.headers.begin(), call.headers.end());
  const SigV4Signature signature =
      signSigV4(request, credentials, addressing_.region(), "s3", date);

  std::optional<CurlHeaders> headers =
      signedRequestHeaders(signature.authorization, request.headers);
  CurlEasy curl(curl_easy_init());
  if (!headers || !curl) {
    attempt.error = "cannot set up a curl request (out of memory)";
    return attempt;
  }

  const std::string url = target.url + wireQuery(call.query);
  char error_buffer[CURL_ERROR_SIZE] = {};
  CURL* handle = curl.get();
  curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, call.method.c_str());
  if (call.method == "PUT" || call.method == "POST") {
    curl_easy_setopt(handle, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(handle, CURLOPT_READFUNCTION, readBody);
    curl_easy_setopt(handle, CURLOPT_READDATA, &source);
    curl_easy_setopt(handle, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(body_size));
  }
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers->get());
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, keepReply);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &attempt.reply.body);
  curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, keepEtag);
  curl_easy_setopt(handle, CURLOPT_HEADERDATA, &attempt.reply.etag);
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(settings_.connect_timeout.count()));
  curl_easy_setopt(handle, CURLOPT_LOW_SPEED_LIMIT, kStallBytesPerSecond);
  curl_easy_setopt(handle, CURLOPT_LOW_SPEED_TIME,
                   std::max(1L, static_cast<long>(settings_.stall_timeout.count() / 1000)));
  const CURLcode code = curl_easy_perform(handle);
  if (source.read_error) {
    errno = source.error_number;
    attempt.error = source.error_number != 0
                        ? systemErrorMessage("cannot read", call.file)
                        : "cannot read " + call.file.string() + ": the file shrank";
    return attempt;
  }
  if (code != CURLE_OK) {
    attempt.retryable = true;
    attempt.error = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
    return attempt;
  }
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &attempt.status);
  attempt.reply.status = attempt.status;
  const bool ok = attempt.status >= 200 && attempt.status < 300;
  std::optional<S3ErrorDocument> error;
  if (!ok || call.error_may_come_with_200) {
    error = parseS3Error(attempt.reply.body);
  }
  if (ok && !error) {
    attempt.done = true;
    return attempt;
  }
  if (error) {
    attempt.retryable = isRetryableS3Error(ok ? 0 : attempt.status, error->code);
    attempt.error = fmt::format("{} (HTTP {})", error->code, attempt.status);
    if (!error->message.empty()) {
      attempt.error += ": " + error->message;
    }
  } else {
    attempt.retryable = isRetryableS3Error(attempt.status, "");
    attempt.error = fmt::format("HTTP {}", attempt.status);
    if (std::string excerpt = printableExcerpt(attempt.reply.body); !excerpt.empty()) {
      attempt.error += ": " + excerpt;
    }
  }
  return attempt;
}

Result<S3Reply> S3Client::send(const S3Call& call, const AwsCredentials& credentials,
                               const std::atomic<bool>* stop) const {
  const std::string location = addressing_.location(call.key);
  const int attempts = std::max(1, settings_.attempts);
  auto backoff = settings_.backoff;
  Attempt attempt;
  for (int i = 1; i <= attempts; ++i) {
    attempt = perform(call, credentials);
    if (attempt.done) {
      log::debug(kComponent, "{} {}: HTTP {}", call.operation, location, attempt.status);
      return std::move(attempt.reply);
    }
    if (!attempt.retryable || i == attempts) {
      break;
    }
    log::warn(kComponent, "{} {}: {} (attempt {} of {}); retrying in {} ms", call.operation,
              location, attempt.error, i, attempts, backoff.count());
    if (!sleepUnlessStopped(backoff, stop)) {
      break;
    }
    backoff = std::min(backoff * 2, settings_.max_backoff);
  }
  return fail(fmt::format("{} {}: {}", call.operation, location, attempt.error),
              static_cast<int>(attempt.status));
}

}  // namespace siprecd::storage
