#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace siprecd::storage {

/// Limits of a key: S3's object key limit and Linux's NAME_MAX per path segment.
inline constexpr std::size_t kMaxKeyBytes = 1024;
inline constexpr std::size_t kMaxKeySegmentBytes = 255;

/// Expands a destination key template (DESIGN.md §2): {domain} {recordingId} {date}
/// ({date} = YYYY-MM-DD of the recording's start, UTC) {callId} {ext}. Unknown
/// placeholders, unbalanced braces, an empty result, a leading '/', ".." or "." path
/// segments, empty segments, NUL or control characters fail (code 400, naming the
/// problem): a key can never leave its destination's root. Values are made safe first
/// (characters outside [A-Za-z0-9._@+=-] become '_'; a value of only dots, such as "..",
/// becomes underscores); a placeholder missing from `values` fails too.
Result<std::string> expandKeyTemplate(std::string_view key_template,
                                      const std::map<std::string, std::string>& values);

/// Checks an expanded key (the rules above, without placeholders): not empty, at most
/// kMaxKeyBytes, no control character, no leading '/', no empty, "." or ".." segment, no
/// segment over kMaxKeySegmentBytes. Fails with code 400 naming the problem.
Result<void> checkKey(std::string_view key);

/// The {date} value: "YYYY-MM-DD" (UTC) of `epoch_ms`.
std::string keyDate(int64_t epoch_ms);

}  // namespace siprecd::storage
