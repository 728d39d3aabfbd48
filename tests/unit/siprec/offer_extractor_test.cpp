#include "siprec/offer_extractor.hpp"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "sip/parser.hpp"

namespace siprecd::siprec {
namespace {

sip::Message parse(std::string text) {
  auto message = sip::parseMessage(text, sip::Framing::Datagram, sip::ParseLimits{});
  EXPECT_TRUE(message.has_value()) << (message ? "" : message.error().message);
  return message ? *message : sip::Message::request("INVITE", "sip:x@y");
}

std::string readFixture(const std::string& name) {
  std::ifstream file(std::string(SIPRECD_TEST_DATA_DIR) + "/" + name, std::ios::binary);
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

std::string invite(std::string_view extra_headers, std::string_view content_type,
                   std::string_view body) {
  std::string text =
      "INVITE sip:rec@127.0.0.1 SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n"
      "From: <sip:src@127.0.0.1>;tag=a\r\n"
      "To: <sip:rec@127.0.0.1>\r\n"
      "Call-ID: c1\r\n"
      "CSeq: 1 INVITE\r\n"
      "Contact: <sip:src@127.0.0.1:5070>\r\n";
  text += extra_headers;
  if (!content_type.empty()) {
    text += "Content-Type: " + std::string(content_type) + "\r\n";
  }
  text += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  text += body;
  return text;
}

constexpr std::string_view kSdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";

TEST(OfferExtractor, RecognisesSiprecByOptionTagOrFeatureTag) {
  EXPECT_TRUE(isSiprecRequest(parse(invite("Require: siprec\r\n", "", ""))));
  EXPECT_TRUE(isSiprecRequest(parse(invite("Supported: timer, SIPREC\r\n", "", ""))));
  auto with_src = invite("", "", "");
  with_src.replace(with_src.find("<sip:src@127.0.0.1:5070>"), 24,
                   "<sip:src@127.0.0.1:5070>;+sip.src");
  EXPECT_TRUE(isSiprecRequest(parse(with_src)));
  EXPECT_FALSE(isSiprecRequest(parse(invite("Supported: timer\r\n", "", ""))));
}

TEST(OfferExtractor, SplitsTheSiprecMultipartFixture) {
  auto request = parse(readFixture("sip/siprec_invite.sip"));
  auto body = extractSiprecBody(request, 16);
  ASSERT_TRUE(body.has_value()) << body.error().message;
  ASSERT_TRUE(body->sdp.has_value());
  ASSERT_TRUE(body->metadata_xml.has_value());
  EXPECT_NE(body->sdp->find("a=label:2"), std::string::npos);
  EXPECT_NE(body->metadata_xml->find("urn:ietf:params:xml:ns:recording:1"), std::string::npos);
}

TEST(OfferExtractor, FindsPartsInAnyOrderWithQuotedBoundary) {
  std::string multipart =
      "preamble\r\n"
      "--b1\r\nContent-Type: application/rs-metadata+xml\r\n\r\n<recording/>\r\n"
      "--b1\r\nContent-Type: application/sdp\r\n\r\n" +
      std::string(kSdp) + "\r\n--b1--\r\n";
  auto body =
      extractSiprecBody(parse(invite("", "multipart/mixed; boundary=\"b1\"", multipart)), 16);
  ASSERT_TRUE(body.has_value()) << body.error().message;
  EXPECT_EQ(*body->sdp, kSdp);
  EXPECT_EQ(*body->metadata_xml, "<recording/>");
}

TEST(OfferExtractor, AcceptsPlainSdpAndEmptyBodies) {
  auto plain = extractSiprecBody(parse(invite("", "application/sdp", kSdp)), 16);
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(*plain->sdp, kSdp);
  EXPECT_FALSE(plain->metadata_xml.has_value());

  auto empty = extractSiprecBody(parse(invite("", "", "")), 16);
  ASSERT_TRUE(empty.has_value());
  EXPECT_FALSE(empty->sdp.has_value());
}

TEST(OfferExtractor, RefusesUnsupportedTypesAndBrokenMultipart) {
  auto isup = extractSiprecBody(parse(invite("", "application/isup", "xx")), 16);
  ASSERT_FALSE(isup.has_value());
  EXPECT_EQ(isup.error().code, 415);

  auto no_boundary = extractSiprecBody(parse(invite("", "multipart/mixed", "--x\r\n")), 16);
  ASSERT_FALSE(no_boundary.has_value());
  EXPECT_EQ(no_boundary.error().code, 400);

  auto unterminated = extractSiprecBody(
      parse(invite("", "multipart/mixed;boundary=zz", "no delimiter at all")), 16);
  ASSERT_FALSE(unterminated.has_value());
  EXPECT_EQ(unterminated.error().code, 400);
}

}  // namespace
}  // namespace siprecd::siprec
