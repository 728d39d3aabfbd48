#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <curl/curl.h>

/// RAII owners of libcurl handles and the process-wide initialisation, shared by every
/// libcurl user (storage destinations, the webhook client, the AWS query client).
namespace siprecd::storage {

/// Calls curl_global_init once per process (thread-safe; later calls do nothing). Every
/// libcurl user calls it before creating its first handle.
void ensureCurlGlobalInit();

// CURL and CURLM are both `void` in libcurl's public headers: one deleter type each.
struct CurlEasyDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
struct CurlMultiDeleter {
  void operator()(CURLM* handle) const { curl_multi_cleanup(handle); }
};
struct CurlHeadersDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;
using CurlMulti = std::unique_ptr<CURLM, CurlMultiDeleter>;
using CurlHeaders = std::unique_ptr<curl_slist, CurlHeadersDeleter>;

/// Appends `line` ("Name: value") to `list`, which keeps ownership; false when out of memory
/// (the list is then unchanged).
bool appendHeader(CurlHeaders& list, const std::string& line);

/// The header list of a Signature V4 request: `Authorization`, every signed header as
/// signed (Host included, so what is sent is what was signed), and empty `Expect:` and
/// `Accept:` so that curl adds no unsigned header of its own. nullopt when out of memory.
std::optional<CurlHeaders> signedRequestHeaders(
    std::string_view authorization,
    const std::vector<std::pair<std::string, std::string>>& signed_headers);

}  // namespace siprecd::storage
