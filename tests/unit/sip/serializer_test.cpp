#include "sip/serializer.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/strings.hpp"
#include "sip/parser.hpp"

namespace siprecd::sip {
namespace {

const std::filesystem::path kDataDir = std::filesystem::path(SIPRECD_TEST_DATA_DIR) / "sip";

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

std::vector<Header> withoutContentLength(const Message& message) {
  std::vector<Header> headers;
  for (const Header& header : message.headers()) {
    if (!iequals(header.name, "Content-Length")) {
      headers.push_back(header);
    }
  }
  return headers;
}

// parse(serialize(m)) == m: start line, fields (Content-Length is rewritten), body.
void expectSameMessage(const Message& a, const Message& b, const std::string& context) {
  EXPECT_EQ(a.isRequest(), b.isRequest()) << context;
  EXPECT_EQ(a.method(), b.method()) << context;
  EXPECT_EQ(a.requestUri(), b.requestUri()) << context;
  EXPECT_EQ(a.statusCode(), b.statusCode()) << context;
  EXPECT_EQ(a.reason(), b.reason()) << context;
  const auto ha = withoutContentLength(a);
  const auto hb = withoutContentLength(b);
  ASSERT_EQ(ha.size(), hb.size()) << context;
  for (std::size_t i = 0; i < ha.size(); ++i) {
    EXPECT_EQ(ha[i].name, hb[i].name) << context;
    EXPECT_EQ(ha[i].value, hb[i].value) << context;
  }
  EXPECT_EQ(a.body(), b.body()) << context;
  EXPECT_EQ(b.header("Content-Length"), std::to_string(b.body().size())) << context;
}

TEST(Serialize, WritesStartLineHeadersInOrderAndContentLength) {
  Message request = Message::request("INVITE", "sip:bob@example.com");
  request.addHeader("Via", "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1");
  request.addHeader("l", "999");
  request.addHeader("Call-ID", "abc");
  request.addHeader("Content-Length", "7");
  request.setBody("v=0\r\n");
  EXPECT_EQ(serialize(request),
            "INVITE sip:bob@example.com SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"
            "Content-Length: 5\r\n"
            "Call-ID: abc\r\n"
            "\r\n"
            "v=0\r\n");
}

TEST(Serialize, AppendsContentLengthWhenAbsent) {
  Message response = Message::response(200, "OK");
  response.addHeader("CSeq", "1 OPTIONS");
  EXPECT_EQ(serialize(response), "SIP/2.0 200 OK\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(serialize(Message::response(100, "")), "SIP/2.0 100 \r\nContent-Length: 0\r\n\r\n");
}

TEST(Serialize, FlattensLineBreaksInHandBuiltValues) {
  Message request = Message::request("OPTIONS", "sip:a@b");
  request.addHeader("Subject", "one\r\nInjected: yes");
  EXPECT_EQ(serialize(request),
            "OPTIONS sip:a@b SIP/2.0\r\nSubject: one  Injected: yes\r\nContent-Length: 0\r\n\r\n");
}

TEST(Serialize, RoundTripsEveryValidTortureMessageAndTheSiprecInvite) {
  std::vector<std::filesystem::path> paths;
  for (const auto& entry : std::filesystem::directory_iterator(kDataDir / "torture" / "valid")) {
    paths.push_back(entry.path());
  }
  paths.push_back(kDataDir / "siprec_invite.sip");
  for (const auto& path : paths) {
    const std::string context = path.filename().string();
    auto original = parseMessage(readFile(path), Framing::Datagram, ParseLimits{});
    ASSERT_TRUE(original) << context << ": " << original.error().message;
    const std::string wire = serialize(*original);
    for (Framing framing : {Framing::Datagram, Framing::Stream}) {
      auto reparsed = parseMessage(wire, framing, ParseLimits{});
      ASSERT_TRUE(reparsed) << context << ": " << reparsed.error().message;
      expectSameMessage(*original, *reparsed, context);
      EXPECT_EQ(serialize(*reparsed), wire) << context;
    }
  }
}

TEST(Serialize, NormalisesFoldingAndCompactNames) {
  const std::string text =
      "OPTIONS sip:a@example.com SIP/2.0\r\n"
      "v: SIP/2.0/UDP h\r\n ;branch=z9hG4bK1\r\n"
      "f: <sip:b@example.com>;tag=1\r\nt: <sip:a@example.com>\r\ni: abc@h\r\n"
      "CSeq: 1 OPTIONS\r\nl: 00\r\n\r\n";
  auto message = parseMessage(text, Framing::Datagram, ParseLimits{});
  ASSERT_TRUE(message) << message.error().message;
  EXPECT_EQ(serialize(*message),
            "OPTIONS sip:a@example.com SIP/2.0\r\n"
            "Via: SIP/2.0/UDP h ;branch=z9hG4bK1\r\n"
            "From: <sip:b@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\nCall-ID: abc@h\r\n"
            "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n");
}

}  // namespace
}  // namespace siprecd::sip
