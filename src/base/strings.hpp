#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace siprecd {

/// ASCII-only helpers for protocol text (SIP, SDP, HTTP): no locale.
std::string_view trim(std::string_view text);
bool iequals(std::string_view a, std::string_view b);
std::string toLower(std::string_view text);
bool istartsWith(std::string_view text, std::string_view prefix);
/// Splits on `separator`, keeping empty fields.
std::vector<std::string_view> split(std::string_view text, char separator);
/// Parses a whole decimal unsigned number; nullopt on anything else or overflow.
std::optional<uint64_t> parseUnsigned(std::string_view text);
/// The value of a hexadecimal digit (either case), -1 for any other character.
int hexDigitValue(char c);
/// Peer-supplied text made safe for logs and events: control characters become spaces,
/// surrounding blanks are trimmed, and the result is cut to `max_bytes` (only the first
/// 4 x `max_bytes` of `text` are looked at).
std::string printableExcerpt(std::string_view text, std::size_t max_bytes);

}  // namespace siprecd
