#pragma once

#include <cstddef>
#include <string_view>

#include "base/result.hpp"
#include "sdp/session_description.hpp"

namespace siprecd::sdp {

/// Bounds on what parseSdp() accepts (DoS protection). A SIPREC offer from an SBC is
/// typically 1–4 KiB with 2–8 m-lines; the defaults leave ample room above that while
/// keeping negotiation (formats × attributes) cheap.
struct SdpLimits {
  std::size_t max_bytes = 32 * 1024;  ///< whole body
  std::size_t max_media = 64;         ///< m-lines
  std::size_t max_formats = 64;       ///< formats on one m-line
  std::size_t max_attributes = 256;   ///< a= lines in one section (session or one m-line)
};

/// Parses a session description (RFC 4566 §5). Lenient where interoperability needs it:
/// CRLF or bare LF line ends, empty lines and trailing blanks ignored, runs of blanks
/// between fields, fields in any order within a section, unknown type letters and
/// attributes kept. Strict on structure: v=0 first; o= with six fields and numeric
/// sess-id/sess-version; at most one o=, s= and c= per section; c= with three fields;
/// t= with two numbers; m= with media, numeric port[/count], proto and at least one
/// format; session-only lines (o s t r u e p z) not inside a media section; no NUL or bare
/// CR. A missing s= reads as "-", a missing t= as "t=0 0". Static payload types without
/// a=rtpmap are resolved by MediaDescription::rtpmap(), not added here.
/// Failure: Error.code 400 with a message naming the line ("SDP line 7: m= port is not a
/// number"), 413 when the body exceeds limits.max_bytes. Pure function; any thread.
Result<SessionDescription> parseSdp(std::string_view text, const SdpLimits& limits = SdpLimits{});

}  // namespace siprecd::sdp
