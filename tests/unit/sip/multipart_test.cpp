#include "sip/multipart.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace siprecd::sip {
namespace {

using ::testing::HasSubstr;

constexpr std::size_t kMaxParts = 16;

TEST(ParseMultipart, SplitsPartsAndGivesTheLastCrlfToTheDelimiter) {
  const std::string body =
      "--b1\r\n"
      "Content-Type: application/sdp\r\n"
      "\r\n"
      "v=0\r\n"
      "\r\n"
      "--b1\r\n"
      "content-type: application/rs-metadata+xml\r\n"
      "Content-Disposition: recording-session\r\n"
      "\r\n"
      "<recording/>\r\n"
      "--b1--\r\n";
  auto parts = parseMultipart(body, "b1", kMaxParts);
  ASSERT_TRUE(parts) << parts.error().message;
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].contentType(), "application/sdp");
  // RFC 2046 §5.1.1: the CRLF before "--b1" belongs to the delimiter, the one before it
  // belongs to the body.
  EXPECT_EQ((*parts)[0].body, "v=0\r\n");
  EXPECT_EQ((*parts)[1].headers[0].name, "Content-Type");
  EXPECT_EQ((*parts)[1].contentType(), "application/rs-metadata+xml");
  EXPECT_EQ((*parts)[1].header("content-disposition"), "recording-session");
  EXPECT_EQ((*parts)[1].body, "<recording/>");
}

TEST(ParseMultipart, IgnoresPreambleEpilogueAndTransportPadding) {
  const std::string body =
      "This is a preamble.\r\n"
      "--b1 \t\r\n"
      "Content-Type: text/plain\r\n"
      "\r\n"
      "one\r\n"
      "--b1--  \r\n"
      "This is the epilogue, with --b1 in it.\r\n";
  auto parts = parseMultipart(body, "b1", kMaxParts);
  ASSERT_TRUE(parts) << parts.error().message;
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].body, "one");
}

TEST(ParseMultipart, AcceptsBareLineFeeds) {
  const std::string body =
      "--b1\nContent-Type: application/sdp\n\nv=0\n--b1\nContent-Type: text/plain\n\nhi\n--b1--\n";
  auto parts = parseMultipart(body, "b1", kMaxParts);
  ASSERT_TRUE(parts) << parts.error().message;
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].body, "v=0");
  EXPECT_EQ((*parts)[1].body, "hi");
}

TEST(ParseMultipart, TakesTheBoundaryUnquotedWithSpecials) {
  const std::string boundary = "simple boundary'()+_,-./:=?";
  const std::string body = "--" + boundary + "\r\n\r\nno headers\r\n--" + boundary + "--";
  auto parts = parseMultipart(body, boundary, kMaxParts);
  ASSERT_TRUE(parts) << parts.error().message;
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_TRUE((*parts)[0].headers.empty());
  EXPECT_EQ((*parts)[0].contentType(), "text/plain");
  EXPECT_EQ((*parts)[0].body, "no headers");
}

TEST(ParseMultipart, DoesNotSplitOnLinesThatOnlyStartWithTheBoundary) {
  const std::string body =
      "--b1\r\nContent-Type: text/plain\r\n\r\nline\r\n--b1x not a delimiter\r\n--b1--\r\n";
  auto parts = parseMultipart(body, "b1", kMaxParts);
  ASSERT_TRUE(parts) << parts.error().message;
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].body, "line\r\n--b1x not a delimiter");
}

TEST(ParseMultipart, KeepsBinaryContentWithNulBytes) {
  std::string binary("\x30\x82\x00\x01\r\n\x00\xff", 8);
  const std::string body =
      "--b\r\nContent-Type: application/octet-stream\r\n\r\n" + binary + "\r\n--b--\r\n";
  auto parts = parseMultipart(body, "b", kMaxParts);
  ASSERT_TRUE(parts) << parts.error().message;
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].body, binary);
}

TEST(ParseMultipart, JoinsFoldedPartHeadersAndCanonicalisesNames) {
  const std::string body =
      "--b\r\nc: application/sdp;\r\n  charset=utf-8\r\nCONTENT-ID: <x@y>\r\n\r\nv=0\r\n--b--";
  auto parts = parseMultipart(body, "b", kMaxParts);
  ASSERT_TRUE(parts) << parts.error().message;
  ASSERT_EQ((*parts)[0].headers.size(), 2u);
  EXPECT_EQ((*parts)[0].headers[0].name, "Content-Type");
  EXPECT_EQ((*parts)[0].headers[0].value, "application/sdp; charset=utf-8");
  EXPECT_EQ((*parts)[0].headers[1].name, "Content-ID");
  EXPECT_EQ((*parts)[0].contentType(), "application/sdp");
}

TEST(ParseMultipart, AcceptsAPartWithHeadersOnly) {
  auto parts = parseMultipart("--b\r\nContent-Type: text/plain\r\n--b--\r\n", "b", kMaxParts);
  ASSERT_TRUE(parts) << parts.error().message;
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].headers.size(), 1u);
  EXPECT_EQ((*parts)[0].body, "");
}

TEST(ParseMultipart, RefusesMissingBoundaryOrCloseDelimiter) {
  const std::string open = "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b\r\n\r\ny\r\n";
  auto unclosed = parseMultipart(open, "b", kMaxParts);
  ASSERT_FALSE(unclosed);
  EXPECT_EQ(unclosed.error().code, 400);
  EXPECT_THAT(unclosed.error().message, HasSubstr("closing delimiter"));
  auto absent = parseMultipart(open, "other", kMaxParts);
  ASSERT_FALSE(absent);
  EXPECT_THAT(absent.error().message, HasSubstr("not found"));
  EXPECT_FALSE(parseMultipart(open, "", kMaxParts));
  EXPECT_FALSE(parseMultipart("--b--\r\n", "b", kMaxParts));
  EXPECT_FALSE(parseMultipart(open, std::string(71, 'x'), kMaxParts));
}

TEST(ParseMultipart, RefusesMalformedPartHeaders) {
  auto parts = parseMultipart("--b\r\nnot a header\r\n\r\nx\r\n--b--", "b", kMaxParts);
  ASSERT_FALSE(parts);
  EXPECT_EQ(parts.error().code, 400);
}

TEST(ParseMultipart, EnforcesThePartLimit) {
  std::string body;
  for (int i = 0; i < 5; ++i) {
    body += "--b\r\n\r\npart\r\n";
  }
  body += "--b--\r\n";
  EXPECT_TRUE(parseMultipart(body, "b", 5));
  auto limited = parseMultipart(body, "b", 4);
  ASSERT_FALSE(limited);
  EXPECT_EQ(limited.error().code, 400);
  EXPECT_THAT(limited.error().message, HasSubstr("body parts"));
}

TEST(SerializeMultipart, RoundTripsThroughTheParser) {
  std::vector<BodyPart> parts(3);
  parts[0].headers = {{"Content-Type", "application/sdp"}};
  parts[0].body = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n";
  parts[1].headers = {{"Content-Type", "application/rs-metadata+xml"},
                      {"Content-Disposition", "recording-session"}};
  parts[1].body = "<recording xmlns='urn:ietf:params:xml:ns:recording:1'/>";
  parts[2].body = "";
  const std::string body = serializeMultipart(parts, "boundary42");
  EXPECT_EQ(body.rfind("--boundary42--\r\n"), body.size() - 16);
  auto parsed = parseMultipart(body, "boundary42", kMaxParts);
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_EQ(parsed->size(), 3u);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    EXPECT_EQ((*parsed)[i].body, parts[i].body) << i;
    ASSERT_EQ((*parsed)[i].headers.size(), parts[i].headers.size()) << i;
    for (std::size_t h = 0; h < parts[i].headers.size(); ++h) {
      EXPECT_EQ((*parsed)[i].headers[h].name, parts[i].headers[h].name);
      EXPECT_EQ((*parsed)[i].headers[h].value, parts[i].headers[h].value);
    }
  }
}

}  // namespace
}  // namespace siprecd::sip
