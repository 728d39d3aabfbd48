#pragma once

#include <string>
#include <string_view>

#include "base/result.hpp"
#include "sip/header_fields.hpp"
#include "sip/message.hpp"

namespace siprecd::sip {

/// Small accessors over Message used by the transaction and dialog layers. Pure functions.

/// The first Via value, parsed. Failure (code 400) when absent or malformed.
Result<Via> topVia(const Message& message);
/// Replaces the first Via value by `via`, keeping the others in order (the Via fields end
/// up first among the header fields).
void replaceTopVia(Message& message, const Via& via);
/// The CSeq header, parsed. Failure (code 400) when absent or malformed.
Result<CSeq> cseqOf(const Message& message);
/// The `tag` parameter of a From/To-like header; empty when absent or unparsable.
std::string headerTag(const Message& message, std::string_view header_name);
/// Whether a Via branch carries RFC 3261's magic cookie "z9hG4bK" (§8.1.1.7).
bool hasMagicCookie(std::string_view branch);

}  // namespace siprecd::sip
