#include "sip/response_builder.hpp"

#include <utility>

#include "base/strings.hpp"
#include "sip/header_fields.hpp"

namespace siprecd::sip {
namespace {

bool toHasTag(std::string_view to_value) {
  const auto parsed = parseNameAddr(to_value);
  return parsed && parsed->params.has("tag");
}

}  // namespace

Message makeResponse(const Message& request, int status_code, std::string_view to_tag) {
  return makeResponseWithReason(request, status_code, std::string(reasonPhrase(status_code)),
                                to_tag);
}

Message makeResponseWithReason(const Message& request, int status_code, std::string reason,
                               std::string_view to_tag) {
  Message response = Message::response(status_code, std::move(reason));
  for (const Header& header : request.headers()) {
    if (iequals(header.name, "Via")) {
      response.addHeader(header.name, header.value);
    }
  }
  if (const auto from = request.header("From")) {
    response.addHeader("From", std::string(*from));
  }
  if (const auto to = request.header("To")) {
    std::string value(*to);
    if (!to_tag.empty() && !toHasTag(value)) {
      value += ";tag=";
      value += to_tag;
    }
    response.addHeader("To", std::move(value));
  }
  if (const auto call_id = request.header("Call-ID")) {
    response.addHeader("Call-ID", std::string(*call_id));
  }
  if (const auto cseq = request.header("CSeq")) {
    response.addHeader("CSeq", std::string(*cseq));
  }
  if (request.method() == "INVITE" && status_code > 100 && status_code < 300) {
    for (const Header& header : request.headers()) {
      if (iequals(header.name, "Record-Route")) {
        response.addHeader(header.name, header.value);
      }
    }
  }
  return response;
}

void addWarning(Message& response, std::string_view agent, std::string_view text) {
  std::string value = "399 ";
  value += agent.empty() ? std::string_view("siprecd") : agent;
  value += " \"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      value += '\\';
      value += c;
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      value += ' ';
    } else {
      value += c;
    }
  }
  value += '"';
  response.addHeader("Warning", std::move(value));
}

}  // namespace siprecd::sip
