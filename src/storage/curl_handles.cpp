#include "storage/curl_handles.hpp"

#include "base/log.hpp"

namespace siprecd::storage {

void ensureCurlGlobalInit() {
  static const CURLcode result = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (result != CURLE_OK) {
    log::critical("storage", "curl_global_init failed: {}", curl_easy_strerror(result));
  }
}

bool appendHeader(CurlHeaders& list, const std::string& line) {
  curl_slist* grown = curl_slist_append(list.get(), line.c_str());
  if (grown == nullptr) {
    return false;
  }
  static_cast<void>(list.release());
  list.reset(grown);
  return true;
}

std::optional<CurlHeaders> signedRequestHeaders(
    std::string_view authorization,
    const std::vector<std::pair<std::string, std::string>>& signed_headers) {
  CurlHeaders headers;
  bool added = appendHeader(headers, "Authorization: " + std::string(authorization)) &&
               appendHeader(headers, "Expect:") && appendHeader(headers, "Accept:");
  for (const auto& [name, value] : signed_headers) {
    added = added && appendHeader(headers, name + ": " + value);
  }
  if (!added) {
    return std::nullopt;
  }
  return headers;
}

}  // namespace siprecd::storage
