#include "control/aws_query_client.hpp"

#include <algorithm>

#include <curl/curl.h>
#include <fmt/format.h>

#include "base/strings.hpp"
#include "storage/curl_handles.hpp"

namespace siprecd::control {
namespace {

constexpr std::size_t kMaxReplyBytes = 1 << 20;

struct Received {
  std::string body;
  std::string query_error;  ///< x-amzn-query-error
};

size_t keepBody(char* data, size_t size, size_t count, void* user) {
  auto* received = static_cast<Received*>(user);
  const size_t bytes = size * count;
  if (received->body.size() < kMaxReplyBytes) {
    received->body.append(data, std::min(bytes, kMaxReplyBytes - received->body.size()));
  }
  return bytes;
}

size_t keepHeader(char* data, size_t size, size_t count, void* user) {
  auto* received = static_cast<Received*>(user);
  const size_t bytes = size * count;
  const std::string_view line(data, bytes);
  constexpr std::string_view kName = "x-amzn-query-error:";
  if (istartsWith(line, kName)) {
    received->query_error = std::string(trim(line.substr(kName.size())));
  }
  return bytes;
}

/// Aborts the transfer (non-zero) once the stop flag is set; curl calls it about once a
/// second even while nothing flows.
int checkStop(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* stop = static_cast<const std::atomic<bool>*>(user);
  return stop != nullptr && stop->load() ? 1 : 0;
}

}  // namespace

AwsQueryClient::AwsQueryClient(AwsServiceSettings settings) : settings_(std::move(settings)) {
  storage::ensureCurlGlobalInit();
}

AwsOutcome AwsQueryClient::send(const AwsCall& call, const std::atomic<bool>* stop) const {
  AwsOutcome outcome;
  const std::string where = fmt::format("{} {}", call.operation, settings_.endpoint.url());
  const std::string date = storage::amzDate(std::chrono::system_clock::now());
  const std::string payload_sha256 = storage::sha256Hex(call.body);
  storage::SigV4Request request;
  request.method = "POST";
  request.canonical_path = settings_.endpoint.path;
  request.payload_sha256 = payload_sha256;
  request.headers = {{"host", settings_.endpoint.host},
                     {"content-type", call.content_type},
                     {"x-amz-date", date},
                     {"x-amz-content-sha256", payload_sha256}};
  if (!call.target.empty()) {
    request.headers.emplace_back("x-amz-target", call.target);
  }
  if (!settings_.credentials.session_token.empty()) {
    request.headers.emplace_back("x-amz-security-token", settings_.credentials.session_token);
  }
  const storage::SigV4Signature signature =
      storage::signSigV4(request, settings_.credentials, settings_.region, settings_.service, date);

  std::optional<storage::CurlHeaders> headers =
      storage::signedRequestHeaders(signature.authorization, request.headers);
  storage::CurlEasy curl(curl_easy_init());
  if (!headers || !curl) {
    outcome.description = where + ": cannot set up a curl request (out of memory)";
    outcome.error.retryable = true;
    return outcome;
  }
  const std::string url = settings_.endpoint.url();
  Received received;
  char error_buffer[CURL_ERROR_SIZE] = {};
  CURL* handle = curl.get();
  curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(handle, CURLOPT_POST, 1L);
  curl_easy_setopt(handle, CURLOPT_POSTFIELDS, call.body.data());
  curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(call.body.size()));
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers->get());
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, keepBody);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &received);
  curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, keepHeader);
  curl_easy_setopt(handle, CURLOPT_HEADERDATA, &received);
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(settings_.connect_timeout.count()));
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(call.timeout.count()));
  curl_easy_setopt(handle, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, checkStop);
  curl_easy_setopt(handle, CURLOPT_XFERINFODATA, stop);
  const CURLcode code = curl_easy_perform(handle);
  if (code == CURLE_ABORTED_BY_CALLBACK) {
    outcome.stopped = true;
    outcome.error.retryable = true;
    outcome.description = where + ": stopped";
    return outcome;
  }
  if (code != CURLE_OK) {
    outcome.error.retryable = true;
    outcome.error.message = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
    outcome.description = where + ": " + outcome.error.message;
    return outcome;
  }
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &outcome.status);
  outcome.body = std::move(received.body);
  if (outcome.status >= 200 && outcome.status < 300) {
    outcome.ok = true;
    return outcome;
  }
  outcome.error = parseAwsError(outcome.status, outcome.body, received.query_error);
  outcome.description = where + ": " + describeAwsError(outcome.status, outcome.error);
  return outcome;
}

}  // namespace siprecd::control
