#include "sip/transaction_layer.hpp"

#include <optional>

#include <gtest/gtest.h>

#include "base/manual_event_loop.hpp"
#include "sip/message_helpers.hpp"
#include "sip/response_builder.hpp"
#include "stack_test_support.hpp"

namespace siprecd::sip {
namespace {

using std::chrono::milliseconds;
using testing::CapturingSender;
using testing::RecordingListener;
using testing::RequestSpec;
using testing::udpPeer;

class TransactionLayerTest : public ::testing::Test {
 protected:
  TransactionLayerTest() : layer(loop, sender, listener, TransactionTimers{}, "siprecd-test") {}

  std::string topViaText(const Message& message) {
    return std::string(message.headerValues("Via").front());
  }

  ManualEventLoop loop;
  CapturingSender sender;
  RecordingListener listener;
  TransactionLayer layer;
};

TEST_F(TransactionLayerTest, NewInviteGets100TryingAndReachesTheTuOnce) {
  layer.receiveRequest(RequestSpec{}.build(), udpPeer());
  ASSERT_EQ(listener.requests.size(), 1U);
  EXPECT_TRUE(listener.requests[0]->isInvite());
  ASSERT_EQ(sender.sent.size(), 1U);
  const Message& trying = sender.sent[0].message;
  EXPECT_EQ(trying.statusCode(), 100);
  EXPECT_EQ(headerTag(trying, "To"), "");  // 100 Trying carries no To tag
  EXPECT_EQ(trying.header("CSeq"), "1 INVITE");
  EXPECT_EQ(trying.header("Server"), "siprecd-test");
  EXPECT_EQ(sender.sent[0].destination, udpPeer());
}

TEST_F(TransactionLayerTest, RetransmittedInviteIsAbsorbedAndAnsweredWithTheLastResponse) {
  layer.receiveRequest(RequestSpec{}.build(), udpPeer());
  listener.requests[0]->respond(makeResponse(listener.requests[0]->request(), 180, "srs-tag"));
  layer.receiveRequest(RequestSpec{}.build(), udpPeer());
  EXPECT_EQ(listener.requests.size(), 1U);
  ASSERT_EQ(sender.sent.size(), 3U);
  EXPECT_EQ(sender.sent[2].message.statusCode(), 180);
  EXPECT_EQ(layer.counters().retransmissions_absorbed, 1U);
  EXPECT_EQ(layer.counters().requests_in, 2U);
}

TEST_F(TransactionLayerTest, StampsReceivedAndRportAndAnswersToTheSourcePort) {
  RequestSpec spec;
  spec.via = "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKnat;rport";
  layer.receiveRequest(spec.build(), udpPeer("198.51.100.7", 40000));
  ASSERT_EQ(listener.requests.size(), 1U);
  const auto via = topVia(listener.requests[0]->request());
  ASSERT_TRUE(via.has_value());
  EXPECT_EQ(via->params.get("received"), "198.51.100.7");
  EXPECT_EQ(via->params.get("rport"), "40000");
  ASSERT_EQ(sender.sent.size(), 1U);
  EXPECT_EQ(sender.sent[0].destination.remote_address, "198.51.100.7");
  EXPECT_EQ(sender.sent[0].destination.remote_port, 40000);
  const auto response_via = topVia(sender.sent[0].message);
  EXPECT_EQ(response_via->params.get("rport"), "40000");
}

TEST_F(TransactionLayerTest, WithoutRportResponsesGoToReceivedAndTheSentByPort) {
  RequestSpec spec;
  spec.via = "SIP/2.0/UDP 10.0.0.5:5070;branch=z9hG4bKnorport";
  layer.receiveRequest(spec.build(), udpPeer("198.51.100.7", 40000));
  const auto via = topVia(listener.requests[0]->request());
  EXPECT_EQ(via->params.get("received"), "198.51.100.7");
  EXPECT_FALSE(via->params.has("rport"));
  EXPECT_EQ(sender.sent[0].destination.remote_address, "198.51.100.7");
  EXPECT_EQ(sender.sent[0].destination.remote_port, 5070);
}

TEST_F(TransactionLayerTest, SentByEqualToSourceAddsNoReceivedAndDefaultsToPort5060) {
  RequestSpec spec;
  spec.via = "SIP/2.0/UDP 192.0.2.20;branch=z9hG4bKnoport;maddr=203.0.113.9";
  layer.receiveRequest(spec.build(), udpPeer("192.0.2.20", 5099));
  EXPECT_EQ(topViaText(listener.requests[0]->request()), spec.via);
  EXPECT_EQ(sender.sent[0].destination.remote_address, "192.0.2.20");  // maddr ignored
  EXPECT_EQ(sender.sent[0].destination.remote_port, 5060);
}

TEST_F(TransactionLayerTest, ReceivedIsAddedForADomainNameSentBy) {
  RequestSpec spec;
  spec.via = "SIP/2.0/UDP sbc.example.com:5060;branch=z9hG4bKdomain";
  layer.receiveRequest(spec.build(), udpPeer("192.0.2.30", 5060));
  EXPECT_EQ(topVia(listener.requests[0]->request())->params.get("received"), "192.0.2.30");
  EXPECT_EQ(sender.sent[0].destination.remote_address, "192.0.2.30");
}

TEST_F(TransactionLayerTest, ReliableTransportResponsesStayOnTheConnection) {
  RequestSpec spec;
  spec.via = "SIP/2.0/TCP 192.0.2.20:5060;branch=z9hG4bKtcp";
  PeerAddress peer{TransportKind::Tcp, "192.0.2.20", 49152, "192.0.2.10", 5060, 7};
  layer.receiveRequest(spec.build(), peer);
  EXPECT_EQ(sender.sent[0].destination.connection_id, 7U);
  EXPECT_EQ(sender.sent[0].destination.transport, TransportKind::Tcp);
  EXPECT_EQ(sender.sent[0].destination.remote_port, 5060);  // if it closes: sent-by port
}

TEST_F(TransactionLayerTest, AckFor2xxWithNewBranchIsPassedUpOnceAndStopsRetransmission) {
  layer.receiveRequest(RequestSpec{}.build(), udpPeer());
  auto invite = listener.requests[0];
  invite->respond(makeResponse(invite->request(), 200, "srs-tag"));
  loop.advance(milliseconds(600));  // one retransmission at 500 ms
  EXPECT_EQ(sender.withStatus(200).size(), 2U);

  RequestSpec ack;
  ack.method = "ACK";
  ack.via = "SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bKack1";
  ack.to = "<sip:srs@example.com>;tag=srs-tag";
  ack.cseq = "1 ACK";
  layer.receiveRequest(ack.build(), udpPeer());
  layer.receiveRequest(ack.build(), udpPeer());
  EXPECT_EQ(listener.acks.size(), 1U);
  EXPECT_EQ(layer.counters().retransmissions_absorbed, 1U);

  loop.advance(milliseconds(40000));
  EXPECT_EQ(sender.withStatus(200).size(), 2U);
  EXPECT_TRUE(listener.ack_timeouts.empty());
  EXPECT_EQ(layer.serverTransactionCount(), 0U);
  // After Timer L the transaction is gone: a late ACK copy goes to the TU.
  layer.receiveRequest(ack.build(), udpPeer());
  EXPECT_EQ(listener.acks.size(), 2U);
}

TEST_F(TransactionLayerTest, AckWithWrongToTagDoesNotStop2xxRetransmission) {
  layer.receiveRequest(RequestSpec{}.build(), udpPeer());
  auto invite = listener.requests[0];
  invite->respond(makeResponse(invite->request(), 200, "srs-tag"));
  RequestSpec ack;
  ack.method = "ACK";
  ack.via = "SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bKack1";
  ack.to = "<sip:srs@example.com>;tag=other";
  ack.cseq = "1 ACK";
  layer.receiveRequest(ack.build(), udpPeer());
  EXPECT_EQ(listener.acks.size(), 1U);  // passed up as a stray ACK
  loop.advance(milliseconds(1600));
  EXPECT_EQ(sender.withStatus(200).size(), 3U);
}

TEST_F(TransactionLayerTest, UnacknowledgedInvite2xxEndsInAckTimeoutAt32Seconds) {
  layer.receiveRequest(RequestSpec{}.build(), udpPeer());
  auto invite = listener.requests[0];
  invite->respond(makeResponse(invite->request(), 200, "srs-tag"));
  loop.advance(milliseconds(31999));
  EXPECT_TRUE(listener.ack_timeouts.empty());
  EXPECT_EQ(sender.withStatus(200).size(), 11U);
  loop.advance(milliseconds(1));
  ASSERT_EQ(listener.ack_timeouts.size(), 1U);
  EXPECT_EQ(listener.ack_timeouts[0].message.method(), "INVITE");
  EXPECT_EQ(listener.ack_timeouts[0].destination, udpPeer());
  loop.runReady();
  EXPECT_EQ(layer.serverTransactionCount(), 0U);
  invite->respond(makeResponse(invite->request(), 500));  // ignored: no crash, nothing sent
  EXPECT_EQ(sender.withStatus(500).size(), 0U);
}

TEST_F(TransactionLayerTest, AckForErrorResponseIsAbsorbedAndStopsRetransmission) {
  layer.receiveRequest(RequestSpec{}.build(), udpPeer());
  auto invite = listener.requests[0];
  invite->respond(makeResponse(invite->request(), 486, "srs-tag"));
  RequestSpec ack;  // same branch as the INVITE (RFC 3261 §17.1.1.3)
  ack.method = "ACK";
  ack.to = "<sip:srs@example.com>;tag=srs-tag";
  ack.cseq = "1 ACK";
  loop.advance(milliseconds(600));
  layer.receiveRequest(ack.build(), udpPeer());
  EXPECT_TRUE(listener.acks.empty());
  loop.advance(milliseconds(4999));
  EXPECT_EQ(sender.withStatus(486).size(), 2U);
  EXPECT_EQ(layer.serverTransactionCount(), 1U);
  loop.advance(milliseconds(1));  // Timer I = T4 after the ACK
  loop.runReady();
  EXPECT_EQ(layer.serverTransactionCount(), 0U);
}

TEST_F(TransactionLayerTest, ErrorResponseWithoutAckEndsAtTimerH) {
  layer.receiveRequest(RequestSpec{}.build(), udpPeer());
  listener.requests[0]->respond(makeResponse(listener.requests[0]->request(), 503, "t"));
  loop.advance(milliseconds(31999));
  EXPECT_EQ(layer.serverTransactionCount(), 1U);
  loop.advance(milliseconds(1));
  loop.runReady();
  EXPECT_EQ(layer.serverTransactionCount(), 0U);
  EXPECT_TRUE(listener.ack_timeouts.empty());
  EXPECT_EQ(sender.withStatus(503).size(), 11U);
}

TEST_F(TransactionLayerTest, CancelOfPendingInviteIsAnswered200AndReachesTheTu) {
  listener.on_cancel = [](ServerTransaction& invite) {
    invite.respond(makeResponse(invite.request(), 487, "srs-tag"));
  };
  layer.receiveRequest(RequestSpec{}.build(), udpPeer());
  listener.requests[0]->respond(makeResponse(listener.requests[0]->request(), 180, "srs-tag"));
  RequestSpec cancel;
  cancel.method = "CANCEL";
  layer.receiveRequest(cancel.build(), udpPeer());
  ASSERT_EQ(listener.cancels.size(), 1U);
  EXPECT_EQ(listener.cancels[0], listener.requests[0].get());
  EXPECT_EQ(listener.requests.size(), 1U);  // CANCEL is not a new request for the TU
  const auto oks = sender.withStatus(200);
  ASSERT_EQ(oks.size(), 1U);
  EXPECT_EQ(oks[0]->message.header("CSeq"), "1 CANCEL");
  EXPECT_EQ(headerTag(oks[0]->message, "To"), "srs-tag");  // same tag as the INVITE's (§9.2)
  EXPECT_EQ(sender.withStatus(487).size(), 1U);
  EXPECT_EQ(sender.withStatus(487)[0]->message.header("CSeq"), "1 INVITE");

  layer.receiveRequest(cancel.build(), udpPeer());  // retransmitted CANCEL
  EXPECT_EQ(listener.cancels.size(), 1U);
  EXPECT_EQ(sender.withStatus(200).size(), 2U);
}

TEST_F(TransactionLayerTest, CancelMatchingNothingIsAnswered481) {
  RequestSpec cancel;
  cancel.method = "CANCEL";
  cancel.via = "SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bKunknown";
  layer.receiveRequest(cancel.build(), udpPeer());
  EXPECT_TRUE(listener.cancels.empty());
  ASSERT_EQ(sender.withStatus(481).size(), 1U);
  EXPECT_FALSE(headerTag(sender.withStatus(481)[0]->message, "To").empty());
}

TEST_F(TransactionLayerTest, CancelAfterFinalResponseIsAnswered200WithoutTellingTheTu) {
  layer.receiveRequest(RequestSpec{}.build(), udpPeer());
  listener.requests[0]->respond(makeResponse(listener.requests[0]->request(), 200, "srs-tag"));
  RequestSpec cancel;
  cancel.method = "CANCEL";
  layer.receiveRequest(cancel.build(), udpPeer());
  EXPECT_TRUE(listener.cancels.empty());
  EXPECT_EQ(sender.withStatus(200).size(), 2U);  // the INVITE's and the CANCEL's
}

TEST_F(TransactionLayerTest, AckMatchingNothingIsPassedToTheTu) {
  RequestSpec ack;
  ack.method = "ACK";
  ack.via = "SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bKlate";
  ack.cseq = "9 ACK";
  layer.receiveRequest(ack.build(), udpPeer());
  ASSERT_EQ(listener.acks.size(), 1U);
  EXPECT_TRUE(sender.sent.empty());
}

TEST_F(TransactionLayerTest, NonInviteGetsNo100AndRetransmissionsGetTheFinalResponse) {
  RequestSpec options;
  options.method = "OPTIONS";
  options.via = "SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bKopt";
  layer.receiveRequest(options.build(), udpPeer());
  EXPECT_TRUE(sender.sent.empty());
  ASSERT_EQ(listener.requests.size(), 1U);
  EXPECT_FALSE(listener.requests[0]->isInvite());
  layer.receiveRequest(options.build(), udpPeer());  // Trying: absorbed silently
  EXPECT_TRUE(sender.sent.empty());
  listener.requests[0]->respond(makeResponse(listener.requests[0]->request(), 200, "t"));
  layer.receiveRequest(options.build(), udpPeer());
  EXPECT_EQ(sender.withStatus(200).size(), 2U);
  EXPECT_EQ(listener.requests.size(), 1U);
  EXPECT_EQ(layer.counters().retransmissions_absorbed, 2U);
  loop.advance(milliseconds(32000));  // Timer J
  loop.runReady();
  EXPECT_EQ(layer.serverTransactionCount(), 0U);
}

TEST_F(TransactionLayerTest, SameBranchDifferentSentByIsADifferentTransaction) {
  RequestSpec first;
  first.method = "OPTIONS";
  first.via = "SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bKsame";
  RequestSpec second = first;
  second.via = "SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bKsame";
  layer.receiveRequest(first.build(), udpPeer());
  layer.receiveRequest(second.build(), udpPeer("192.0.2.21"));
  EXPECT_EQ(listener.requests.size(), 2U);
}

TEST_F(TransactionLayerTest, Rfc2543RequestsWithoutMagicCookieStillMatch) {
  RequestSpec invite;
  invite.via = "SIP/2.0/UDP 192.0.2.20:5060";
  layer.receiveRequest(invite.build(), udpPeer());
  layer.receiveRequest(invite.build(), udpPeer());
  EXPECT_EQ(listener.requests.size(), 1U);
  listener.requests[0]->respond(makeResponse(listener.requests[0]->request(), 486, "srs-tag"));
  RequestSpec ack = invite;
  ack.method = "ACK";
  ack.to = "<sip:srs@example.com>;tag=srs-tag";
  ack.cseq = "1 ACK";
  layer.receiveRequest(ack.build(), udpPeer());
  EXPECT_TRUE(listener.acks.empty());
}

TEST_F(TransactionLayerTest, RequestMissingCallIdIsAnswered400WithAWarning) {
  RequestSpec spec;
  spec.method = "OPTIONS";
  spec.call_id.clear();
  layer.receiveRequest(spec.build(), udpPeer());
  EXPECT_TRUE(listener.requests.empty());
  ASSERT_EQ(sender.withStatus(400).size(), 1U);
  const auto warning = sender.withStatus(400)[0]->message.header("Warning");
  ASSERT_TRUE(warning.has_value());
  EXPECT_NE(warning->find("Call-ID"), std::string_view::npos);
}

TEST_F(TransactionLayerTest, CSeqMethodMismatchIsAnswered400) {
  RequestSpec spec;
  spec.method = "OPTIONS";
  spec.cseq = "1 INVITE";
  layer.receiveRequest(spec.build(), udpPeer());
  EXPECT_TRUE(listener.requests.empty());
  EXPECT_EQ(sender.withStatus(400).size(), 1U);
}

TEST_F(TransactionLayerTest, RequestWithoutViaIsDroppedSilently) {
  RequestSpec spec;
  spec.via.clear();
  layer.receiveRequest(spec.build(), udpPeer());
  EXPECT_TRUE(listener.requests.empty());
  EXPECT_TRUE(sender.sent.empty());
  EXPECT_EQ(layer.counters().invalid_requests, 1U);
}

TEST_F(TransactionLayerTest, MalformedRequestIsAnswered400NamingTheProblem) {
  RequestSpec spec;
  spec.method = "OPTIONS";
  spec.via = "SIP/2.0/UDP 10.1.1.1:5062;branch=z9hG4bKbad;rport";
  layer.rejectMalformedRequest(spec.build(), udpPeer("198.51.100.9", 6000),
                               "bad \"Content-Length\"");
  ASSERT_EQ(sender.withStatus(400).size(), 1U);
  const auto& sent = *sender.withStatus(400)[0];
  EXPECT_EQ(sent.destination.remote_address, "198.51.100.9");
  EXPECT_EQ(sent.destination.remote_port, 6000);
  EXPECT_EQ(sent.message.header("Warning"), R"(399 siprecd "bad \"Content-Length\"")");
  EXPECT_EQ(topVia(sent.message)->params.get("received"), "198.51.100.9");

  RequestSpec ack;
  ack.method = "ACK";
  layer.rejectMalformedRequest(ack.build(), udpPeer(), "whatever");  // never answered
  EXPECT_EQ(sender.sent.size(), 1U);
}

TEST_F(TransactionLayerTest, SendRequestAddsViaWithFreshBranchAndMatchesTheResponse) {
  RequestSpec bye;
  bye.method = "BYE";
  bye.via.clear();
  std::optional<Result<Message>> outcome;
  const PeerAddress target = udpPeer();
  layer.sendRequest(bye.build(), target, [&](Result<Message> result) { outcome = result; });
  ASSERT_EQ(sender.sent.size(), 1U);
  const Message& sent = sender.sent[0].message;
  EXPECT_EQ(sender.sent[0].destination, target);
  const auto via = topVia(sent);
  ASSERT_TRUE(via.has_value());
  EXPECT_EQ(via->transport, "UDP");
  EXPECT_EQ(via->host, "192.0.2.10");
  EXPECT_EQ(via->port, 5060);
  EXPECT_TRUE(hasMagicCookie(via->branch()));
  EXPECT_TRUE(via->params.has("rport"));
  EXPECT_EQ(layer.clientTransactionCount(), 1U);

  // A response to another branch is stray; the right one completes the transaction.
  Message stray = makeResponse(sent, 200);
  stray.removeHeader("Via");
  stray.addHeader("Via", "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKother");
  layer.receiveResponse(stray, udpPeer());
  EXPECT_FALSE(outcome.has_value());
  EXPECT_EQ(layer.counters().stray_responses, 1U);

  layer.receiveResponse(makeResponse(sent, 100), udpPeer());
  EXPECT_FALSE(outcome.has_value());
  layer.receiveResponse(makeResponse(sent, 200), udpPeer());
  ASSERT_TRUE(outcome.has_value());
  ASSERT_TRUE(outcome->has_value());
  EXPECT_EQ((*outcome)->statusCode(), 200);
  loop.advance(milliseconds(5000));  // Timer K
  loop.runReady();
  EXPECT_EQ(layer.clientTransactionCount(), 0U);
}

TEST_F(TransactionLayerTest, SendRequestTimesOutWith408AfterRetransmissions) {
  RequestSpec bye;
  bye.method = "BYE";
  bye.via.clear();
  std::optional<Result<Message>> outcome;
  layer.sendRequest(bye.build(), udpPeer(), [&](Result<Message> result) { outcome = result; });
  loop.advance(milliseconds(32000));
  ASSERT_TRUE(outcome.has_value());
  ASSERT_FALSE(outcome->has_value());
  EXPECT_EQ(outcome->error().code, 408);
  EXPECT_EQ(sender.sent.size(), 11U);
  // Every retransmission is the same request (same branch).
  EXPECT_EQ(topVia(sender.sent.back().message)->branch(),
            topVia(sender.sent.front().message)->branch());
}

TEST_F(TransactionLayerTest, TransportErrorCompletesTheClientTransactionWith503) {
  RequestSpec bye;
  bye.method = "BYE";
  bye.via.clear();
  int calls = 0;
  std::optional<Result<Message>> outcome;
  PeerAddress target{TransportKind::Tcp, "192.0.2.20", 5060, "192.0.2.10", 5060, 0};
  layer.sendRequest(bye.build(), target, [&](Result<Message> result) {
    ++calls;
    outcome = result;
  });
  ASSERT_EQ(sender.error_handlers.size(), 1U);
  ASSERT_TRUE(sender.error_handlers[0]);
  sender.error_handlers[0](Error{"connection refused", 503});
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->error().code, 503);
  loop.advance(milliseconds(40000));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(sender.sent.size(), 1U);  // reliable: never retransmitted
}

TEST_F(TransactionLayerTest, SendRequestRefusesInviteOnTheLoop) {
  std::optional<Result<Message>> outcome;
  layer.sendRequest(RequestSpec{}.build(), udpPeer(),
                    [&](Result<Message> result) { outcome = result; });
  EXPECT_FALSE(outcome.has_value());  // never inside the call
  loop.runReady();
  ASSERT_TRUE(outcome.has_value());
  EXPECT_FALSE(outcome->has_value());
  EXPECT_TRUE(sender.sent.empty());
}

TEST(TransactionLayerLifetime, TransactionHeldByTheTuIsInertOnceTheLayerIsGone) {
  ManualEventLoop loop;
  CapturingSender sender;
  RecordingListener listener;
  std::shared_ptr<ServerTransaction> kept;
  {
    TransactionLayer layer(loop, sender, listener, TransactionTimers{}, "");
    layer.receiveRequest(RequestSpec{}.build(), udpPeer());
    kept = listener.requests[0];
  }
  const auto sent_before = sender.sent.size();
  kept->respond(makeResponse(kept->request(), 200, "t"));
  loop.advance(milliseconds(40000));
  EXPECT_EQ(sender.sent.size(), sent_before);
  EXPECT_TRUE(listener.ack_timeouts.empty());
}

TEST(TransactionLayerStatic, ResponseDestinationUsesRportValueOnUdpOnly) {
  auto via = parseVia("SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bKx;received=192.0.2.1;rport=4000");
  ASSERT_TRUE(via.has_value());
  const auto udp = TransactionLayer::responseDestination(*via, udpPeer("192.0.2.1", 4000));
  EXPECT_EQ(udp.remote_port, 4000);
  PeerAddress tcp_source{TransportKind::Tcp, "192.0.2.1", 4000, "192.0.2.10", 5060, 3};
  const auto tcp = TransactionLayer::responseDestination(*via, tcp_source);
  EXPECT_EQ(tcp.connection_id, 3U);
  EXPECT_EQ(tcp.remote_port, 5070);
}

TEST(TransactionLayerStatic, StampReceivedNormalisesIpv6) {
  auto via = parseVia("SIP/2.0/UDP [2001:db8:0::1]:5060;branch=z9hG4bKv6");
  ASSERT_TRUE(via.has_value());
  EXPECT_FALSE(TransactionLayer::stampReceived(*via, udpPeer("2001:db8::1", 5060)));
  EXPECT_FALSE(via->params.has("received"));
  EXPECT_TRUE(TransactionLayer::stampReceived(*via, udpPeer("2001:db8::2", 5060)));
  EXPECT_EQ(via->params.get("received"), "2001:db8::2");
}

}  // namespace
}  // namespace siprecd::sip
