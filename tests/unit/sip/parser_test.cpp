#include "sip/parser.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sip/header_fields.hpp"
#include "sip/multipart.hpp"
#include "sip/serializer.hpp"

namespace siprecd::sip {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::filesystem::path kDataDir = std::filesystem::path(SIPRECD_TEST_DATA_DIR) / "sip";

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

std::vector<std::filesystem::path> fixtures(const std::string& kind) {
  std::vector<std::filesystem::path> paths;
  for (const auto& entry : std::filesystem::directory_iterator(kDataDir / "torture" / kind)) {
    if (entry.path().extension() == ".sip") {
      paths.push_back(entry.path());
    }
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

Result<Message> parseDatagram(std::string_view bytes) {
  return parseMessage(bytes, Framing::Datagram, ParseLimits{});
}

Message parseFixture(const std::string& relative) {
  auto message = parseDatagram(readFile(kDataDir / relative));
  EXPECT_TRUE(message) << relative << ": " << message.error().message;
  return message ? *message : Message();
}

// A minimal valid request with placeholders that tests replace.
std::string basicRequest(std::string_view extra_headers = "", std::string_view body = "") {
  std::string text =
      "INVITE sip:bob@example.com SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK74bf9\r\n"
      "From: Alice <sip:alice@example.com>;tag=9fxced76sl\r\n"
      "To: Bob <sip:bob@example.com>\r\n"
      "Call-ID: 3848276298220188511@example.com\r\n"
      "CSeq: 1 INVITE\r\n";
  text += extra_headers;
  text += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  text += body;
  return text;
}

// RFC 4475 §3.1.1 (and the syntactically valid messages of §3.2/§3.3): all must parse, both
// as a datagram and, when they carry Content-Length, framed on a stream.
TEST(TortureTests, EveryValidMessageParses) {
  const auto paths = fixtures("valid");
  ASSERT_GE(paths.size(), 13u);
  for (const auto& path : paths) {
    const std::string bytes = readFile(path);
    auto message = parseDatagram(bytes);
    EXPECT_TRUE(message) << path.filename() << ": " << message.error().message;
    if (message && message->hasHeader("Content-Length")) {
      StreamFramer framer{ParseLimits{}};
      framer.feed(bytes);
      auto framed = framer.next();
      ASSERT_TRUE(framed.has_value()) << path.filename();
      EXPECT_TRUE(*framed) << path.filename() << ": " << framed->error().message;
    }
  }
}

// RFC 4475 §3.1.2 (plus the §3.3 messages that must be refused), with the reason each is
// refused for.
TEST(TortureTests, EveryInvalidMessageIsRefusedForItsFault) {
  struct Expectation {
    int code;
    const char* reason;
  };
  const std::map<std::string, Expectation> expected = {
      {"badinv01", {400, "Via"}},                      // 3.1.2.1 ";;,;,," in Via
      {"clerr", {400, "Content-Length"}},              // 3.1.2.2 longer than the datagram
      {"ncl", {400, "Content-Length"}},                // 3.1.2.3 negative
      {"scalar02", {400, "CSeq"}},                     // 3.1.2.4 CSeq >= 2**31
      {"scalarlg", {400, "CSeq"}},                     // 3.1.2.5 same in a response
      {"quotbal", {400, "To"}},                        // 3.1.2.6 unterminated quote
      {"ltgtruri", {400, "Request-URI"}},              // 3.1.2.7 <> around the R-URI
      {"lwsruri", {400, "Request-Line"}},              // 3.1.2.8 LWS inside the R-URI
      {"lwsstart", {400, "Request-Line"}},             // 3.1.2.9 several SPs
      {"trws", {400, "Request-Line"}},                 // 3.1.2.10 SPs after SIP/2.0
      {"escruri", {400, "headers are not allowed"}},   // 3.1.2.11 ?headers in R-URI
      {"baddate", {400, "Date"}},                      // 3.1.2.12 EST instead of GMT
      {"regbadct", {400, "Contact"}},                  // 3.1.2.13 '?' outside <>
      {"badaspec", {400, "To"}},                       // 3.1.2.14 spaces inside <>
      {"baddn", {400, "From"}},                        // 3.1.2.15 unquoted ',' in name
      {"badvers", {505, "SIP/7.0"}},                   // 3.1.2.16 version
      {"mismatch01", {400, "CSeq method"}},            // 3.1.2.17 OPTIONS vs INVITE
      {"mismatch02", {400, "CSeq method"}},            // 3.1.2.18 NEWMETHOD vs INVITE
      {"bigcode", {400, "Status-Code"}},               // 3.1.2.19 4294967301
      {"insuf", {400, "missing From"}},                // 3.3.1 no From/To/Call-ID
      {"mcl01", {400, "conflicting Content-Length"}},  // 3.3.10 two Content-Lengths
      {"multi01", {400, "more than one"}},             // 3.3.9 two CSeq, Call-ID, To, From
  };
  const auto paths = fixtures("invalid");
  EXPECT_EQ(paths.size(), expected.size());
  for (const auto& path : paths) {
    const std::string name = path.stem().string();
    const auto it = expected.find(name);
    ASSERT_NE(it, expected.end()) << "no expectation for " << name;
    auto message = parseDatagram(readFile(path));
    ASSERT_FALSE(message) << name << " was accepted";
    EXPECT_EQ(message.error().code, it->second.code) << name << ": " << message.error().message;
    EXPECT_THAT(message.error().message, HasSubstr(it->second.reason)) << name;
  }
}

TEST(TortureTests, ShortTortuousInviteParsesToTheRightFields) {
  const Message m = parseFixture("torture/valid/wsinv.sip");
  EXPECT_EQ(m.method(), "INVITE");
  EXPECT_EQ(m.requestUri(), "sip:vivekg@chair-dnrc.example.com;unknownparam");
  EXPECT_EQ(m.header("To"), "sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n");
  EXPECT_EQ(m.header("CSeq"), "0009 INVITE");
  EXPECT_EQ(m.header("Max-Forwards"), "0068");
  EXPECT_EQ(m.header("Subject"), "");
  EXPECT_EQ(m.header("NewFangledHeader"), "newfangled value continued newfangled value");
  EXPECT_EQ(m.header("UnknownHeaderWithUnusualValue"), ";;,,;;,;");
  const auto vias = m.headerValues("Via");
  ASSERT_EQ(vias.size(), 3u);
  EXPECT_EQ(parseVia(vias[0])->host, "192.0.2.2");
  EXPECT_EQ(parseVia(vias[1])->branch(), "z9hG4bK9ikj8");
  EXPECT_EQ(parseVia(vias[2])->branch(), "z9hG4bK30239");
  auto from = parseNameAddr(*m.header("From"));
  ASSERT_TRUE(from);
  EXPECT_EQ(from->display_name, R"(J Rosenberg \")");
  EXPECT_EQ(from->params.get("tag"), "98asjd8");
  auto contact = parseNameAddr(m.headerValues("m").at(0));
  ASSERT_TRUE(contact);
  EXPECT_EQ(contact->display_name, R"(Quoted string "")");
  EXPECT_EQ(contact->params.get("newparam"), "newvalue");
  EXPECT_TRUE(contact->params.has("secondparam"));
  EXPECT_EQ(contact->params.get("q"), "0.33");
  EXPECT_EQ(m.body().size(), 150u);
}

TEST(TortureTests, WideRangeOfValidCharactersIsKept) {
  const Message m = parseFixture("torture/valid/intmeth.sip");
  EXPECT_EQ(m.method(), "!interesting-Method0123456789_*+`.%indeed'~");
  EXPECT_EQ(m.header("Call-ID"), R"(intmeth.word%ZK-!.*_+'@word`~)(><:\/"][?}{)");
  EXPECT_EQ(m.header("extensionHeader-!.%*+_`'~"),
            "\xEF\xBB\xBF\xE5\xA4\xA7\xE5\x81\x9C\xE9\x9B\xBB");
  auto to = parseNameAddr(*m.header("To"));
  ASSERT_TRUE(to);
  EXPECT_EQ(to->display_name, std::string("BEL:\x07 NUL:\0 DEL:\x7F", 17));
  auto from = parseNameAddr(*m.header("From"));
  ASSERT_TRUE(from);
  EXPECT_EQ(from->params.get("tag"), "_token~1'+`*%!-.");
  EXPECT_TRUE(from->params.has("fromParam''~+*_!.-%"));
}

TEST(TortureTests, EscapedHeaderNameIsNotAContact) {
  const Message m = parseFixture("torture/valid/esc02.sip");
  EXPECT_EQ(m.method(), "RE%47IST%45R");
  EXPECT_EQ(m.headerValues("Contact").size(), 2u);
  EXPECT_EQ(m.header("C%6Fntact"), "<sip:alias2@host2.example.com>");
}

TEST(TortureTests, LongValuesAndManyVias) {
  const Message m = parseFixture("torture/valid/longreq.sip");
  EXPECT_EQ(m.headerValues("Via").size(), 34u);
  auto to = parseNameAddr(*m.header("To"));
  ASSERT_TRUE(to);
  EXPECT_EQ(to->uri.port, 6000);
  EXPECT_EQ(to->uri.params.items.size(), 3u);
}

TEST(TortureTests, FoldedListsAndEveryTransportSplitCorrectly) {
  const Message semiuri = parseFixture("torture/valid/semiuri.sip");
  EXPECT_THAT(semiuri.headerValues("Accept"),
              ElementsAre("application/sdp", "application/pkcs7-mime", "multipart/mixed",
                          "multipart/signed", "message/sip", "message/sipfrag"));
  const Message transports = parseFixture("torture/valid/transports.sip");
  std::vector<std::string> names;
  for (std::string_view value : transports.headerValues("Via")) {
    auto via = parseVia(value);
    ASSERT_TRUE(via);
    names.push_back(via->transport);
  }
  EXPECT_THAT(names, ElementsAre("UDP", "SCTP", "TLS", "UNKNOWN", "TCP"));
}

TEST(TortureTests, ExtraDatagramBytesAfterContentLengthAreIgnored) {
  const Message m = parseFixture("torture/valid/dblreq.sip");
  EXPECT_EQ(m.method(), "REGISTER");
  EXPECT_EQ(m.body(), "");
  EXPECT_EQ(m.header("Call-ID"), "dblreq.0ha0isndaksdj99sdfafnl3lk233412");
}

TEST(TortureTests, MultipartWithBinaryPartFrames) {
  const Message m = parseFixture("torture/valid/mpart01.sip");
  ASSERT_EQ(m.body().size(), 553u);
  auto type = parseMediaType(*m.header("Content-Type"));
  ASSERT_TRUE(type);
  auto parts = parseMultipart(m.body(), *type->params.get("boundary"), 16);
  ASSERT_TRUE(parts) << parts.error().message;
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].body, "Hello");
  EXPECT_EQ((*parts)[1].body.size(), 342u);
  EXPECT_NE((*parts)[1].body.find('\0'), std::string::npos);
}

TEST(TortureTests, UnusualAndEmptyReasonPhrases) {
  const Message unusual = parseFixture("torture/valid/unreason.sip");
  EXPECT_EQ(unusual.statusCode(), 200);
  EXPECT_EQ(unusual.reason().rfind("= 2**3 * 5**2 \xD0\xBD\xD0\xBE", 0), 0u);
  const Message empty = parseFixture("torture/valid/noreason.sip");
  EXPECT_EQ(empty.statusCode(), 100);
  EXPECT_EQ(empty.reason(), "");
}

TEST(TortureTests, UnknownSchemesAreAcceptedSyntactically) {
  EXPECT_EQ(parseFixture("torture/valid/unkscm.sip").requestUri(),
            "nobodyKnowsThisScheme:totallyopaquecontent");
  EXPECT_EQ(parseFixture("torture/valid/novelsc.sip").requestUri(), "soap.beep://192.0.2.103:3002");
  EXPECT_EQ(parseFixture("torture/valid/unksm2.sip").header("To"), "isbn:2983792873");
}

TEST(ParseMessage, ParsesARealSiprecInvite) {
  const Message m = parseFixture("siprec_invite.sip");
  EXPECT_EQ(m.method(), "INVITE");
  EXPECT_THAT(m.headerValues("Require"), ElementsAre("siprec"));
  EXPECT_TRUE(hasOptionTag(m.headerValues("Supported"), "timer"));
  auto contact = parseNameAddr(m.headerValues("Contact").at(0));
  ASSERT_TRUE(contact);
  EXPECT_TRUE(contact->params.has("+sip.src"));
  EXPECT_EQ(contact->uri.host, "[2001:db8::10]");
  auto top_via = parseVia(m.headerValues("Via").at(0));
  ASSERT_TRUE(top_via);
  EXPECT_EQ(top_via->host, "[2001:db8::10]");
  EXPECT_EQ(top_via->port, 5060);
  EXPECT_TRUE(top_via->params.has("rport"));
  auto type = parseMediaType(*m.header("c"));
  ASSERT_TRUE(type);
  EXPECT_EQ(type->type, "multipart/mixed");
  auto parts =
      parseMultipart(m.body(), *type->params.get("boundary"), ParseLimits{}.max_body_parts);
  ASSERT_TRUE(parts) << parts.error().message;
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].contentType(), "application/sdp");
  EXPECT_EQ((*parts)[0].body.rfind("v=0\r\n", 0), 0u);
  EXPECT_EQ((*parts)[0].body.substr((*parts)[0].body.size() - 12), "a=sendonly\r\n");
  EXPECT_EQ((*parts)[1].contentType(), "application/rs-metadata+xml");
  auto disposition = parseMediaType(*(*parts)[1].header("Content-Disposition"));
  ASSERT_TRUE(disposition);
  EXPECT_EQ(disposition->type, "recording-session");
  EXPECT_EQ((*parts)[1].body.substr((*parts)[1].body.size() - 14), "</recording>\r\n");
}

TEST(ParseMessage, ExpandsCompactFormsAndKeepsOrder) {
  const std::string text =
      "OPTIONS sip:a@example.com SIP/2.0\r\n"
      "v: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
      "f: <sip:b@example.com>;tag=1\r\n"
      "t: <sip:a@example.com>\r\n"
      "i: abc@h\r\n"
      "CSeq: 1 OPTIONS\r\n"
      "k: timer\r\n"
      "l: 0\r\n\r\n";
  auto m = parseDatagram(text);
  ASSERT_TRUE(m) << m.error().message;
  std::vector<std::string> names;
  for (const Header& header : m->headers()) {
    names.push_back(header.name);
  }
  EXPECT_THAT(names,
              ElementsAre("Via", "From", "To", "Call-ID", "CSeq", "Supported", "Content-Length"));
}

TEST(ParseMessage, JoinsFoldedLinesWithOneSpace) {
  auto m = parseDatagram(basicRequest("Subject: first\r\n \t second  \r\n\tthird\r\n"));
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->header("Subject"), "first second third");
}

TEST(ParseMessage, ToleratesBareLineFeedsAndWhitespaceAroundTheColon) {
  const std::string text =
      "OPTIONS sip:a@example.com SIP/2.0\n"
      "Via   :SIP/2.0/UDP h;branch=z9hG4bK1\n"
      "From\t: <sip:b@example.com>;tag=1\r\n"
      "To:<sip:a@example.com>\n"
      "Call-ID:   abc@h   \n"
      "CSeq: 1 OPTIONS\n"
      "\n"
      "body";
  auto m = parseDatagram(text);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->header("Via"), "SIP/2.0/UDP h;branch=z9hG4bK1");
  EXPECT_EQ(m->header("Call-ID"), "abc@h");
  EXPECT_EQ(m->body(), "body");
}

TEST(ParseMessage, SkipsLeadingLineEnds) {
  auto m = parseDatagram("\r\n\r\n" + basicRequest());
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->method(), "INVITE");
}

TEST(ParseMessage, AcceptsIpv6InViaAndRequestUri) {
  std::string text = basicRequest();
  text.replace(text.find("sip:bob@example.com SIP"), 19, "sip:bob@[2001:db8::10]:5060");
  text.replace(text.find("192.0.2.1:5060"), 14, "[2001:db8::1]:5070");
  auto m = parseDatagram(text);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->requestUri(), "sip:bob@[2001:db8::10]:5060");
  EXPECT_EQ(parseVia(*m->header("Via"))->host, "[2001:db8::1]");
}

TEST(ParseMessage, DatagramBodyWithoutContentLengthRunsToTheEnd) {
  std::string text = basicRequest("", "");
  text.erase(text.find("Content-Length: 0\r\n"), 19);
  text += "v=0\r\n";
  auto m = parseDatagram(text);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->body(), "v=0\r\n");
  EXPECT_FALSE(m->hasHeader("Content-Length"));
  auto stream = parseMessage(text, Framing::Stream, ParseLimits{});
  ASSERT_FALSE(stream);
  EXPECT_EQ(stream.error().code, 400);
  EXPECT_THAT(stream.error().message, HasSubstr("Content-Length"));
}

TEST(ParseMessage, RefusesBadContentLengths) {
  for (const char* value : {"-1", "five", "1 0", "", "18446744073709551616", "+3"}) {
    std::string text = basicRequest("", "abc");
    text.replace(text.find("Content-Length: 3"), 17, std::string("Content-Length: ") + value);
    auto m = parseDatagram(text);
    ASSERT_FALSE(m) << value;
    EXPECT_EQ(m.error().code, 400) << value;
  }
  std::string text = basicRequest("", "abc");
  text.replace(text.find("Content-Length: 3"), 17, "Content-Length: 4");
  auto too_long = parseDatagram(text);
  ASSERT_FALSE(too_long);
  EXPECT_THAT(too_long.error().message, HasSubstr("larger than the remaining"));
}

TEST(ParseMessage, AcceptsRepeatedIdenticalContentLength) {
  auto m = parseDatagram(basicRequest("Content-Length: 3\r\n", "abc"));
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->body(), "abc");
}

TEST(ParseMessage, NamesEachMissingMandatoryHeader) {
  for (const char* name : {"Via", "From", "To", "Call-ID", "CSeq"}) {
    std::string text = basicRequest();
    const std::size_t start = text.find(std::string("\r\n") + name + ":") + 2;
    text.erase(start, text.find("\r\n", start) + 2 - start);
    auto m = parseDatagram(text);
    ASSERT_FALSE(m) << name;
    EXPECT_EQ(m.error().code, 400);
    EXPECT_EQ(m.error().message, std::string("missing ") + name + " header field");
  }
}

TEST(ParseMessage, MaxForwardsIsOptionalButBounded) {
  EXPECT_TRUE(parseDatagram(basicRequest()));
  EXPECT_TRUE(parseDatagram(basicRequest("Max-Forwards: 255\r\n")));
  auto m = parseDatagram(basicRequest("Max-Forwards: 256\r\n"));
  ASSERT_FALSE(m);
  EXPECT_THAT(m.error().message, HasSubstr("Max-Forwards"));
}

TEST(ParseMessage, RequiresTheCSeqMethodToMatchForAckAndCancelToo) {
  for (const char* method : {"ACK", "CANCEL"}) {
    std::string text = basicRequest();
    text.replace(0, 6, method);
    auto m = parseDatagram(text);
    ASSERT_FALSE(m) << method;
    EXPECT_THAT(m.error().message, HasSubstr("CSeq method"));
    text.replace(text.find("CSeq: 1 INVITE"), 14, std::string("CSeq: 1 ") + method);
    EXPECT_TRUE(parseDatagram(text)) << method;
  }
}

TEST(ParseMessage, AcceptsExtensionMethodsAndTelRequestUris) {
  std::string text = basicRequest();
  text.replace(0, 26, "PUBLISH-X tel:+15551234567;phone-context=example.com");
  text.replace(text.find("CSeq: 1 INVITE"), 14, "CSeq: 1 PUBLISH-X");
  auto m = parseDatagram(text);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->method(), "PUBLISH-X");
}

TEST(ParseMessage, Answers505ToOtherVersionsOfRequests) {
  std::string text = basicRequest();
  text.replace(text.find("SIP/2.0\r\n"), 7, "SIP/3.0");
  auto m = parseDatagram(text);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, 505);
  text.replace(text.find("SIP/3.0\r\n"), 7, "HTTP/1.1");
  EXPECT_EQ(parseDatagram(text).error().code, 400);
  text.replace(text.find("HTTP/1.1\r\n"), 8, "sip/2.0");
  EXPECT_TRUE(parseDatagram(text)) << "SIP-Version is case-insensitive";
}

TEST(ParseMessage, ParsesResponses) {
  std::string text = basicRequest();
  text.replace(0, text.find("\r\n"), "SIP/2.0 180 Ringing");
  auto m = parseDatagram(text);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_TRUE(m->isResponse());
  EXPECT_EQ(m->statusCode(), 180);
  EXPECT_EQ(m->reason(), "Ringing");
  for (const char* bad : {"SIP/2.0 099 Low", "SIP/2.0 700 High", "SIP/2.0 20 Short",
                          "SIP/2.0 2000 Long", "SIP/2.0", "SIP/1.0 200 OK"}) {
    std::string copy = text;
    copy.replace(0, copy.find("\r\n"), bad);
    auto refused = parseDatagram(copy);
    ASSERT_FALSE(refused) << bad;
    EXPECT_EQ(refused.error().code, 400) << bad;
  }
}

TEST(ParseMessage, RefusesMalformedStructure) {
  const std::string good = basicRequest();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "empty"},
      {"\r\n\r\n", "empty"},
      {good.substr(0, good.size() - 2), "not terminated"},
      {basicRequest("Bad Name: x\r\n"), "header field name"},
      {basicRequest("NoColon\r\n"), "without ':'"},
      {basicRequest("X-A: 1\r2\r\n"), "bare CR"},
      {"INVITE sip:bob@example.com SIP/2.0\r\n Folded: x\r\n\r\n", "continuation"},
      {basicRequest("To: <sip:other@example.com>\r\n"), "more than one To"},
      {std::string(good).replace(good.find("3848276298220188511@example.com"), 31, ""), "Call-ID"},
  };
  for (const auto& [text, reason] : cases) {
    auto m = parseDatagram(text);
    ASSERT_FALSE(m) << reason;
    EXPECT_EQ(m.error().code, 400) << reason;
    EXPECT_THAT(m.error().message, HasSubstr(reason));
  }
}

TEST(ParseMessage, EnforcesSizeLimits) {
  ParseLimits limits;
  limits.max_message_bytes = 300;
  auto big = parseMessage(basicRequest("", std::string(200, 'x')), Framing::Datagram, limits);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, 413);

  limits = ParseLimits{};
  limits.max_headers = 6;
  auto many = parseMessage(basicRequest("X-1: a\r\n"), Framing::Datagram, limits);
  ASSERT_FALSE(many);
  EXPECT_EQ(many.error().code, 400);
  EXPECT_THAT(many.error().message, HasSubstr("more than 6 header fields"));
  limits.max_headers = 7;
  EXPECT_TRUE(parseMessage(basicRequest("X-1: a\r\n"), Framing::Datagram, limits));

  limits = ParseLimits{};
  limits.max_header_line_bytes = 100;
  auto long_line = parseMessage(basicRequest("X-Long: " + std::string(100, 'y') + "\r\n"),
                                Framing::Datagram, limits);
  ASSERT_FALSE(long_line);
  EXPECT_EQ(long_line.error().code, 513);
  auto long_folded = parseMessage(
      basicRequest("X-Long: " + std::string(50, 'y') + "\r\n " + std::string(50, 'z') + "\r\n"),
      Framing::Datagram, limits);
  ASSERT_FALSE(long_folded);
  EXPECT_EQ(long_folded.error().code, 513);
}

TEST(ParseMessage, ValidatesDateAsGmtRfc1123) {
  EXPECT_TRUE(parseDatagram(basicRequest("Date: Sat, 13 Nov 2010 23:29:00 GMT\r\n")));
  EXPECT_TRUE(parseDatagram(basicRequest("Date: sat, 13 nov 2010 23:29:00 gmt\r\n")));
  for (const char* bad : {"Sat, 13 Nov 2010 23:29:00 UTC", "Sat, 13 Nov 2010 23:29 GMT",
                          "13 Nov 2010 23:29:00 GMT", "Sun, 13 Foo 2010 23:29:00 GMT"}) {
    auto m = parseDatagram(basicRequest(std::string("Date: ") + bad + "\r\n"));
    ASSERT_FALSE(m) << bad;
    EXPECT_THAT(m.error().message, HasSubstr("Date"));
  }
}

TEST(ParseMessage, ValidatesListHeadersElementByElement) {
  EXPECT_TRUE(parseDatagram(basicRequest("Contact: *\r\n")));
  EXPECT_TRUE(
      parseDatagram(basicRequest("Route: <sip:p1@example.com;lr>,, <sip:p2@example.com;lr>\r\n"
                                 "Via: SIP/2.0/TCP [2001:db8::2];branch=z9hG4bK2;rport\r\n")));
  auto route = parseDatagram(basicRequest("Record-Route: <sip:p1@example.com;lr>, <sip:p2\r\n"));
  ASSERT_FALSE(route);
  EXPECT_THAT(route.error().message, HasSubstr("Record-Route"));
  auto via = parseDatagram(basicRequest("Via: SIP/2.0/UDP ok;branch=z9hG4bK3, SIP/2.0/UDP\r\n"));
  ASSERT_FALSE(via);
  EXPECT_THAT(via.error().message, HasSubstr("Via"));
}

TEST(SalvageRequest, ExtractsWhatA400NeedsFromARefusedRequest) {
  const std::string bytes = readFile(kDataDir / "torture/invalid/lwsstart.sip");
  ASSERT_FALSE(parseDatagram(bytes));
  auto salvaged = salvageRequestForErrorResponse(bytes);
  ASSERT_TRUE(salvaged.has_value());
  EXPECT_EQ(salvaged->method(), "INVITE");
  EXPECT_EQ(salvaged->requestUri(), "sip:user@example.com");
  std::vector<std::string> names;
  for (const Header& header : salvaged->headers()) {
    names.push_back(header.name);
  }
  EXPECT_THAT(names, ElementsAre("To", "From", "Call-ID", "CSeq", "Via"));
  EXPECT_EQ(salvaged->header("Call-ID"), "lwsstart.dfknq234oi243099adsdfnawe3@example.com");
  EXPECT_TRUE(salvaged->body().empty());
}

TEST(SalvageRequest, KeepsEveryViaWithFoldingAndCompactNames) {
  const std::string bytes =
      "INVITE <sip:x@y> SIP/2.0\r\n"
      "v: SIP/2.0/UDP a;branch=z9hG4bK1,\r\n SIP/2.0/UDP b;branch=z9hG4bK2\r\n"
      "Via: SIP/2.0/UDP c;branch=z9hG4bK3\r\n"
      "f: <sip:a@b>;tag=1\r\nt: <sip:x@y>\r\ni: id\r\nCSeq: 1 INVITE\r\n\r\n";
  auto salvaged = salvageRequestForErrorResponse(bytes);
  ASSERT_TRUE(salvaged.has_value());
  EXPECT_EQ(salvaged->headerValues("Via").size(), 3u);
  EXPECT_EQ(salvaged->header("Call-ID"), "id");
}

TEST(SalvageRequest, AnswersRequestsMissingHeadersOtherThanVia) {
  // RFC 4475 §3.1.2.18: no Call-ID, From or To; ideally answered with 400.
  auto salvaged = salvageRequestForErrorResponse(readFile(kDataDir / "torture/invalid/insuf.sip"));
  ASSERT_TRUE(salvaged.has_value());
  EXPECT_EQ(salvaged->headerValues("Via").size(), 1u);
  EXPECT_EQ(salvaged->header("CSeq"), "193942 INVITE");
  EXPECT_FALSE(salvaged->hasHeader("Call-ID"));
  EXPECT_FALSE(
      salvageRequestForErrorResponse("OPTIONS sip:a@b SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n"));
}

TEST(SalvageRequest, DropsGarbageResponsesAndIncompleteRequests) {
  EXPECT_FALSE(salvageRequestForErrorResponse(""));
  EXPECT_FALSE(salvageRequestForErrorResponse("\x16\x03\x01\x02\x00garbage\r\n\r\n"));
  EXPECT_FALSE(salvageRequestForErrorResponse(readFile(kDataDir / "torture/invalid/bigcode.sip")));
  EXPECT_FALSE(salvageRequestForErrorResponse("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
}

TEST(StreamFramer, ReassemblesMessagesFedByteByByte) {
  const std::string first = basicRequest("", "abc");
  const std::string second = basicRequest("", "");
  const std::string stream = first + second;
  StreamFramer framer{ParseLimits{}};
  std::vector<Message> messages;
  for (char c : stream) {
    framer.feed(std::string_view(&c, 1));
    while (auto next = framer.next()) {
      ASSERT_TRUE(*next) << next->error().message;
      messages.push_back(**next);
    }
  }
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].body(), "abc");
  EXPECT_EQ(messages[1].body(), "");
  EXPECT_EQ(framer.bufferedBytes(), 0u);
}

TEST(StreamFramer, SplitsSeveralMessagesInOneFeedAndSkipsKeepAlives) {
  StreamFramer framer{ParseLimits{}};
  framer.feed("\r\n\r\n" + basicRequest("", "x") + "\r\n" + basicRequest("", "yz") + "\r\n\r\n");
  auto first = framer.next();
  ASSERT_TRUE(first && *first);
  EXPECT_EQ((*first)->body(), "x");
  auto second = framer.next();
  ASSERT_TRUE(second && *second);
  EXPECT_EQ((*second)->body(), "yz");
  EXPECT_FALSE(framer.next().has_value());
  EXPECT_EQ(framer.keepAlivesSeen(), 5u);
  EXPECT_EQ(framer.bufferedBytes(), 0u);
}

TEST(StreamFramer, WaitsForTheWholeBody) {
  const std::string message = basicRequest("", "0123456789");
  StreamFramer framer{ParseLimits{}};
  framer.feed(message.substr(0, message.size() - 1));
  EXPECT_FALSE(framer.next().has_value());
  EXPECT_FALSE(framer.next().has_value());
  framer.feed(message.substr(message.size() - 1));
  auto next = framer.next();
  ASSERT_TRUE(next && *next);
  EXPECT_EQ((*next)->body(), "0123456789");
}

TEST(StreamFramer, FramesBareLineFeedMessages) {
  std::string message = basicRequest("", "ab");
  std::string bare;
  for (std::size_t i = 0; i < message.size(); ++i) {
    if (!(message[i] == '\r' && i + 1 < message.size() && message[i + 1] == '\n')) {
      bare += message[i];
    }
  }
  StreamFramer framer{ParseLimits{}};
  framer.feed(bare);
  auto next = framer.next();
  ASSERT_TRUE(next && *next) << (next ? next->error().message : "none");
  EXPECT_EQ((*next)->body(), "ab");
}

TEST(StreamFramer, MissingContentLengthBreaksTheStream) {
  std::string message = basicRequest();
  message.erase(message.find("Content-Length: 0\r\n"), 19);
  StreamFramer framer{ParseLimits{}};
  framer.feed(message + basicRequest());
  auto next = framer.next();
  ASSERT_TRUE(next.has_value());
  ASSERT_FALSE(*next);
  EXPECT_EQ(next->error().code, 400);
  EXPECT_THAT(next->error().message, HasSubstr("Content-Length"));
  EXPECT_TRUE(framer.broken());
  EXPECT_FALSE(framer.next().has_value());
  framer.feed(basicRequest());
  EXPECT_FALSE(framer.next().has_value());
}

TEST(StreamFramer, RefusesBodiesAndHeadersBeyondTheLimit) {
  ParseLimits limits;
  limits.max_message_bytes = 512;
  StreamFramer body_framer{limits};
  std::string big = basicRequest();
  big.replace(big.find("Content-Length: 0"), 17, "Content-Length: 100000");
  body_framer.feed(big);
  auto body = body_framer.next();
  ASSERT_TRUE(body && !*body);
  EXPECT_EQ(body->error().code, 413);
  EXPECT_TRUE(body_framer.broken());

  StreamFramer header_framer{limits};
  header_framer.feed("INVITE sip:a@b SIP/2.0\r\n");
  for (int i = 0; i < 40; ++i) {
    header_framer.feed("X-Filler: 0123456789\r\n");
  }
  auto header = header_framer.next();
  ASSERT_TRUE(header && !*header);
  EXPECT_EQ(header->error().code, 413);
}

TEST(StreamFramer, AMalformedButFramedMessageDoesNotBreakTheStream) {
  std::string bad = basicRequest();
  bad.replace(bad.find("CSeq: 1 INVITE"), 14, "CSeq: 1 BYE");
  StreamFramer framer{ParseLimits{}};
  framer.feed(bad + basicRequest());
  auto first = framer.next();
  ASSERT_TRUE(first && !*first);
  EXPECT_EQ(first->error().code, 400);
  EXPECT_FALSE(framer.broken());
  EXPECT_EQ(framer.failedMessageBytes(), bad);
  EXPECT_TRUE(salvageRequestForErrorResponse(framer.failedMessageBytes()).has_value());
  auto second = framer.next();
  ASSERT_TRUE(second && *second);
  EXPECT_TRUE(framer.failedMessageBytes().empty());
}

TEST(StreamFramer, ConflictingContentLengthsBreakTheStream) {
  StreamFramer framer{ParseLimits{}};
  framer.feed(basicRequest("Content-Length: 5\r\n"));
  auto next = framer.next();
  ASSERT_TRUE(next && !*next);
  EXPECT_THAT(next->error().message, HasSubstr("conflicting"));
  EXPECT_TRUE(framer.broken());
}

}  // namespace
}  // namespace siprecd::sip
