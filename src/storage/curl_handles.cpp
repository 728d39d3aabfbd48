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

}  // namespace siprecd::storage
