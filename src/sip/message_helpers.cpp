#include "sip/message_helpers.hpp"

#include <vector>

namespace siprecd::sip {

Result<Via> topVia(const Message& message) {
  const auto values = message.headerValues("Via");
  if (values.empty()) {
    return fail("missing Via", 400);
  }
  auto via = parseVia(values.front());
  if (!via) {
    return fail("malformed Via: " + via.error().message, 400);
  }
  return via;
}

void replaceTopVia(Message& message, const Via& via) {
  const auto values = message.headerValues("Via");
  std::vector<std::string> kept;
  kept.reserve(values.size());
  for (std::size_t i = 1; i < values.size(); ++i) {
    kept.emplace_back(values[i]);
  }
  message.removeHeader("Via");
  for (auto it = kept.rbegin(); it != kept.rend(); ++it) {
    message.prependHeader("Via", std::move(*it));
  }
  message.prependHeader("Via", via.toString());
}

Result<CSeq> cseqOf(const Message& message) {
  const auto value = message.header("CSeq");
  if (!value) {
    return fail("missing CSeq", 400);
  }
  auto cseq = parseCSeq(*value);
  if (!cseq) {
    return fail("malformed CSeq: " + cseq.error().message, 400);
  }
  return cseq;
}

std::string headerTag(const Message& message, std::string_view header_name) {
  const auto value = message.header(header_name);
  if (!value) {
    return {};
  }
  const auto parsed = parseNameAddr(*value);
  if (!parsed) {
    return {};
  }
  const auto tag = parsed->params.get("tag");
  return tag ? std::string(*tag) : std::string();
}

bool hasMagicCookie(std::string_view branch) {
  return branch.size() > 7 && branch.substr(0, 7) == "z9hG4bK";
}

}  // namespace siprecd::sip
