#include "sip/dialog.hpp"

#include <gtest/gtest.h>

#include "sip/message_helpers.hpp"
#include "stack_test_support.hpp"

namespace siprecd::sip {
namespace {

using testing::RequestSpec;
using testing::udpPeer;

RequestSpec inviteSpec() {
  RequestSpec spec;
  spec.extra = {{"Contact", "<sip:src@192.0.2.20:5060;transport=udp>;+sip.src"},
                {"Record-Route", "<sip:proxy1.example.com;lr>"},
                {"Record-Route", "<sip:192.0.2.99:5070;lr>, <sip:proxy3.example.com;lr>"}};
  spec.cseq = "10 INVITE";
  return spec;
}

Dialog makeDialog(const RequestSpec& spec = inviteSpec(), PeerAddress peer = udpPeer()) {
  auto dialog = Dialog::createUas(spec.build(), peer, "srs-tag");
  EXPECT_TRUE(dialog.has_value()) << (dialog ? "" : dialog.error().message);
  return std::move(*dialog);
}

RequestSpec inDialog(std::string method, std::string cseq) {
  RequestSpec spec;
  spec.method = std::move(method);
  spec.to = "<sip:srs@example.com>;tag=srs-tag";
  spec.cseq = std::move(cseq);
  spec.via = "SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bKindialog";
  return spec;
}

TEST(Dialog, CreateUasTakesTagsTargetAndRouteSetFromTheInvite) {
  const Dialog dialog = makeDialog();
  EXPECT_EQ(dialog.callId(), "call-1@192.0.2.20");
  EXPECT_EQ(dialog.localTag(), "srs-tag");
  EXPECT_EQ(dialog.remoteTag(), "src-tag");
  EXPECT_EQ(dialog.remoteTarget(), "sip:src@192.0.2.20:5060;transport=udp");
  EXPECT_EQ(dialog.routeSet(),
            (std::vector<std::string>{"<sip:proxy1.example.com;lr>", "<sip:192.0.2.99:5070;lr>",
                                      "<sip:proxy3.example.com;lr>"}));
  EXPECT_EQ(dialog.remoteCseq(), 10U);
  EXPECT_FALSE(dialog.secure());
  EXPECT_EQ(dialog.peer(), udpPeer());
}

TEST(Dialog, CreateUasFailsWithoutContactOrLocalTag) {
  RequestSpec spec;
  auto no_contact = Dialog::createUas(spec.build(), udpPeer(), "t");
  ASSERT_FALSE(no_contact.has_value());
  EXPECT_EQ(no_contact.error().code, 400);
  EXPECT_NE(no_contact.error().message.find("Contact"), std::string::npos);
  auto no_tag = Dialog::createUas(inviteSpec().build(), udpPeer(), "");
  ASSERT_FALSE(no_tag.has_value());
}

TEST(Dialog, SecureOnlyForSipsOverTls) {
  RequestSpec spec = inviteSpec();
  spec.request_uri = "sips:srs@192.0.2.10:5061";
  PeerAddress tls{TransportKind::Tls, "192.0.2.20", 40000, "192.0.2.10", 5061, 4};
  EXPECT_TRUE(makeDialog(spec, tls).secure());
  EXPECT_FALSE(makeDialog(spec, udpPeer()).secure());
}

TEST(Dialog, AcceptsHigherCSeqAndRejectsLowerOrEqualWith500) {
  Dialog dialog = makeDialog();
  EXPECT_TRUE(dialog.acceptRemoteRequest(inDialog("INFO", "11 INFO").build()).has_value());
  EXPECT_EQ(dialog.remoteCseq(), 11U);
  const auto equal = dialog.acceptRemoteRequest(inDialog("INFO", "11 INFO").build());
  ASSERT_FALSE(equal.has_value());
  EXPECT_EQ(equal.error().code, 500);
  const auto lower = dialog.acceptRemoteRequest(inDialog("BYE", "3 BYE").build());
  ASSERT_FALSE(lower.has_value());
  EXPECT_EQ(lower.error().code, 500);
  EXPECT_TRUE(dialog.acceptRemoteRequest(inDialog("BYE", "12 BYE").build()).has_value());
}

TEST(Dialog, AckAndCancelRepeatingTheInviteNumberAreAccepted) {
  Dialog dialog = makeDialog();
  EXPECT_TRUE(dialog.acceptRemoteRequest(inDialog("ACK", "10 ACK").build()).has_value());
  EXPECT_EQ(dialog.remoteCseq(), 10U);
}

TEST(Dialog, RequestOfAnotherDialogIsRefusedWith481) {
  Dialog dialog = makeDialog();
  RequestSpec other = inDialog("BYE", "20 BYE");
  other.to = "<sip:srs@example.com>;tag=not-ours";
  const auto result = dialog.acceptRemoteRequest(other.build());
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, 481);
  EXPECT_FALSE(isSameDialog(other.build(), dialog));
  EXPECT_TRUE(isSameDialog(inDialog("BYE", "20 BYE").build(), dialog));
}

TEST(Dialog, TargetRefreshUpdatesTheRemoteTargetButNotTheRouteSet) {
  Dialog dialog = makeDialog();
  RequestSpec reinvite = inDialog("INVITE", "11 INVITE");
  reinvite.extra = {{"Contact", "<sip:src@192.0.2.21:5080>"},
                    {"Record-Route", "<sip:elsewhere.example.com;lr>"}};
  ASSERT_TRUE(dialog.acceptRemoteRequest(reinvite.build()).has_value());
  EXPECT_EQ(dialog.remoteTarget(), "sip:src@192.0.2.21:5080");
  EXPECT_EQ(dialog.routeSet().size(), 3U);
  RequestSpec info = inDialog("INFO", "12 INFO");
  info.extra = {{"Contact", "<sip:src@192.0.2.22:5080>"}};
  ASSERT_TRUE(dialog.acceptRemoteRequest(info.build()).has_value());
  EXPECT_EQ(dialog.remoteTarget(), "sip:src@192.0.2.21:5080");  // INFO refreshes nothing
}

TEST(Dialog, MakeRequestBuildsAByeWithLooseRoutes) {
  Dialog dialog = makeDialog();
  const Message bye = dialog.makeRequest("BYE");
  EXPECT_EQ(bye.method(), "BYE");
  EXPECT_EQ(bye.requestUri(), "sip:src@192.0.2.20:5060;transport=udp");
  const auto routes = bye.headerValues("Route");
  ASSERT_EQ(routes.size(), 3U);
  EXPECT_EQ(routes[0], "<sip:proxy1.example.com;lr>");
  EXPECT_EQ(routes[2], "<sip:proxy3.example.com;lr>");
  EXPECT_EQ(headerTag(bye, "From"), "srs-tag");
  EXPECT_EQ(headerTag(bye, "To"), "src-tag");
  EXPECT_NE(bye.header("From")->find("sip:srs@example.com"), std::string_view::npos);
  EXPECT_NE(bye.header("To")->find("sip:src@example.com"), std::string_view::npos);
  EXPECT_EQ(bye.header("Call-ID"), "call-1@192.0.2.20");
  EXPECT_EQ(bye.header("Max-Forwards"), "70");
  EXPECT_FALSE(bye.hasHeader("Via"));
  const auto cseq = cseqOf(bye);
  ASSERT_TRUE(cseq.has_value());
  EXPECT_EQ(cseq->method, "BYE");
  EXPECT_EQ(cseqOf(dialog.makeRequest("BYE"))->number, cseq->number + 1);
}

TEST(Dialog, MakeRequestHandlesAStrictRouter) {
  RequestSpec spec = inviteSpec();
  spec.extra = {{"Contact", "<sip:src@192.0.2.20:5060>"},
                {"Record-Route", "<sip:strict.example.com>"},
                {"Record-Route", "<sip:loose.example.com;lr>"}};
  Dialog dialog = makeDialog(spec);
  const Message bye = dialog.makeRequest("BYE");
  EXPECT_EQ(bye.requestUri(), "sip:strict.example.com");
  const auto routes = bye.headerValues("Route");
  ASSERT_EQ(routes.size(), 2U);
  EXPECT_EQ(routes[0], "<sip:loose.example.com;lr>");
  EXPECT_EQ(routes[1], "<sip:src@192.0.2.20:5060>");
}

TEST(Dialog, NextHopIsTheFirstRouteWhenItIsAnIpLiteralWithAPort) {
  RequestSpec spec = inviteSpec();
  spec.extra = {{"Contact", "<sip:src@192.0.2.20:5060>"},
                {"Record-Route", "<sip:192.0.2.99:5070;transport=tcp;lr>"}};
  const Dialog dialog = makeDialog(spec);
  const PeerAddress hop = dialog.nextHop();
  EXPECT_EQ(hop.transport, TransportKind::Tcp);
  EXPECT_EQ(hop.remote_address, "192.0.2.99");
  EXPECT_EQ(hop.remote_port, 5070);
  EXPECT_EQ(hop.connection_id, 0U);
}

TEST(Dialog, NextHopFallsBackToThePeerForHostNames) {
  const Dialog dialog = makeDialog();  // first route is proxy1.example.com
  EXPECT_EQ(dialog.nextHop(), udpPeer());
}

TEST(Dialog, NextHopUsesTheRemoteTargetWithoutRoutes) {
  RequestSpec spec;
  spec.extra = {{"Contact", "<sip:src@[2001:db8::5]:5090>"}};
  const Dialog dialog = makeDialog(spec, udpPeer("192.0.2.20"));
  const PeerAddress hop = dialog.nextHop();
  EXPECT_EQ(hop.transport, TransportKind::Udp);
  EXPECT_EQ(hop.remote_address, "2001:db8::5");
  EXPECT_EQ(hop.remote_port, 5090);
}

TEST(Dialog, NextHopOnThePeersAddressKeepsItsTransportAndConnection) {
  RequestSpec spec;
  spec.extra = {{"Contact", "<sip:src@192.0.2.20:5060>"}};
  PeerAddress tcp{TransportKind::Tcp, "192.0.2.20", 45000, "192.0.2.10", 5060, 9};
  const Dialog dialog = makeDialog(spec, tcp);
  const PeerAddress hop = dialog.nextHop();
  EXPECT_EQ(hop.transport, TransportKind::Tcp);
  EXPECT_EQ(hop.remote_port, 5060);
  EXPECT_EQ(hop.connection_id, 9U);
  EXPECT_EQ(hop.local_address, "192.0.2.10");
}

TEST(Dialog, NextHopWithoutPortOrTransportIsThePeer) {
  RequestSpec spec;
  spec.extra = {{"Contact", "<sip:src@192.0.2.55>"}};
  const Dialog dialog = makeDialog(spec);
  EXPECT_EQ(dialog.nextHop(), udpPeer());
}

}  // namespace
}  // namespace siprecd::sip
