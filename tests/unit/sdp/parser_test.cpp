#include "sdp/parser.hpp"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace siprecd::sdp {
namespace {

std::string readFixture(const std::string& name) {
  std::ifstream file(std::string(SIPRECD_TEST_DATA_DIR) + "/sdp/" + name, std::ios::binary);
  std::stringstream buffer;
  buffer << file.rdbuf();
  return buffer.str();
}

std::string withCrlf(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') {
      out += '\r';
    }
    out += c;
  }
  return out;
}

// The error message of a parse expected to fail.
std::string errorOf(std::string_view text, int expected_code = 400) {
  auto sdp = parseSdp(text);
  EXPECT_FALSE(sdp) << "parsed: " << text;
  if (sdp) {
    return "";
  }
  EXPECT_EQ(sdp.error().code, expected_code);
  return sdp.error().message;
}

constexpr std::string_view kHead =
    "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n";

TEST(SdpParser, ParsesTypicalSiprecOffer) {
  auto sdp = parseSdp(readFixture("siprec_offer.sdp"));
  ASSERT_TRUE(sdp) << sdp.error().message;
  EXPECT_EQ(sdp->origin.username, "SBC");
  EXPECT_EQ(sdp->origin.session_id, "1718000000");
  EXPECT_EQ(sdp->origin.address, "192.0.2.10");
  EXPECT_EQ(sdp->session_name, "SIPREC");
  ASSERT_TRUE(sdp->connection);
  EXPECT_EQ(sdp->connection->address, "192.0.2.10");
  ASSERT_EQ(sdp->timings.size(), 1u);
  ASSERT_EQ(sdp->media.size(), 2u);
  const MediaDescription& first = sdp->media[0];
  EXPECT_EQ(first.media, "audio");
  EXPECT_EQ(first.port, 20000);
  EXPECT_EQ(first.proto, "RTP/AVP");
  EXPECT_EQ(first.formats, (std::vector<std::string>{"0", "8", "101"}));
  EXPECT_EQ(first.attributes.size(), 7u);
  EXPECT_EQ(first.label(), "1");
  EXPECT_EQ(first.direction(), Direction::SendOnly);
  EXPECT_EQ(first.rtpmap("101"), (RtpMap{"telephone-event", 8000, 1}));
  EXPECT_EQ(sdp->media[1].port, 20002);
  EXPECT_EQ(sdp->media[1].label(), "2");
}

TEST(SdpParser, AcceptsCrlfAndBareLfAlike) {
  std::string lf = readFixture("siprec_offer.sdp");
  auto from_lf = parseSdp(lf);
  auto from_crlf = parseSdp(withCrlf(lf));
  ASSERT_TRUE(from_lf);
  ASSERT_TRUE(from_crlf);
  EXPECT_EQ(*from_lf, *from_crlf);
}

TEST(SdpParser, ToleratesBlankLinesTrailingSpaceAndMissingFinalNewline) {
  auto sdp = parseSdp("v=0\r\n\r\no=- 1 1 IN IP4 192.0.2.1  \r\ns=x\t\r\nm=audio  4000  RTP/AVP 0");
  ASSERT_TRUE(sdp) << sdp.error().message;
  EXPECT_EQ(sdp->origin.address, "192.0.2.1");
  EXPECT_EQ(sdp->session_name, "x");
  ASSERT_EQ(sdp->media.size(), 1u);
  EXPECT_EQ(sdp->media[0].formats, (std::vector<std::string>{"0"}));
}

TEST(SdpParser, DefaultsMissingSessionNameAndTiming) {
  auto sdp = parseSdp("v=0\no=- 1 1 IN IP4 192.0.2.1\nm=audio 4000 RTP/AVP 0\n");
  ASSERT_TRUE(sdp);
  EXPECT_EQ(sdp->session_name, "-");
  ASSERT_EQ(sdp->timings.size(), 1u);
  EXPECT_EQ(sdp->timings[0].start, 0u);
  EXPECT_EQ(sdp->timings[0].stop, 0u);
}

TEST(SdpParser, KeepsUnknownLinesAttributesAndBandwidthInOrder) {
  auto sdp = parseSdp(readFixture("siprec_offer_mixed.sdp"));
  ASSERT_TRUE(sdp) << sdp.error().message;
  EXPECT_EQ(sdp->extra_lines, (std::vector<Line>{{'i', "Recording of call 42"},
                                                 {'u', "http://example.com/sbc"},
                                                 {'e', "ops@example.com"},
                                                 {'k', "prompt"}}));
  EXPECT_EQ(sdp->bandwidths, (std::vector<std::string>{"AS:256"}));
  EXPECT_EQ(sdp->attributes,
            (std::vector<Attribute>{{"sendonly", std::nullopt}, {"group", "BUNDLE 1 2"}}));
  ASSERT_EQ(sdp->media.size(), 4u);
  const MediaDescription& first = sdp->media[0];
  EXPECT_EQ(first.bandwidths, (std::vector<std::string>{"AS:64"}));
  ASSERT_TRUE(first.connection);
  EXPECT_EQ(first.connection->addr_type, "IP6");
  EXPECT_EQ(first.connection->address, "2001:db8::20");
  EXPECT_EQ(first.attributes.back(), (Attribute{"x-vendor-thing", "opaque value"}));
  EXPECT_EQ(sdp->media[1].port, 0);
  EXPECT_EQ(sdp->media[2].media, "video");
  EXPECT_EQ(sdp->media[3].proto, "RTP/SAVP");
}

TEST(SdpParser, DistinguishesPropertyAndEmptyValueAttributes) {
  auto sdp = parseSdp(std::string(kHead) + "m=audio 4000 RTP/AVP 0\na=rtcp-mux\na=x:\na=y:a:b\n");
  ASSERT_TRUE(sdp);
  EXPECT_EQ(sdp->media[0].attributes,
            (std::vector<Attribute>{{"rtcp-mux", std::nullopt}, {"x", ""}, {"y", "a:b"}}));
}

TEST(SdpParser, ParsesPortCountAndIpv6Origin) {
  auto sdp = parseSdp(
      "v=0\no=alice 2890844526 2890842807 IN IP6 2001:db8::1\ns=-\nc=IN IP6 2001:db8::1\n"
      "t=0 0\nm=audio 49170/2 RTP/AVP 0\n");
  ASSERT_TRUE(sdp) << sdp.error().message;
  EXPECT_EQ(sdp->origin.addr_type, "IP6");
  EXPECT_EQ(sdp->media[0].port, 49170);
  EXPECT_EQ(sdp->media[0].port_count, 2);
}

TEST(SdpParser, KeepsRepeatLinesWithTheirTiming) {
  auto sdp = parseSdp(
      "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=3034423619 3042462419\nr=7d 1h 0 25h\n"
      "z=2882844526 -1h\n");
  ASSERT_TRUE(sdp) << sdp.error().message;
  ASSERT_EQ(sdp->timings.size(), 1u);
  EXPECT_EQ(sdp->timings[0].start, 3034423619u);
  EXPECT_EQ(sdp->timings[0].repeats, (std::vector<std::string>{"7d 1h 0 25h"}));
  EXPECT_EQ(sdp->extra_lines, (std::vector<Line>{{'z', "2882844526 -1h"}}));
}

TEST(SdpParser, RejectsMissingOrMisplacedVersion) {
  EXPECT_EQ(errorOf(""), "SDP is empty: expected v=0");
  EXPECT_EQ(errorOf("o=- 1 1 IN IP4 192.0.2.1\nv=0\n"), "SDP line 1: the first line must be v=0");
  EXPECT_EQ(errorOf("v=1\n"), "SDP line 1: v= must be 0");
  EXPECT_EQ(errorOf("v=0\nv=0\n"), "SDP line 2: duplicate v=");
  EXPECT_EQ(errorOf("v=0\ns=-\n"), "SDP has no o= line");
}

TEST(SdpParser, RejectsMalformedOrigin) {
  EXPECT_EQ(errorOf("v=0\no=- 1 1 IN IP4\n"),
            "SDP line 2: o= needs 6 fields: username sess-id sess-version nettype addrtype "
            "address");
  EXPECT_EQ(errorOf("v=0\no=- x1 1 IN IP4 192.0.2.1\n"), "SDP line 2: o= sess-id is not a number");
  EXPECT_EQ(errorOf("v=0\no=- 1 -1 IN IP4 192.0.2.1\n"),
            "SDP line 2: o= sess-version is not a number");
  EXPECT_EQ(errorOf("v=0\no=- 1 1 IN IP4 a\no=- 1 1 IN IP4 a\n"), "SDP line 3: duplicate o=");
}

TEST(SdpParser, RejectsMalformedMediaLinesNamingTheLine) {
  std::string head(kHead);
  EXPECT_EQ(errorOf(head + "m=audio x RTP/AVP 0\n"), "SDP line 6: m= port is not a number");
  EXPECT_EQ(errorOf(head + "m=audio 65536 RTP/AVP 0\n"), "SDP line 6: m= port is not a number");
  EXPECT_EQ(errorOf(head + "m=audio 4000/0 RTP/AVP 0\n"),
            "SDP line 6: m= port count is not a number");
  EXPECT_EQ(errorOf(head + "m=audio 4000 RTP/AVP 0\nm=audio 4000 RTP/AVP\n"),
            "SDP line 7: m= needs <media> <port> <proto> <fmt> ...");
}

TEST(SdpParser, RejectsStructuralErrors) {
  std::string head(kHead);
  EXPECT_EQ(errorOf(head + "c=IN IP4 192.0.2.2\n"), "SDP line 6: duplicate c= in one section");
  EXPECT_EQ(errorOf(head + "m=audio 4000 RTP/AVP 0\nc=IN IP4\n"),
            "SDP line 7: c= needs 3 fields: nettype addrtype address");
  EXPECT_EQ(errorOf(head + "m=audio 4000 RTP/AVP 0\nt=0 0\n"),
            "SDP line 7: t= is not allowed in a media section");
  EXPECT_EQ(errorOf(head + "m=audio 4000 RTP/AVP 0\no=- 1 1 IN IP4 192.0.2.1\n"),
            "SDP line 7: o= is not allowed in a media section");
  EXPECT_EQ(errorOf(head + "t=now 0\n"), "SDP line 6: t= times are not numbers");
  EXPECT_EQ(errorOf("v=0\no=- 1 1 IN IP4 a\nr=7d 1h 0\n"), "SDP line 3: r= without a preceding t=");
  EXPECT_EQ(errorOf(head + "a=:x\n"), "SDP line 6: a= without an attribute name");
  EXPECT_EQ(errorOf(head + "hello\n"), "SDP line 6: expected <type>=<value>");
  EXPECT_EQ(errorOf(head + "A=x\n"), "SDP line 6: expected <type>=<value>");
  EXPECT_EQ(errorOf(head + std::string("a=x\0y\n", 6)),
            "SDP line 6: contains a NUL or bare CR character");
  EXPECT_EQ(errorOf(head + "a=x\ry\n"), "SDP line 6: contains a NUL or bare CR character");
}

TEST(SdpParser, EnforcesLimits) {
  SdpLimits limits;
  limits.max_bytes = 64;
  auto big = parseSdp(std::string(kHead) + "m=audio 4000 RTP/AVP 0\n", limits);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, 413);

  limits = SdpLimits{};
  limits.max_media = 2;
  std::string three(kHead);
  for (int i = 0; i < 3; ++i) {
    three += "m=audio 4000 RTP/AVP 0\n";
  }
  EXPECT_TRUE(parseSdp(three));
  auto too_many = parseSdp(three, limits);
  ASSERT_FALSE(too_many);
  EXPECT_EQ(too_many.error().message, "SDP line 8: more than 2 m-lines");

  limits = SdpLimits{};
  limits.max_formats = 2;
  EXPECT_FALSE(parseSdp(std::string(kHead) + "m=audio 4000 RTP/AVP 0 8 9\n", limits));
  limits.max_attributes = 1;
  EXPECT_FALSE(parseSdp(std::string(kHead) + "a=x\na=y\n", limits));
}

}  // namespace
}  // namespace siprecd::sdp
