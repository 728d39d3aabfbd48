#include "sip/transport_udp.hpp"

#include <gtest/gtest.h>

#include "socket_test_support.hpp"

namespace siprecd::sip {
namespace {

using std::chrono::milliseconds;
using namespace siprecd::sip::testing;

// UDP through a whole SipStack on loopback (IPv4, IPv6, wildcard binding).
class UdpTransportTest : public StackSocketTest {};

TEST_F(UdpTransportTest, UdpOptionsIsAnswered200WithReceivedAndRport) {
  ASSERT_TRUE(start(settingsFor({"udp:127.0.0.1:0"})));
  Fd client = udpSocket("127.0.0.1");
  const uint16_t client_port = localPort(client.get());
  // The sent-by (127.0.0.2:5999) is not where we are: only received/rport can reach us.
  sendDatagram(client.get(), optionsRequest("UDP", "127.0.0.2:5999", "z9hG4bKudp1"), "127.0.0.1",
               port(TransportKind::Udp));
  const auto reply = receiveDatagram(client.get());
  ASSERT_TRUE(reply.has_value());
  const Message response = parseOrFail(reply->bytes);
  EXPECT_EQ(response.statusCode(), 200);
  EXPECT_EQ(response.header("Server"), "siprecd");
  const auto via = topVia(response);
  ASSERT_TRUE(via.has_value());
  EXPECT_EQ(via->params.get("received"), "127.0.0.1");
  EXPECT_EQ(via->params.get("rport"), std::to_string(client_port));
  EXPECT_EQ(reply->from_port, port(TransportKind::Udp));

  const auto peer = onLoop([this] { return listener.peers.at(0); });
  EXPECT_EQ(peer.transport, TransportKind::Udp);
  EXPECT_EQ(peer.remote_address, "127.0.0.1");
  EXPECT_EQ(peer.remote_port, client_port);
  EXPECT_EQ(peer.local_address, "127.0.0.1");
  EXPECT_EQ(peer.local_port, port(TransportKind::Udp));
  const auto counters = stats();
  EXPECT_EQ(counters.requests_in, 1U);
  EXPECT_EQ(counters.responses_out, 1U);
}

TEST_F(UdpTransportTest, UdpRetransmissionIsAbsorbedAndAnsweredAgain) {
  ASSERT_TRUE(start(settingsFor({"udp:127.0.0.1:0"})));
  Fd client = udpSocket("127.0.0.1");
  const std::string request = optionsRequest("UDP", "127.0.0.1:5999", "z9hG4bKretx");
  sendDatagram(client.get(), request, "127.0.0.1", port(TransportKind::Udp));
  ASSERT_TRUE(receiveDatagram(client.get()).has_value());
  sendDatagram(client.get(), request, "127.0.0.1", port(TransportKind::Udp));
  ASSERT_TRUE(receiveDatagram(client.get()).has_value());
  EXPECT_EQ(onLoop([this] { return listener.methods.size(); }), 1U);
  EXPECT_EQ(stats().retransmissions_absorbed, 1U);
}

TEST_F(UdpTransportTest, WildcardUdpReportsTheAddressEachDatagramArrivedOn) {
  ASSERT_TRUE(start(settingsFor({"udp:0.0.0.0:0"})));
  Fd client = udpSocket("127.0.0.1");
  // All of 127/8 is local on Linux: two different destination addresses, one socket.
  sendDatagram(client.get(), optionsRequest("UDP", "127.0.0.1:5999", "z9hG4bKwild1"), "127.0.0.1",
               port(TransportKind::Udp));
  const auto first = receiveDatagram(client.get());
  sendDatagram(client.get(), optionsRequest("UDP", "127.0.0.1:5999", "z9hG4bKwild2"), "127.0.0.5",
               port(TransportKind::Udp));
  const auto second = receiveDatagram(client.get());
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(first->from_address, "127.0.0.1");
  EXPECT_EQ(second->from_address, "127.0.0.5");  // answered from the address it came to
  const auto peers = onLoop([this] { return listener.peers; });
  ASSERT_EQ(peers.size(), 2U);
  EXPECT_EQ(peers[0].local_address, "127.0.0.1");
  EXPECT_EQ(peers[1].local_address, "127.0.0.5");
}

TEST_F(UdpTransportTest, Ipv6UdpOptionsIsAnswered) {
  Fd probe = udpSocket("::1");
  if (probe.get() < 0) {
    GTEST_SKIP() << "no IPv6 loopback on this machine";
  }
  ASSERT_TRUE(start(settingsFor({"udp:[::1]:0"})));
  const uint16_t client_port = localPort(probe.get());
  sendDatagram(probe.get(), optionsRequest("UDP", "[::1]:5999", "z9hG4bKv6"), "::1",
               port(TransportKind::Udp));
  const auto reply = receiveDatagram(probe.get());
  ASSERT_TRUE(reply.has_value());
  const Message response = parseOrFail(reply->bytes);
  EXPECT_EQ(response.statusCode(), 200);
  EXPECT_EQ(topVia(response)->params.get("rport"), std::to_string(client_port));
  EXPECT_EQ(topVia(response)->params.get("received"), "::1");  // rport forces received
}

TEST_F(UdpTransportTest, GarbageIsDroppedAndAMalformedRequestIsAnswered400) {
  ASSERT_TRUE(start(settingsFor({"udp:127.0.0.1:0"})));
  Fd client = udpSocket("127.0.0.1");
  const uint16_t client_port = localPort(client.get());
  sendDatagram(client.get(), "\x01\x02 this is not SIP \xff", "127.0.0.1",
               port(TransportKind::Udp));
  EXPECT_FALSE(receiveDatagram(client.get(), milliseconds(300)).has_value());
  const std::string malformed =
      "OPTIONS sip:srs@127.0.0.1 SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 127.0.0.1:" +
      std::to_string(client_port) +
      ";branch=z9hG4bKbad\r\n"
      "From: <sip:ping@example.com>;tag=1\r\n"
      "To: <sip:srs@example.com>\r\n"
      "Call-ID: bad@test\r\n"
      "CSeq: 1 OPTIONS\r\n"
      "Content-Length: twelve\r\n\r\n";
  sendDatagram(client.get(), malformed, "127.0.0.1", port(TransportKind::Udp));
  const auto reply = receiveDatagram(client.get());
  ASSERT_TRUE(reply.has_value());
  const Message response = parseOrFail(reply->bytes);
  EXPECT_EQ(response.statusCode(), 400);
  ASSERT_TRUE(response.hasHeader("Warning"));
  EXPECT_NE(response.header("Warning")->find("Content-Length"), std::string_view::npos);
  EXPECT_EQ(stats().parse_errors, 2U);
  EXPECT_TRUE(onLoop([this] { return listener.methods.empty(); }));
}

}  // namespace
}  // namespace siprecd::sip
