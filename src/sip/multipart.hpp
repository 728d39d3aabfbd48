#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "sip/message.hpp"

namespace siprecd::sip {

/// One body part of a multipart/mixed body (RFC 2046 §5.1, RFC 5621).
struct BodyPart {
  std::vector<Header> headers;  ///< canonical names, as in Message
  std::string body;
  std::optional<std::string_view> header(std::string_view name) const;
  /// Lowercased media type without parameters, "text/plain" when absent (RFC 2045).
  std::string contentType() const;
};

/// Splits a multipart body. `boundary` is the Content-Type's boundary parameter, already
/// unquoted. Tolerates a preamble and epilogue, CRLF or bare LF line ends, and parts in any
/// order. Fails (Error.code 400) on a missing boundary or closing delimiter, or more than
/// `max_parts` parts.
Result<std::vector<BodyPart>> parseMultipart(std::string_view body, std::string_view boundary,
                                             std::size_t max_parts);

/// Builds a multipart/mixed body with the given boundary (for tests and re-serialising).
std::string serializeMultipart(const std::vector<BodyPart>& parts, std::string_view boundary);

}  // namespace siprecd::sip
