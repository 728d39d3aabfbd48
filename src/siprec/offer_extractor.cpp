#include "siprec/offer_extractor.hpp"

#include "base/strings.hpp"
#include "sip/header_fields.hpp"
#include "sip/multipart.hpp"

namespace siprecd::siprec {
namespace {

constexpr std::string_view kSdpType = "application/sdp";
constexpr std::string_view kMetadataType = "application/rs-metadata+xml";

}  // namespace

bool isSiprecRequest(const sip::Message& request) {
  if (sip::hasOptionTag(request.headerValues("Require"), "siprec") ||
      sip::hasOptionTag(request.headerValues("Supported"), "siprec")) {
    return true;
  }
  for (std::string_view contact : request.headerValues("Contact")) {
    auto address = sip::parseNameAddr(contact);
    if (address && address->params.has("+sip.src")) {
      return true;
    }
  }
  return false;
}

Result<SiprecBody> extractSiprecBody(const sip::Message& request, std::size_t max_parts) {
  SiprecBody result;
  if (request.body().empty()) {
    return result;
  }
  auto content_type_header = request.header("Content-Type");
  if (!content_type_header) {
    return fail("body without Content-Type", 400);
  }
  auto content_type = sip::parseMediaType(*content_type_header);
  if (!content_type) {
    return fail("malformed Content-Type: " + content_type.error().message, 400);
  }
  if (content_type->type == kSdpType) {
    result.sdp = request.body();
    return result;
  }
  if (content_type->type == kMetadataType) {
    result.metadata_xml = request.body();
    return result;
  }
  if (content_type->type != "multipart/mixed") {
    return fail("unsupported Content-Type " + content_type->type, 415);
  }
  auto boundary = content_type->params.get("boundary");
  if (!boundary || boundary->empty()) {
    return fail("multipart/mixed without boundary", 400);
  }
  auto parts = sip::parseMultipart(request.body(), *boundary, max_parts);
  if (!parts) {
    return fail("malformed multipart body: " + parts.error().message, 400);
  }
  for (const sip::BodyPart& part : *parts) {
    std::string type = part.contentType();
    if (type == kSdpType && !result.sdp) {
      result.sdp = part.body;
    } else if (type == kMetadataType && !result.metadata_xml) {
      result.metadata_xml = part.body;
    }
  }
  return result;
}

}  // namespace siprecd::siprec
