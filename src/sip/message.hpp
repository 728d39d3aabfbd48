#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace siprecd::sip {

/// One header field line as received or to be sent. `name` is the canonical long form
/// (compact forms such as "v" are expanded to "Via" by the parser); `value` is the field
/// value with folding (RFC 3261 §7.3.1) already replaced by a single space and outer
/// whitespace trimmed. A multi-valued field ("Via: a, b") stays one Header; use
/// Message::headerValues() to split it.
struct Header {
  std::string name;
  std::string value;
};

/// A SIP request or response (RFC 3261 §7). Plain value type; not thread-safe.
class Message {
 public:
  static Message request(std::string method, std::string request_uri);
  static Message response(int status_code, std::string reason);

  bool isRequest() const { return status_code_ == 0; }
  bool isResponse() const { return status_code_ != 0; }

  // Start line. method()/requestUri() are meaningful for requests, statusCode()/reason()
  // for responses.
  const std::string& method() const { return method_; }
  const std::string& requestUri() const { return request_uri_; }
  int statusCode() const { return status_code_; }
  const std::string& reason() const { return reason_; }
  void setRequestUri(std::string uri) { request_uri_ = std::move(uri); }

  const std::vector<Header>& headers() const { return headers_; }
  /// Value of the first field with this name (case-insensitive, compact forms accepted).
  std::optional<std::string_view> header(std::string_view name) const;
  /// Every value of the named header: all fields with that name, each split at top-level
  /// commas (commas inside quotes or <...> do not split), trimmed, in order. Empty list
  /// elements are skipped. Fields whose grammar is not a comma list (Date, Call-ID, Subject,
  /// User-Agent, Server, Retry-After, Identity, Authorization and the authentication
  /// challenges) are returned whole, one value per field.
  std::vector<std::string_view> headerValues(std::string_view name) const;
  bool hasHeader(std::string_view name) const { return header(name).has_value(); }
  /// Appends a field at the end.
  void addHeader(std::string name, std::string value);
  /// Inserts a field before every other (used for Via on outgoing requests).
  void prependHeader(std::string name, std::string value);
  /// Replaces every field of that name by one field (appended if absent).
  void setHeader(std::string_view name, std::string value);
  /// Removes every field of that name; returns how many were removed.
  std::size_t removeHeader(std::string_view name);

  /// The message body; serialize() sets Content-Length from it.
  const std::string& body() const { return body_; }
  void setBody(std::string body) { body_ = std::move(body); }

 private:
  std::string method_;
  std::string request_uri_;
  int status_code_ = 0;
  std::string reason_;
  std::vector<Header> headers_;
  std::string body_;

  friend class MessageBuilderAccess;
};

/// The long form of a header name ("v" → "Via", "CONTENT-length" → "Content-Length");
/// unknown names are returned as given.
std::string canonicalHeaderName(std::string_view name);

/// As canonicalHeaderName() without allocating: a view of a static string for known names
/// (and compact forms), otherwise `name` itself.
std::string_view canonicalHeaderNameView(std::string_view name);

/// Value of the first field named `name` (case-insensitive, compact forms accepted) in a
/// field list, e.g. a multipart body part's headers; nullopt when absent.
std::optional<std::string_view> findHeader(const std::vector<Header>& headers,
                                           std::string_view name);

/// The standard reason phrase for a status code ("OK", "Request Terminated", ...).
std::string_view reasonPhrase(int status_code);

}  // namespace siprecd::sip
