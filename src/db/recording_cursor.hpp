#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace siprecd::db {

/// A position in the newest-first listing of recordings: the last row of a page, identified
/// by its sort key (created_ms, id). The next page starts strictly after it.
struct RecordingCursor {
  int64_t created_ms = 0;
  std::string id;

  bool operator==(const RecordingCursor&) const = default;
};

/// The opaque cursor text handed to API clients: base64url (RFC 4648 §5, no padding) of
/// "<created_ms>:<id>". Pure function, any thread.
std::string encodeRecordingCursor(const RecordingCursor& cursor);

/// Parses a cursor made by encodeRecordingCursor(). Fails with code 400 and a message naming
/// the "cursor" on anything else (bad base64url, missing ':', a time that is not a canonical
/// decimal int64, empty id): every accepted text re-encodes to itself.
/// Never throws; safe on untrusted input.
Result<RecordingCursor> decodeRecordingCursor(std::string_view text);

}  // namespace siprecd::db
