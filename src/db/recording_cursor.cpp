#include "db/recording_cursor.hpp"

#include <array>
#include <charconv>
#include <optional>
#include <string>
#include <system_error>

namespace siprecd::db {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::size_t kMaxCursorChars = 1024;

/// RFC 4648 §5 without padding.
std::string base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16) |
                       (static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8) |
                       static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 2]));
    out.push_back(kAlphabet[(v >> 18) & 0x3f]);
    out.push_back(kAlphabet[(v >> 12) & 0x3f]);
    out.push_back(kAlphabet[(v >> 6) & 0x3f]);
    out.push_back(kAlphabet[v & 0x3f]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (rest == 2) {
      v |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    }
    out.push_back(kAlphabet[(v >> 18) & 0x3f]);
    out.push_back(kAlphabet[(v >> 12) & 0x3f]);
    if (rest == 2) {
      out.push_back(kAlphabet[(v >> 6) & 0x3f]);
    }
  }
  return out;
}

std::optional<uint32_t> sextet(char c) {
  const auto at = kAlphabet.find(c);
  if (at == std::string_view::npos) {
    return std::nullopt;
  }
  return static_cast<uint32_t>(at);
}

/// Strict decoder: only the url-safe alphabet, no padding, no non-zero spare bits (so every
/// cursor has exactly one spelling).
std::optional<std::string> base64UrlDecode(std::string_view text) {
  if (text.size() % 4 == 1) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t buffer = 0;
  int bits = 0;
  for (const char c : text) {
    const auto value = sextet(c);
    if (!value) {
      return std::nullopt;
    }
    buffer = (buffer << 6) | *value;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  if ((buffer & ((1u << bits) - 1)) != 0) {
    return std::nullopt;
  }
  return out;
}

}  // namespace

std::string encodeRecordingCursor(const RecordingCursor& cursor) {
  return base64UrlEncode(std::to_string(cursor.created_ms) + ":" + cursor.id);
}

Result<RecordingCursor> decodeRecordingCursor(std::string_view text) {
  if (text.empty() || text.size() > kMaxCursorChars) {
    return fail("cursor: malformed (wrong length)", 400);
  }
  const auto decoded = base64UrlDecode(text);
  if (!decoded) {
    return fail("cursor: malformed (not base64url)", 400);
  }
  const std::string_view plain = *decoded;
  const auto colon = plain.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == plain.size()) {
    return fail("cursor: malformed (expected <created_ms>:<id>)", 400);
  }
  RecordingCursor cursor;
  const std::string_view number = plain.substr(0, colon);
  const auto [end, ec] =
      std::from_chars(number.data(), number.data() + number.size(), cursor.created_ms);
  // Only the canonical spelling (no '+', no leading zeros, no "-0"): one cursor, one text.
  if (ec != std::errc() || end != number.data() + number.size() ||
      std::to_string(cursor.created_ms) != number) {
    return fail("cursor: malformed (created_ms is not a decimal integer)", 400);
  }
  cursor.id = std::string(plain.substr(colon + 1));
  return cursor;
}

}  // namespace siprecd::db
