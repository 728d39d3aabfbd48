#include "sip/header_fields.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace siprecd::sip {
namespace {

using ::testing::HasSubstr;

TEST(Params, GetSetRemoveAreCaseInsensitive) {
  Params params;
  params.set("tag", "1");
  params.set("lr", "");
  params.set("TAG", "2");
  EXPECT_EQ(params.items.size(), 2u);
  EXPECT_EQ(params.get("Tag"), "2");
  EXPECT_TRUE(params.has("LR"));
  EXPECT_EQ(params.toString(), ";tag=2;lr");
  params.remove("tag");
  EXPECT_FALSE(params.has("tag"));
  EXPECT_EQ(params.toString(), ";lr");
  EXPECT_EQ(Params{}.toString(), "");
}

TEST(ParseUri, SplitsAllComponents) {
  auto uri = parseUri("SIP:alice:secret@atlanta.example.com:5061;transport=tcp;lr?subject=x&h=y");
  ASSERT_TRUE(uri) << uri.error().message;
  EXPECT_EQ(uri->scheme, "sip");
  EXPECT_EQ(uri->user, "alice");
  EXPECT_EQ(uri->password, "secret");
  EXPECT_EQ(uri->host, "atlanta.example.com");
  EXPECT_EQ(uri->port, 5061);
  EXPECT_EQ(uri->params.get("transport"), "tcp");
  EXPECT_TRUE(uri->params.has("lr"));
  EXPECT_EQ(uri->headers, "subject=x&h=y");
  EXPECT_EQ(uri->toString(),
            "sip:alice:secret@atlanta.example.com:5061;transport=tcp;lr?subject=x&h=y");
}

TEST(ParseUri, AcceptsIpv6ReferencesWithAndWithoutPort) {
  auto with_port = parseUri("sips:bob@[2001:db8::10]:5061;maddr=[2001:db8::1]");
  ASSERT_TRUE(with_port) << with_port.error().message;
  EXPECT_EQ(with_port->scheme, "sips");
  EXPECT_EQ(with_port->host, "[2001:db8::10]");
  EXPECT_EQ(with_port->port, 5061);
  EXPECT_EQ(with_port->params.get("maddr"), "[2001:db8::1]");
  auto bare = parseUri("sip:[::ffff:192.0.2.1]");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->host, "[::ffff:192.0.2.1]");
  EXPECT_FALSE(bare->port.has_value());
}

TEST(ParseUri, UserPartEndsAtTheFirstAt) {
  // RFC 4475 §3.1.1.9 and §3.1.1.2: ';', '?', ',' and '/' belong to the user part.
  auto semi = parseUri("sip:user;par=u%40example.net@example.com");
  ASSERT_TRUE(semi);
  EXPECT_EQ(semi->user, "user;par=u%40example.net");
  EXPECT_EQ(semi->host, "example.com");
  auto crazy = parseUri(
      "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too."
      "(doesn't-it)@example.com");
  ASSERT_TRUE(crazy);
  EXPECT_EQ(crazy->user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
  EXPECT_EQ(crazy->password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
  EXPECT_TRUE(crazy->headers.empty());
}

TEST(ParseUri, KeepsEscapesAsWritten) {
  auto uri = parseUri("sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31");
  ASSERT_TRUE(uri);
  EXPECT_EQ(uri->user, "cal%6Cer");
  EXPECT_TRUE(uri->params.has("%6C%72"));
  EXPECT_EQ(uri->params.get("n%61me"), "v%61lue%25%34%31");
}

TEST(ParseUri, ParsesTelUris) {
  auto uri = parseUri("tel:+1-201-555-0123;phone-context=example.com");
  ASSERT_TRUE(uri) << uri.error().message;
  EXPECT_EQ(uri->scheme, "tel");
  EXPECT_EQ(uri->user, "+1-201-555-0123");
  EXPECT_TRUE(uri->host.empty());
  EXPECT_EQ(uri->params.get("phone-context"), "example.com");
  EXPECT_EQ(uri->toString(), "tel:+1-201-555-0123;phone-context=example.com");
}

TEST(ParseUri, RejectsMalformedUris) {
  for (const char* bad : {"", "alice@example.com", "http://example.com", "sip:", "sip:@host",
                          "sip:bob@", "sip:bob@host:70000", "sip:bob@host:", "sip:bob@ho st",
                          "sip:bob@host;;lr", "sip:bob@host;=x", "sip:bob@host;a=", "sip:bob@[::1",
                          "sip:bob@host/path", "<sip:bob@host>", "tel:", "tel:+1?x=y"}) {
    auto uri = parseUri(bad);
    EXPECT_FALSE(uri) << bad;
    if (!uri) {
      EXPECT_EQ(uri.error().code, 400) << bad;
    }
  }
}

TEST(ParseNameAddr, ParsesQuotedDisplayNameWithEscapes) {
  auto address =
      parseNameAddr(R"("J Rosenberg \\\""       <sip:jdrosen@example.com>  ;  tag = 98asjd8)");
  ASSERT_TRUE(address) << address.error().message;
  EXPECT_EQ(address->display_name, R"(J Rosenberg \")");
  EXPECT_EQ(address->raw_uri, "sip:jdrosen@example.com");
  EXPECT_EQ(address->uri.user, "jdrosen");
  EXPECT_EQ(address->params.get("tag"), "98asjd8");
}

TEST(ParseNameAddr, ParsesTokenDisplayNamesWithOrWithoutSpace) {
  auto spaced = parseNameAddr("token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;tag=1");
  ASSERT_TRUE(spaced);
  EXPECT_EQ(spaced->display_name, "token1~` token2'+_ token3*%!.-");
  auto tight = parseNameAddr("caller<sip:caller@example.com>;tag=323");
  ASSERT_TRUE(tight);
  EXPECT_EQ(tight->display_name, "caller");
  EXPECT_EQ(tight->params.get("tag"), "323");
}

TEST(ParseNameAddr, AddrSpecParamsBelongToTheHeader) {
  // RFC 3261 §20.10: without <>, ;params after the URI are header parameters.
  auto address = parseNameAddr("sip:bob@example.com;tag=1;expires=60");
  ASSERT_TRUE(address) << address.error().message;
  EXPECT_TRUE(address->display_name.empty());
  EXPECT_EQ(address->raw_uri, "sip:bob@example.com");
  EXPECT_TRUE(address->uri.params.items.empty());
  EXPECT_EQ(address->params.get("tag"), "1");
  EXPECT_EQ(address->params.get("expires"), "60");
  auto enclosed = parseNameAddr("<sip:bob@example.com;transport=tcp>;tag=1");
  ASSERT_TRUE(enclosed);
  EXPECT_EQ(enclosed->uri.params.get("transport"), "tcp");
  EXPECT_EQ(enclosed->params.get("tag"), "1");
}

TEST(ParseNameAddr, KeepsFeatureTagsAndQuotedParamValues) {
  auto contact = parseNameAddr(
      R"(<sip:src@[2001:db8::10]:5060;transport=tcp>;+sip.src;+sip.instance="<urn:uuid:1>";q=0.7)");
  ASSERT_TRUE(contact) << contact.error().message;
  EXPECT_EQ(contact->uri.host, "[2001:db8::10]");
  EXPECT_EQ(contact->uri.port, 5060);
  EXPECT_TRUE(contact->params.has("+sip.src"));
  EXPECT_EQ(contact->params.get("+sip.src"), "");
  EXPECT_EQ(contact->params.get("+sip.instance"), R"("<urn:uuid:1>")");
  EXPECT_EQ(contact->params.get("q"), "0.7");
}

TEST(ParseNameAddr, AcceptsOtherSchemesOpaquely) {
  auto isbn = parseNameAddr("isbn:2983792873");
  ASSERT_TRUE(isbn);
  EXPECT_EQ(isbn->uri.scheme, "isbn");
  EXPECT_EQ(isbn->raw_uri, "isbn:2983792873");
  auto http = parseNameAddr("<http://www.example.com>;tag=3234233");
  ASSERT_TRUE(http);
  EXPECT_EQ(http->uri.scheme, "http");
  EXPECT_EQ(http->params.get("tag"), "3234233");
}

TEST(ParseNameAddr, RejectsMalformedAddresses) {
  const char* bad[] = {
      R"("Mr. J. User <sip:j.user@example.com>)",              // unterminated quote
      "Bell, Alexander <sip:a.g.bell@example.com>;tag=43",     // non-token display name
      R"("Watson, Thomas" < sip:t.watson@example.org >)",      // LWS inside <>
      "sip:user@example.com?Route=%3Csip:sip.example.com%3E",  // addr-spec with '?'
      R"("Joe" <sip:joe@example.org>;;;;)",                    // empty params
      "<sip:joe@example.org",                                  // missing '>'
      "<>",                                                    // empty URI
      R"("Joe" sip:joe@example.org)",                          // quoted name without <>
      "<sip:joe@example.org> junk",                            // garbage after '>'
      "",
  };
  for (const char* text : bad) {
    auto address = parseNameAddr(text);
    EXPECT_FALSE(address) << text;
  }
}

TEST(NameAddr, ToStringQuotesAndEscapesTheDisplayName) {
  auto address = parseNameAddr(R"("A \"B\" \\ C" <sip:x@y>;tag=1)");
  ASSERT_TRUE(address);
  EXPECT_EQ(address->display_name, R"(A "B" \ C)");
  EXPECT_EQ(address->toString(), R"("A \"B\" \\ C" <sip:x@y>;tag=1)");
  NameAddr built;
  built.uri = *parseUri("sip:bob@example.com");
  built.params.set("tag", "9");
  EXPECT_EQ(built.toString(), "<sip:bob@example.com>;tag=9");
  auto reparsed = parseNameAddr(address->toString());
  ASSERT_TRUE(reparsed);
  EXPECT_EQ(reparsed->display_name, address->display_name);
}

TEST(ParseVia, ParsesSentProtocolSentByAndParams) {
  auto via =
      parseVia("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds;received=192.0.2.9;rport");
  ASSERT_TRUE(via) << via.error().message;
  EXPECT_EQ(via->protocol, "SIP/2.0");
  EXPECT_EQ(via->transport, "UDP");
  EXPECT_EQ(via->host, "192.0.2.1");
  EXPECT_EQ(via->port, 5060);
  EXPECT_EQ(via->branch(), "z9hG4bK776asdhds");
  EXPECT_EQ(via->params.get("received"), "192.0.2.9");
  EXPECT_TRUE(via->params.has("rport"));
  EXPECT_EQ(via->toString(),
            "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds;received=192.0.2.9;rport");
}

TEST(ParseVia, ToleratesLinearWhitespaceEverywhereTheGrammarAllows) {
  auto via = parseVia("SIP  /    2.0   / udp  192.168.255.111 :  5070  ; branch= z9hG4bK30239");
  ASSERT_TRUE(via) << via.error().message;
  EXPECT_EQ(via->transport, "UDP");
  EXPECT_EQ(via->host, "192.168.255.111");
  EXPECT_EQ(via->port, 5070);
  EXPECT_EQ(via->branch(), "z9hG4bK30239");
}

TEST(ParseVia, ParsesIpv6SentByAndReceived) {
  auto via =
      parseVia("SIP/2.0/TLS [2001:db8::10]:5061;branch=z9hG4bK1;received=2001:db8::9;rport=5062");
  ASSERT_TRUE(via) << via.error().message;
  EXPECT_EQ(via->host, "[2001:db8::10]");
  EXPECT_EQ(via->port, 5061);
  EXPECT_EQ(via->params.get("received"), "2001:db8::9");
  EXPECT_EQ(via->params.get("rport"), "5062");
  EXPECT_EQ(via->branch(), "z9hG4bK1");
  EXPECT_EQ(parseVia("SIP/2.0/UDP host")->branch(), "");
}

TEST(ParseVia, RejectsMalformedValues) {
  for (const char* bad : {"SIP/2.0/UDP 192.0.2.15;;", ";", "SIP/2.0 host", "SIP/2.0/UDP",
                          "SIP/2.0/UDPhost", "SIP/2.0/UDP host:99999", "SIP/2.0/UDP [::1",
                          "SIP/2.0/UDP host;branch=", "SIP/2.0/UDP host extra", ""}) {
    EXPECT_FALSE(parseVia(bad)) << bad;
  }
}

TEST(ParseCSeq, ParsesNumberAndMethod) {
  auto cseq = parseCSeq("0009  INVITE");
  ASSERT_TRUE(cseq);
  EXPECT_EQ(cseq->number, 9u);
  EXPECT_EQ(cseq->method, "INVITE");
  auto max = parseCSeq("2147483647 RE%47IST%45R");
  ASSERT_TRUE(max);
  EXPECT_EQ(max->method, "RE%47IST%45R");
}

TEST(ParseCSeq, RejectsOutOfRangeAndMalformedValues) {
  for (const char* bad : {"2147483648 INVITE", "36893488147419103232 REGISTER", "INVITE", "1",
                          "-1 INVITE", "1 INV ITE", "1 <INVITE>", ""}) {
    auto cseq = parseCSeq(bad);
    EXPECT_FALSE(cseq) << bad;
  }
}

TEST(ParseMediaType, LowercasesTypeAndUnquotesParams) {
  auto media =
      parseMediaType(R"(Multipart/Mixed ; boundary="unique \"boundary\" 1";charset=utf-8)");
  ASSERT_TRUE(media) << media.error().message;
  EXPECT_EQ(media->type, "multipart/mixed");
  EXPECT_EQ(media->params.get("BOUNDARY"), R"(unique "boundary" 1)");
  EXPECT_EQ(media->params.get("charset"), "utf-8");
}

TEST(ParseMediaType, ParsesDispositionTypes) {
  auto disposition = parseMediaType("recording-session;handling=required");
  ASSERT_TRUE(disposition);
  EXPECT_EQ(disposition->type, "recording-session");
  EXPECT_EQ(disposition->params.get("handling"), "required");
}

TEST(ParseMediaType, RejectsMalformedValues) {
  for (const char* bad : {"", "/sdp", "application/", "application/sdp;", "a/b;x=\"open"}) {
    EXPECT_FALSE(parseMediaType(bad)) << bad;
  }
}

TEST(HasOptionTag, MatchesCaseInsensitivelyAcrossValues) {
  EXPECT_TRUE(hasOptionTag({"timer", "SIPREC"}, "siprec"));
  EXPECT_TRUE(hasOptionTag({"timer, siprec"}, "siprec"));
  EXPECT_FALSE(hasOptionTag({"timer", "siprecx"}, "siprec"));
  EXPECT_FALSE(hasOptionTag({}, "siprec"));
}

TEST(ParseErrors, NameTheFaultyElement) {
  auto uri = parseUri("sip:bob@host:99999");
  ASSERT_FALSE(uri);
  EXPECT_THAT(uri.error().message, HasSubstr("port"));
  auto address = parseNameAddr(R"("open <sip:a@b>)");
  ASSERT_FALSE(address);
  EXPECT_THAT(address.error().message, HasSubstr("quoted string"));
}

}  // namespace
}  // namespace siprecd::sip
