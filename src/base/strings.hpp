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

}  // namespace siprecd
