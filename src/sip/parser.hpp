#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "sip/message.hpp"

namespace siprecd::sip {

/// Bounds on what the parser accepts from the network (DoS protection).
struct ParseLimits {
  std::size_t max_message_bytes = 64 * 1024;
  std::size_t max_headers = 128;
  std::size_t max_body_parts = 16;               ///< multipart/mixed parts (see multipart.hpp)
  std::size_t max_header_line_bytes = 8 * 1024;  ///< one field, name + unfolded value (513)
};

/// Parses one complete message (RFC 3261 §7, §25). For datagrams (`framing == Datagram`)
/// Content-Length may be absent (the body is the rest of the datagram); when present it
/// must not exceed the available bytes, and extra bytes after it are ignored. For
/// `framing == Stream` the caller (StreamFramer) passes exactly one framed message.
/// Failure: Error.code 400 (syntax), 413 (too large), 505 (version), 513 (header too long),
/// with a message naming the faulty element.
/// Besides the grammar, the parser checks what the transaction layer relies on: Via, From,
/// To, Call-ID and CSeq present and well formed (From, To, Contact, Route, Record-Route as
/// name-addr/addr-spec, every Via value), CSeq method equal to the request method, single
/// From/To/Call-ID/CSeq/Max-Forwards/Content-Type fields, Max-Forwards <= 255, a GMT Date,
/// no headers in a SIP Request-URI (RFC 4475 §3.1.2 messages are refused).
enum class Framing { Datagram, Stream };
Result<Message> parseMessage(std::string_view bytes, Framing framing, const ParseLimits& limits);

/// Splits a header section (the lines after the start line up to, not including, the empty
/// line) into fields (RFC 3261 §7.3): CRLF or bare LF line ends, folding replaced by one
/// space, names canonicalised, values trimmed. Shared by the message and multipart parsers.
/// Failure: 400 (line without a name or colon, bare CR, more than `max_fields` fields),
/// 513 (a field longer than `max_field_bytes`).
Result<std::vector<Header>> parseHeaderFields(std::string_view section, std::size_t max_fields,
                                              std::size_t max_field_bytes);

/// Extracts, leniently, the header fields needed to answer a message the strict parser
/// refused (Via, From, To, Call-ID, CSeq, and the start line; whichever are present). nullopt
/// when the bytes are not recognisably a SIP request or carry no Via to answer along (then
/// the input is dropped, not answered).
std::optional<Message> salvageRequestForErrorResponse(std::string_view bytes);

/// Splits a TCP/TLS byte stream into messages by Content-Length (mandatory on streams,
/// RFC 3261 §18.3). Not thread-safe; one per connection.
class StreamFramer {
 public:
  explicit StreamFramer(ParseLimits limits) : limits_(limits) {}
  /// Appends received bytes.
  void feed(std::string_view bytes);
  /// The next complete message, if any: a Message, or an Error after which the connection
  /// should be closed (the stream cannot be resynchronised). Leading CRLFs (keep-alive
  /// pings, RFC 5626 §4.4.1) are skipped and counted in keepAlivesSeen(), one per line end.
  /// Framing errors (no or bad Content-Length: 400; header section or message beyond
  /// max_message_bytes: 413) make the framer broken(): it then ignores input and yields
  /// nothing. When framing succeeded but the message itself was refused, the framer stays
  /// usable and failedMessageBytes() holds the refused bytes (for
  /// salvageRequestForErrorResponse) until the next call of next().
  std::optional<Result<Message>> next();
  std::size_t bufferedBytes() const { return buffer_.size(); }
  std::size_t keepAlivesSeen() const { return keep_alives_; }
  bool broken() const { return broken_; }
  std::string_view failedMessageBytes() const { return failed_bytes_; }

 private:
  std::optional<Result<Message>> brokenWith(Error error);

  ParseLimits limits_;
  std::string buffer_;
  std::size_t keep_alives_ = 0;
  std::size_t scan_pos_ = 0;       ///< start of the first header line not yet scanned
  std::size_t pending_total_ = 0;  ///< framed size of the message being received, 0 = unknown
  bool broken_ = false;
  std::string failed_bytes_;
};

}  // namespace siprecd::sip
