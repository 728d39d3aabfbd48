#include "storage/s3_xml.hpp"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "base/strings.hpp"

namespace siprecd::storage {
namespace {

constexpr std::size_t kMaxTextBytes = 200;

std::string unescapeXml(std::string_view text) {
  static constexpr std::array<std::pair<std::string_view, char>, 5> kEntities{
      {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}}};
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '&') {
      const auto entity = std::find_if(kEntities.begin(), kEntities.end(), [&](const auto& e) {
        return text.substr(i).starts_with(e.first);
      });
      if (entity != kEntities.end()) {
        out.push_back(entity->second);
        i += entity->first.size() - 1;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

/// The offset just past the start tag `<name>` or `<name attr...>` (not `<nameX>`), and
/// of its end; npos when absent.
std::pair<std::size_t, std::size_t> elementSpan(std::string_view xml, std::string_view name,
                                                std::size_t from = 0) {
  const std::string open = "<" + std::string(name);
  for (std::size_t at = xml.find(open, from); at != std::string_view::npos;
       at = xml.find(open, at + 1)) {
    const std::size_t after = at + open.size();
    if (after >= xml.size()) {
      break;
    }
    const char next = xml[after];
    if (next != '>' && next != ' ' && next != '\t' && next != '\r' && next != '\n' && next != '/') {
      continue;
    }
    const std::size_t close = xml.find('>', after);
    if (close == std::string_view::npos) {
      break;
    }
    if (xml[close - 1] == '/') {
      return {close + 1, close + 1};  // <name/>: empty
    }
    const std::size_t end = xml.find("</" + std::string(name) + ">", close + 1);
    if (end == std::string_view::npos) {
      break;
    }
    return {close + 1, end};
  }
  return {std::string_view::npos, std::string_view::npos};
}

}  // namespace

std::optional<std::string> xmlElementText(std::string_view xml, std::string_view name) {
  const auto [begin, end] = elementSpan(xml, name);
  if (begin == std::string_view::npos) {
    return std::nullopt;
  }
  return unescapeXml(xml.substr(begin, end - begin));
}

std::optional<S3ErrorDocument> parseS3Error(std::string_view body) {
  const auto [begin, end] = elementSpan(body, "Error");
  if (begin == std::string_view::npos) {
    return std::nullopt;
  }
  const std::string_view error = body.substr(begin, end - begin);
  auto code = xmlElementText(error, "Code");
  if (!code) {
    return std::nullopt;
  }
  S3ErrorDocument document{
      printableExcerpt(*code, kMaxTextBytes),
      printableExcerpt(xmlElementText(error, "Message").value_or(""), kMaxTextBytes)};
  if (document.code.empty()) {
    return std::nullopt;
  }
  return document;
}

std::string xmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

bool isRetryableS3Error(long status, std::string_view code) {
  static constexpr std::array<std::string_view, 7> kTransient{
      "RequestTimeout",      "SlowDown",   "InternalError",
      "ServiceUnavailable",  "Throttling", "ThrottlingException",
      "RequestLimitExceeded"};
  return status >= 500 || status == 408 || status == 429 ||
         std::find(kTransient.begin(), kTransient.end(), code) != kTransient.end();
}

std::string completeMultipartUploadXml(const std::vector<S3CompletedPart>& parts) {
  std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  for (const S3CompletedPart& part : parts) {
    xml += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>{}</ETag>", part.number,
                       xmlEscape(part.etag));
    if (!part.checksum_sha256.empty()) {
      xml += fmt::format("<ChecksumSHA256>{}</ChecksumSHA256>", xmlEscape(part.checksum_sha256));
    }
    xml += "</Part>";
  }
  xml += "</CompleteMultipartUpload>";
  return xml;
}

}  // namespace siprecd::storage
