#include "sip/message.hpp"

#include <algorithm>
#include <array>

#include "base/strings.hpp"

namespace siprecd::sip {
namespace {

char lowerAscii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// Compact forms (RFC 3261 §7.3.3 and the IANA "Header Fields" registry: RFC 3262-era
// extensions 3515 Refer-To, 3841, 3892, 4028, 4474, 6665, 8224).
constexpr std::array<std::string_view, 26> kCompactForms = {
    "Accept-Contact",       // a  RFC 3841
    "Referred-By",          // b  RFC 3892
    "Content-Type",         // c
    "Request-Disposition",  // d  RFC 3841
    "Content-Encoding",     // e
    "From",                 // f
    "",                     // g
    "",                     // h
    "Call-ID",              // i
    "Reject-Contact",       // j  RFC 3841
    "Supported",            // k
    "Content-Length",       // l
    "Contact",              // m
    "Identity-Info",        // n  RFC 4474 (obsoleted by RFC 8224)
    "Event",                // o  RFC 6665
    "",                     // p
    "",                     // q
    "Refer-To",             // r  RFC 3515
    "Subject",              // s
    "To",                   // t
    "Allow-Events",         // u  RFC 6665
    "Via",                  // v
    "",                     // w
    "Session-Expires",      // x  RFC 4028
    "Identity",             // y  RFC 8224
    "",                     // z
};

// Canonical spellings of the long forms, sorted case-insensitively for binary search.
constexpr std::array<std::string_view, 100> kKnownNames = {
    "Accept",
    "Accept-Contact",
    "Accept-Encoding",
    "Accept-Language",
    "Accept-Resource-Priority",
    "Alert-Info",
    "Allow",
    "Allow-Events",
    "Answer-Mode",
    "Authentication-Info",
    "Authorization",
    "Call-ID",
    "Call-Info",
    "Contact",
    "Content-Disposition",
    "Content-Encoding",
    "Content-ID",
    "Content-Language",
    "Content-Length",
    "Content-Transfer-Encoding",
    "Content-Type",
    "CSeq",
    "Date",
    "Diversion",
    "Error-Info",
    "Event",
    "Expires",
    "Feature-Caps",
    "Flow-Timer",
    "From",
    "Geolocation",
    "Geolocation-Error",
    "Geolocation-Routing",
    "History-Info",
    "Identity",
    "Identity-Info",
    "In-Reply-To",
    "Info-Package",
    "Join",
    "Max-Breadth",
    "Max-Forwards",
    "MIME-Version",
    "Min-Expires",
    "Min-SE",
    "Organization",
    "P-Access-Network-Info",
    "P-Asserted-Identity",
    "P-Asserted-Service",
    "P-Associated-URI",
    "P-Called-Party-ID",
    "P-Charging-Function-Addresses",
    "P-Charging-Vector",
    "P-Early-Media",
    "P-Preferred-Identity",
    "P-Preferred-Service",
    "P-Visited-Network-ID",
    "Path",
    "Priority",
    "Privacy",
    "Proxy-Authenticate",
    "Proxy-Authorization",
    "Proxy-Require",
    "RAck",
    "Reason",
    "Record-Route",
    "Recv-Info",
    "Refer-Sub",
    "Refer-To",
    "Referred-By",
    "Reject-Contact",
    "Remote-Party-ID",
    "Replaces",
    "Reply-To",
    "Request-Disposition",
    "Require",
    "Resource-Priority",
    "Retry-After",
    "Route",
    "RSeq",
    "Security-Client",
    "Security-Server",
    "Security-Verify",
    "Server",
    "Service-Route",
    "Session-Expires",
    "Session-ID",
    "SIP-ETag",
    "SIP-If-Match",
    "Subject",
    "Subscription-State",
    "Supported",
    "Target-Dialog",
    "Timestamp",
    "To",
    "Unsupported",
    "User-Agent",
    "User-to-User",
    "Via",
    "Warning",
    "WWW-Authenticate",
};

// Fields that are not comma-separated lists (RFC 3261 §7.3.1): headerValues() keeps them whole.
constexpr std::array<std::string_view, 13> kNonListNames = {
    "Authentication-Info",
    "Authorization",
    "Call-ID",
    "Date",
    "Identity",
    "Organization",
    "Proxy-Authenticate",
    "Proxy-Authorization",
    "Retry-After",
    "Server",
    "Subject",
    "User-Agent",
    "WWW-Authenticate",
};

bool isNonListHeader(std::string_view canonical) {
  return std::any_of(kNonListNames.begin(), kNonListNames.end(),
                     [&](std::string_view n) { return iequals(n, canonical); });
}

// Splits a list-header value at top-level commas (not inside "..." or <...>).
void splitListValue(std::string_view value, std::vector<std::string_view>& out) {
  bool in_quotes = false;
  int angle_depth = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (in_quotes) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_quotes = false;
      }
      continue;
    }
    if (c == '"') {
      in_quotes = true;
    } else if (c == '<') {
      ++angle_depth;
    } else if (c == '>' && angle_depth > 0) {
      --angle_depth;
    } else if (c == ',' && angle_depth == 0) {
      const std::string_view item = trim(value.substr(start, i - start));
      if (!item.empty()) {
        out.push_back(item);
      }
      start = i + 1;
    }
  }
  const std::string_view item = trim(value.substr(std::min(start, value.size())));
  if (!item.empty()) {
    out.push_back(item);
  }
}

}  // namespace

std::string_view canonicalHeaderNameView(std::string_view name) {
  if (name.size() == 1) {
    const char c = lowerAscii(name[0]);
    if (c >= 'a' && c <= 'z') {
      const std::string_view full = kCompactForms[static_cast<std::size_t>(c - 'a')];
      return full.empty() ? name : full;
    }
    return name;
  }
  // Binary search on a lowercase copy of the table with the key lowered on the stack: this
  // runs for every header field of every message.
  static const std::array<std::string, kKnownNames.size()> kLowered = [] {
    std::array<std::string, kKnownNames.size()> lowered;
    for (std::size_t i = 0; i < kKnownNames.size(); ++i) {
      for (char c : kKnownNames[i]) {
        lowered[i].push_back(lowerAscii(c));
      }
    }
    return lowered;
  }();
  std::array<char, 32> buffer{};
  if (name.size() > buffer.size()) {
    return name;
  }
  for (std::size_t i = 0; i < name.size(); ++i) {
    buffer[i] = lowerAscii(name[i]);
  }
  const std::string_view key(buffer.data(), name.size());
  const auto* it = std::lower_bound(
      kLowered.begin(), kLowered.end(), key,
      [](const std::string& entry, std::string_view k) { return std::string_view(entry) < k; });
  if (it != kLowered.end() && std::string_view(*it) == key) {
    return kKnownNames[static_cast<std::size_t>(it - kLowered.begin())];
  }
  return name;
}

std::string canonicalHeaderName(std::string_view name) {
  return std::string(canonicalHeaderNameView(name));
}

std::optional<std::string_view> findHeader(const std::vector<Header>& headers,
                                           std::string_view name) {
  const std::string_view canonical = canonicalHeaderNameView(name);
  for (const Header& header : headers) {
    if (iequals(header.name, canonical)) {
      return std::string_view(header.value);
    }
  }
  return std::nullopt;
}

Message Message::request(std::string method, std::string request_uri) {
  Message message;
  message.method_ = std::move(method);
  message.request_uri_ = std::move(request_uri);
  return message;
}

Message Message::response(int status_code, std::string reason) {
  Message message;
  message.status_code_ = status_code;
  message.reason_ = std::move(reason);
  return message;
}

std::optional<std::string_view> Message::header(std::string_view name) const {
  return findHeader(headers_, name);
}

std::vector<std::string_view> Message::headerValues(std::string_view name) const {
  const std::string_view canonical = canonicalHeaderNameView(name);
  const bool whole = isNonListHeader(canonical);
  std::vector<std::string_view> values;
  for (const Header& header : headers_) {
    if (!iequals(header.name, canonical)) {
      continue;
    }
    if (whole) {
      values.push_back(trim(header.value));
    } else {
      splitListValue(header.value, values);
    }
  }
  return values;
}

void Message::addHeader(std::string name, std::string value) {
  headers_.push_back(Header{canonicalHeaderName(name), std::move(value)});
}

void Message::prependHeader(std::string name, std::string value) {
  headers_.insert(headers_.begin(), Header{canonicalHeaderName(name), std::move(value)});
}

void Message::setHeader(std::string_view name, std::string value) {
  const std::string_view canonical = canonicalHeaderNameView(name);
  auto first = std::find_if(headers_.begin(), headers_.end(),
                            [&](const Header& h) { return iequals(h.name, canonical); });
  if (first == headers_.end()) {
    headers_.push_back(Header{std::string(canonical), std::move(value)});
    return;
  }
  first->value = std::move(value);
  headers_.erase(std::remove_if(std::next(first), headers_.end(),
                                [&](const Header& h) { return iequals(h.name, canonical); }),
                 headers_.end());
}

std::size_t Message::removeHeader(std::string_view name) {
  const std::string_view canonical = canonicalHeaderNameView(name);
  const auto before = headers_.size();
  headers_.erase(std::remove_if(headers_.begin(), headers_.end(),
                                [&](const Header& h) { return iequals(h.name, canonical); }),
                 headers_.end());
  return before - headers_.size();
}

std::string_view reasonPhrase(int status_code) {
  // RFC 3261 §21 and the IANA "Response Codes" registry.
  switch (status_code) {
    case 100:
      return "Trying";
    case 180:
      return "Ringing";
    case 181:
      return "Call Is Being Forwarded";
    case 182:
      return "Queued";
    case 183:
      return "Session Progress";
    case 199:
      return "Early Dialog Terminated";
    case 200:
      return "OK";
    case 202:
      return "Accepted";
    case 204:
      return "No Notification";
    case 300:
      return "Multiple Choices";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Moved Temporarily";
    case 305:
      return "Use Proxy";
    case 380:
      return "Alternative Service";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 402:
      return "Payment Required";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 407:
      return "Proxy Authentication Required";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Conditional Request Failed";
    case 413:
      return "Request Entity Too Large";
    case 414:
      return "Request-URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Unsupported URI Scheme";
    case 417:
      return "Unknown Resource-Priority";
    case 420:
      return "Bad Extension";
    case 421:
      return "Extension Required";
    case 422:
      return "Session Interval Too Small";
    case 423:
      return "Interval Too Brief";
    case 424:
      return "Bad Location Information";
    case 428:
      return "Use Identity Header";
    case 429:
      return "Provide Referrer Identity";
    case 430:
      return "Flow Failed";
    case 433:
      return "Anonymity Disallowed";
    case 436:
      return "Bad Identity Info";
    case 437:
      return "Unsupported Credential";
    case 438:
      return "Invalid Identity Header";
    case 439:
      return "First Hop Lacks Outbound Support";
    case 440:
      return "Max-Breadth Exceeded";
    case 469:
      return "Bad Info Package";
    case 470:
      return "Consent Needed";
    case 480:
      return "Temporarily Unavailable";
    case 481:
      return "Call/Transaction Does Not Exist";
    case 482:
      return "Loop Detected";
    case 483:
      return "Too Many Hops";
    case 484:
      return "Address Incomplete";
    case 485:
      return "Ambiguous";
    case 486:
      return "Busy Here";
    case 487:
      return "Request Terminated";
    case 488:
      return "Not Acceptable Here";
    case 489:
      return "Bad Event";
    case 491:
      return "Request Pending";
    case 493:
      return "Undecipherable";
    case 494:
      return "Security Agreement Required";
    case 500:
      return "Server Internal Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Server Time-out";
    case 505:
      return "Version Not Supported";
    case 513:
      return "Message Too Large";
    case 555:
      return "Push Notification Service Not Supported";
    case 580:
      return "Precondition Failure";
    case 600:
      return "Busy Everywhere";
    case 603:
      return "Decline";
    case 604:
      return "Does Not Exist Anywhere";
    case 606:
      return "Not Acceptable";
    case 607:
      return "Unwanted";
    case 608:
      return "Rejected";
    default:
      break;
  }
  // Unknown codes: the phrase of their class (RFC 3261 §8.1.3.2 treats them as x00).
  switch (status_code / 100) {
    case 1:
      return "Provisional";
    case 2:
      return "Success";
    case 3:
      return "Redirection";
    case 4:
      return "Client Error";
    case 5:
      return "Server Error";
    case 6:
      return "Global Failure";
    default:
      return "Unknown";
  }
}

}  // namespace siprecd::sip
