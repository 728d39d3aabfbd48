#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace siprecd::sdp {

/// Base64 (RFC 4648 §4, standard alphabet) with "=" padding, as a=crypto inline keys use
/// (RFC 4568 §9.1). Pure; any thread.
std::string encodeBase64(std::span<const uint8_t> bytes);

/// Decodes RFC 4648 §4 base64. Padding may be omitted (some SDES offerers drop it); any
/// other character, padding inside the text, or a length that no encoding can have gives
/// nullopt. Non-zero unused bits in the last character are tolerated.
std::optional<std::vector<uint8_t>> decodeBase64(std::string_view text);

}  // namespace siprecd::sdp
