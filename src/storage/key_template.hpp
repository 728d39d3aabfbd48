#pragma once

#include <map>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace siprecd::storage {

/// Expands a destination key template (DESIGN.md §2): {domain} {recordingId} {date}
/// ({date} = YYYY-MM-DD of the recording's start, UTC) {callId} {ext}. Unknown
/// placeholders, unbalanced braces, an empty result, a leading '/', ".." or "." path
/// segments, empty segments, NUL or control characters fail (code 400, naming the
/// problem): a key can never leave its destination's root. Values are made safe first
/// (characters outside [A-Za-z0-9._@+=-] become '_').
Result<std::string> expandKeyTemplate(std::string_view key_template,
                                      const std::map<std::string, std::string>& values);

}  // namespace siprecd::storage
