#include "sip/message.hpp"

#include <cctype>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace siprecd::sip {
namespace {

using ::testing::ElementsAre;

TEST(CanonicalHeaderName, ExpandsEveryRegisteredCompactForm) {
  const std::pair<const char*, const char*> expected[] = {
      {"a", "Accept-Contact"},
      {"b", "Referred-By"},
      {"c", "Content-Type"},
      {"d", "Request-Disposition"},
      {"e", "Content-Encoding"},
      {"f", "From"},
      {"i", "Call-ID"},
      {"j", "Reject-Contact"},
      {"k", "Supported"},
      {"l", "Content-Length"},
      {"m", "Contact"},
      {"n", "Identity-Info"},
      {"o", "Event"},
      {"r", "Refer-To"},
      {"s", "Subject"},
      {"t", "To"},
      {"u", "Allow-Events"},
      {"v", "Via"},
      {"x", "Session-Expires"},
      {"y", "Identity"},
  };
  for (const auto& [compact, full] : expected) {
    EXPECT_EQ(canonicalHeaderName(compact), full) << compact;
    std::string upper(compact);
    upper[0] = static_cast<char>(upper[0] - 'a' + 'A');
    EXPECT_EQ(canonicalHeaderName(upper), full) << upper;
  }
}

TEST(CanonicalHeaderName, KeepsUnassignedSingleLettersAndUnknownNames) {
  EXPECT_EQ(canonicalHeaderName("g"), "g");
  EXPECT_EQ(canonicalHeaderName("Z"), "Z");
  EXPECT_EQ(canonicalHeaderName("NewFangledHeader"), "NewFangledHeader");
  EXPECT_EQ(canonicalHeaderName("C%6Fntact"), "C%6Fntact");
  EXPECT_EQ(canonicalHeaderName(""), "");
}

TEST(CanonicalHeaderName, FindsLongFormsInAnyCase) {
  const char* names[] = {"Accept",
                         "Accept-Contact",
                         "Allow-Events",
                         "Authorization",
                         "Call-ID",
                         "Contact",
                         "Content-Disposition",
                         "Content-Length",
                         "Content-Type",
                         "CSeq",
                         "Date",
                         "Expires",
                         "From",
                         "Max-Forwards",
                         "MIME-Version",
                         "Min-SE",
                         "P-Asserted-Identity",
                         "Proxy-Require",
                         "RAck",
                         "Record-Route",
                         "Refer-To",
                         "Referred-By",
                         "Require",
                         "Route",
                         "RSeq",
                         "Session-Expires",
                         "SIP-ETag",
                         "Subject",
                         "Supported",
                         "To",
                         "User-Agent",
                         "Via",
                         "Warning",
                         "WWW-Authenticate"};
  for (const char* name : names) {
    std::string lower(name);
    std::string upper(name);
    for (char& c : lower) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    for (char& c : upper) {
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    EXPECT_EQ(canonicalHeaderName(lower), name);
    EXPECT_EQ(canonicalHeaderName(upper), name);
    EXPECT_EQ(canonicalHeaderNameView(lower), name);
  }
}

TEST(Message, FactoriesSetStartLine) {
  const Message request = Message::request("INVITE", "sip:bob@example.com");
  EXPECT_TRUE(request.isRequest());
  EXPECT_FALSE(request.isResponse());
  EXPECT_EQ(request.method(), "INVITE");
  EXPECT_EQ(request.requestUri(), "sip:bob@example.com");
  const Message response = Message::response(486, "Busy Here");
  EXPECT_TRUE(response.isResponse());
  EXPECT_EQ(response.statusCode(), 486);
  EXPECT_EQ(response.reason(), "Busy Here");
}

TEST(Message, HeaderLookupIsCaseInsensitiveAndAcceptsCompactNames) {
  Message message = Message::request("OPTIONS", "sip:a@b");
  message.addHeader("v", "SIP/2.0/UDP h;branch=z9hG4bK1");
  message.addHeader("call-id", "abc");
  EXPECT_EQ(message.headers()[0].name, "Via");
  EXPECT_EQ(message.headers()[1].name, "Call-ID");
  EXPECT_EQ(message.header("VIA"), "SIP/2.0/UDP h;branch=z9hG4bK1");
  EXPECT_EQ(message.header("i"), "abc");
  EXPECT_TRUE(message.hasHeader("Call-Id"));
  EXPECT_FALSE(message.hasHeader("To"));
}

TEST(Message, HeaderValuesSplitsAtTopLevelCommasOnly) {
  Message message = Message::request("INVITE", "sip:a@b");
  message.addHeader("Contact", R"("Doe, John" <sip:j@x;a=1,2>;q=0.5 , <sip:k@y>,,)");
  message.addHeader("m", R"("esc \", still" <sip:l@z>)");
  EXPECT_THAT(message.headerValues("Contact"),
              ElementsAre(R"("Doe, John" <sip:j@x;a=1,2>;q=0.5)", "<sip:k@y>",
                          R"("esc \", still" <sip:l@z>)"));
  EXPECT_TRUE(message.headerValues("Route").empty());
}

TEST(Message, HeaderValuesKeepsNonListHeadersWhole) {
  Message message = Message::request("INVITE", "sip:a@b");
  message.addHeader("Date", "Sat, 13 Nov 2010 23:29:00 GMT");
  message.addHeader("WWW-Authenticate", R"(Digest realm="x", nonce="y")");
  message.addHeader("WWW-Authenticate", R"(Digest realm="z", nonce="w")");
  EXPECT_THAT(message.headerValues("Date"), ElementsAre("Sat, 13 Nov 2010 23:29:00 GMT"));
  EXPECT_EQ(message.headerValues("WWW-Authenticate").size(), 2u);
}

TEST(Message, PrependSetAndRemoveKeepOrder) {
  Message message = Message::request("INVITE", "sip:a@b");
  message.addHeader("Via", "SIP/2.0/UDP second");
  message.addHeader("Supported", "timer");
  message.addHeader("k", "100rel");
  message.prependHeader("v", "SIP/2.0/UDP first");
  EXPECT_EQ(message.headers().front().value, "SIP/2.0/UDP first");
  message.setHeader("supported", "replaces");
  ASSERT_EQ(message.headers().size(), 3u);
  EXPECT_EQ(message.headers()[2].name, "Supported");
  EXPECT_EQ(message.headers()[2].value, "replaces");
  message.setHeader("Require", "siprec");
  EXPECT_EQ(message.headers().back().name, "Require");
  EXPECT_EQ(message.removeHeader("v"), 2u);
  EXPECT_EQ(message.removeHeader("Via"), 0u);
  EXPECT_EQ(message.headers().size(), 2u);
}

TEST(Message, FindHeaderWorksOnPlainFieldLists) {
  const std::vector<Header> headers = {{"Content-Type", "application/sdp"}};
  EXPECT_EQ(findHeader(headers, "c"), "application/sdp");
  EXPECT_EQ(findHeader(headers, "Content-Disposition"), std::nullopt);
}

TEST(ReasonPhrase, KnowsCommonCodes) {
  EXPECT_EQ(reasonPhrase(100), "Trying");
  EXPECT_EQ(reasonPhrase(180), "Ringing");
  EXPECT_EQ(reasonPhrase(200), "OK");
  EXPECT_EQ(reasonPhrase(400), "Bad Request");
  EXPECT_EQ(reasonPhrase(413), "Request Entity Too Large");
  EXPECT_EQ(reasonPhrase(481), "Call/Transaction Does Not Exist");
  EXPECT_EQ(reasonPhrase(487), "Request Terminated");
  EXPECT_EQ(reasonPhrase(488), "Not Acceptable Here");
  EXPECT_EQ(reasonPhrase(503), "Service Unavailable");
  EXPECT_EQ(reasonPhrase(505), "Version Not Supported");
  EXPECT_EQ(reasonPhrase(513), "Message Too Large");
  EXPECT_EQ(reasonPhrase(603), "Decline");
}

TEST(ReasonPhrase, FallsBackToTheClassPhrase) {
  EXPECT_EQ(reasonPhrase(499), "Client Error");
  EXPECT_EQ(reasonPhrase(299), "Success");
  EXPECT_EQ(reasonPhrase(999), "Unknown");
}

}  // namespace
}  // namespace siprecd::sip
