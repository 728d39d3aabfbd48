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
  std::size_t max_body_parts = 16;  ///< multipart/mixed parts (see multipart.hpp)
};

/// Parses one complete message (RFC 3261 §7, §25). For datagrams (`framing == Datagram`)
/// Content-Length may be absent (the body is the rest of the datagram); when present it
/// must not exceed the available bytes, and extra bytes after it are ignored. For
/// `framing == Stream` the caller (StreamFramer) passes exactly one framed message.
/// Failure: Error.code 400 (syntax), 413 (too large), 505 (version), 513 (header too long),
/// with a message naming the faulty element.
enum class Framing { Datagram, Stream };
Result<Message> parseMessage(std::string_view bytes, Framing framing, const ParseLimits& limits);

/// Extracts, leniently, the header fields needed to answer a message the strict parser
/// refused (Via, From, To, Call-ID, CSeq, and the start line). nullopt when the bytes are
/// not recognisably a SIP request (then the input is dropped, not answered).
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
  /// pings, RFC 5626 §4.4.1) are skipped and counted in keepAlivesSeen().
  std::optional<Result<Message>> next();
  std::size_t bufferedBytes() const { return buffer_.size(); }
  std::size_t keepAlivesSeen() const { return keep_alives_; }

 private:
  ParseLimits limits_;
  std::string buffer_;
  std::size_t keep_alives_ = 0;
};

}  // namespace siprecd::sip
