#pragma once

#include <string>
#include <string_view>

#include "base/result.hpp"

namespace siprecd::app {

/// The stored form of a configured API key: lower-case hex SHA-256. Accepts either the key
/// itself (hashed here, so the process never keeps it) or "sha256:<64 hex digits>" (an
/// operator who keeps plain keys out of the file). Fails on a malformed "sha256:" value or
/// an empty key.
Result<std::string> apiKeyHash(std::string_view configured);

}  // namespace siprecd::app
