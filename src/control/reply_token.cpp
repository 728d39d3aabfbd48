#include "control/reply_token.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.hpp"
#include "base/random.hpp"
#include "base/strings.hpp"
#include "base/unique_fd.hpp"
#include "control/callback_signature.hpp"
#include "control/json_web_token.hpp"

namespace siprecd::control {
namespace {

constexpr std::string_view kComponent = "events";

std::string errnoText() {
  return std::strerror(errno);
}

Result<std::string> readSecret(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return fail("server secret " + file + ": cannot be read");
  }
  std::ostringstream text;
  text << in.rdbuf();
  const std::string secret(trim(text.str()));
  if (secret.size() < 16) {
    return fail("server secret " + file + ": shorter than 16 characters");
  }
  struct stat info {};
  if (::stat(file.c_str(), &info) == 0 && (info.st_mode & 077) != 0) {
    log::warn(kComponent, "server secret {} is readable by group or others (mode {:o})", file,
              info.st_mode & 0777);
  }
  return secret;
}

/// Writes `secret` to a fresh temporary file beside `file` and links it into place, so the
/// file appears complete or not at all, and never replaces one created meanwhile.
Result<void> createSecretFile(const std::string& file, const std::string& secret) {
  const std::string temporary = file + ".tmp-" + randomToken(12);
  UniqueFd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (fd.get() < 0) {
    return fail("server secret " + file + ": cannot create " + temporary + ": " + errnoText());
  }
  const std::string content = secret + "\n";
  bool ok =
      ::write(fd.get(), content.data(), content.size()) == static_cast<ssize_t>(content.size()) &&
      ::fsync(fd.get()) == 0;
  ok = fd.close() == 0 && ok;
  if (!ok) {
    const std::string reason = errnoText();
    ::unlink(temporary.c_str());
    return fail("server secret " + file + ": cannot write: " + reason);
  }
  const int linked = ::link(temporary.c_str(), file.c_str());
  const int link_errno = errno;
  ::unlink(temporary.c_str());
  if (linked != 0 && link_errno != EEXIST) {
    return fail("server secret " + file + ": cannot create: " + std::strerror(link_errno));
  }
  return {};
}

}  // namespace

std::string ReplyTokens::issue(std::string_view domain, std::string_view recording_id,
                               int64_t now_s, std::chrono::seconds lifetime) const {
  const nlohmann::json claims = {{"domain", domain},
                                 {"recordingId", recording_id},
                                 {"iat", now_s},
                                 {"exp", now_s + lifetime.count()}};
  return signHs256(claims, secret_);
}

Result<ReplyClaims> ReplyTokens::verify(std::string_view token, int64_t now_s) const {
  auto claims = verifyHs256(token, secret_, now_s);
  if (!claims) {
    return fail("replyId: " + claims.error().message, 403);
  }
  const auto string_claim = [&](const char* name) -> const nlohmann::json* {
    const auto it = claims->find(name);
    return it != claims->end() && it->is_string() ? &*it : nullptr;
  };
  const auto integer_claim = [&](const char* name) -> const nlohmann::json* {
    const auto it = claims->find(name);
    return it != claims->end() && it->is_number_integer() ? &*it : nullptr;
  };
  const auto* domain = string_claim("domain");
  const auto* recording_id = string_claim("recordingId");
  const auto* issued_at = integer_claim("iat");
  const auto* expires_at = integer_claim("exp");
  if (domain == nullptr || recording_id == nullptr) {
    return fail("replyId: domain or recordingId claim missing", 403);
  }
  if (issued_at == nullptr || expires_at == nullptr) {
    return fail("replyId: iat or exp claim missing", 403);
  }
  ReplyClaims result;
  result.domain = domain->get<std::string>();
  result.recording_id = recording_id->get<std::string>();
  result.issued_at_s = issued_at->get<int64_t>();
  result.expires_at_s = expires_at->get<int64_t>();
  return result;
}

Result<std::string> loadOrCreateServerSecret(const std::string& file) {
  std::error_code error;
  if (std::filesystem::exists(file, error)) {
    return readSecret(file);
  }
  const auto directory = std::filesystem::path(file).parent_path();
  if (!directory.empty()) {
    std::filesystem::create_directories(directory, error);
    if (error) {
      return fail("server secret " + file + ": cannot create its directory: " + error.message());
    }
  }
  std::array<unsigned char, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return fail("server secret " + file + ": no random bytes from OpenSSL");
  }
  const std::string secret =
      toHex(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  if (auto created = createSecretFile(file, secret); !created) {
    return tl::unexpected(created.error());
  }
  // Another process may have won the race: whatever is in the file now is the secret.
  return readSecret(file);
}

}  // namespace siprecd::control
