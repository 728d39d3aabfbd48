#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace siprecd::control {

/// The `replyId` handed out from RECORDINGSTARTED on (DESIGN.md §2): an HS256 JWT signed
/// with the server secret, claims `domain`, `recordingId`, `iat`, `exp`.
struct ReplyClaims {
  std::string domain;
  std::string recording_id;
  int64_t issued_at_s = 0;
  int64_t expires_at_s = 0;
};

class ReplyTokens {
 public:
  /// `secret`: the server secret (loadOrCreateServerSecret).
  explicit ReplyTokens(std::string secret) : secret_(std::move(secret)) {}
  /// A token for the recording, valid `lifetime` from `now_s`.
  std::string issue(std::string_view domain, std::string_view recording_id, int64_t now_s,
                    std::chrono::seconds lifetime) const;
  /// The claims when the signature verifies and the token has not expired at `now_s`; fails
  /// (code 403) naming what is wrong.
  Result<ReplyClaims> verify(std::string_view token, int64_t now_s) const;

 private:
  std::string secret_;
};

/// Reads the server secret from `file`, or creates it (32 random bytes, hex, mode 0600)
/// when missing. Fails naming the file.
Result<std::string> loadOrCreateServerSecret(const std::string& file);

}  // namespace siprecd::control
