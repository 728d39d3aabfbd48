#pragma once

#include <string>
#include <string_view>

#include "sip/message.hpp"

namespace siprecd::sip {

/// Builds a response to `request` (RFC 3261 §8.2.6.2): every Via (in order), From, To
/// (adding ;tag=to_tag when To has no tag and to_tag is non-empty), Call-ID and CSeq
/// copied; for responses 101-299 to an INVITE also the Record-Route fields (§12.1.1), as a
/// dialog-creating response needs. The reason phrase is reasonPhrase(status_code).
/// Pure function; the TU adds Contact, body, etc.
Message makeResponse(const Message& request, int status_code, std::string_view to_tag = {});

/// The same with an explicit reason phrase.
Message makeResponseWithReason(const Message& request, int status_code, std::string reason,
                               std::string_view to_tag = {});

/// Adds `Warning: 399 <agent> "<text>"` (RFC 3261 §20.43), with the text's quotes and
/// backslashes escaped and control characters replaced by spaces.
void addWarning(Message& response, std::string_view agent, std::string_view text);

}  // namespace siprecd::sip
