#pragma once

#include <optional>
#include <string>

#include "base/result.hpp"
#include "sip/message.hpp"

namespace siprecd::siprec {

/// The parts of an INVITE (or re-INVITE, UPDATE, BYE) body that matter to recording.
struct SiprecBody {
  std::optional<std::string> sdp;           ///< application/sdp
  std::optional<std::string> metadata_xml;  ///< application/rs-metadata+xml
};

/// Whether the request presents itself as SIPREC (RFC 7866 §6.1.1): the `siprec` option tag
/// in Require or Supported, or the +sip.src feature tag in Contact.
bool isSiprecRequest(const sip::Message& request);

/// Splits the body by Content-Type: a single application/sdp, a single rs-metadata, or a
/// multipart/mixed holding either or both (parts in any order; the metadata part is
/// recognised by its type, Content-Disposition: recording-session being optional in
/// practice). An empty body gives an empty SiprecBody. Failure (code 400 or 415, with a
/// message for a Warning header) on a malformed multipart or an unsupported Content-Type.
Result<SiprecBody> extractSiprecBody(const sip::Message& request, std::size_t max_parts);

}  // namespace siprecd::siprec
