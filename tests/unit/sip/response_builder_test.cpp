#include "sip/response_builder.hpp"

#include <gtest/gtest.h>

#include "sip/message_helpers.hpp"
#include "stack_test_support.hpp"

namespace siprecd::sip {
namespace {

using testing::RequestSpec;

TEST(MakeResponse, CopiesViasInOrderAndTheDialogHeaders) {
  RequestSpec spec;
  spec.via = "SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bKa, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKb";
  spec.extra = {{"Via", "SIP/2.0/TCP 10.0.0.2;branch=z9hG4bKc"},
                {"Contact", "<sip:src@192.0.2.20>"},
                {"Subject", "not copied"}};
  const Message request = spec.build();
  const Message response = makeResponse(request, 486);
  EXPECT_TRUE(response.isResponse());
  EXPECT_EQ(response.statusCode(), 486);
  EXPECT_EQ(response.reason(), reasonPhrase(486));
  const auto vias = response.headerValues("Via");
  ASSERT_EQ(vias.size(), 3U);
  EXPECT_EQ(vias[0], "SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bKa");
  EXPECT_EQ(vias[2], "SIP/2.0/TCP 10.0.0.2;branch=z9hG4bKc");
  EXPECT_EQ(response.header("From"), request.header("From"));
  EXPECT_EQ(response.header("To"), request.header("To"));
  EXPECT_EQ(response.header("Call-ID"), request.header("Call-ID"));
  EXPECT_EQ(response.header("CSeq"), request.header("CSeq"));
  EXPECT_FALSE(response.hasHeader("Contact"));
  EXPECT_FALSE(response.hasHeader("Subject"));
}

TEST(MakeResponse, AddsTheToTagOnlyWhenMissing) {
  RequestSpec spec;
  EXPECT_EQ(headerTag(makeResponse(spec.build(), 200, "ours"), "To"), "ours");
  EXPECT_EQ(headerTag(makeResponse(spec.build(), 100), "To"), "");
  spec.to = "<sip:srs@example.com>;tag=existing";
  EXPECT_EQ(headerTag(makeResponse(spec.build(), 200, "ours"), "To"), "existing");
}

TEST(MakeResponse, CopiesRecordRouteOnlyIntoDialogCreatingInviteResponses) {
  RequestSpec spec;
  spec.extra = {{"Record-Route", "<sip:p1.example.com;lr>"},
                {"Record-Route", "<sip:p2.example.com;lr>"}};
  const auto ok = makeResponse(spec.build(), 200, "t");
  EXPECT_EQ(ok.headerValues("Record-Route").size(), 2U);
  EXPECT_EQ(makeResponse(spec.build(), 180, "t").headerValues("Record-Route").size(), 2U);
  EXPECT_FALSE(makeResponse(spec.build(), 100).hasHeader("Record-Route"));
  EXPECT_FALSE(makeResponse(spec.build(), 486, "t").hasHeader("Record-Route"));
  spec.method = "OPTIONS";
  EXPECT_FALSE(makeResponse(spec.build(), 200, "t").hasHeader("Record-Route"));
}

TEST(MakeResponse, ExplicitReasonAndWarningAreEscaped) {
  Message response = makeResponseWithReason(RequestSpec{}.build(), 400, "Bad Request - Via");
  EXPECT_EQ(response.reason(), "Bad Request - Via");
  addWarning(response, "siprecd", "bad \"x\" \\ \r\nend");
  EXPECT_EQ(response.header("Warning"), R"(399 siprecd "bad \"x\" \\   end")");
}

}  // namespace
}  // namespace siprecd::sip
