#include "sip/sip_stack.hpp"

#include <gtest/gtest.h>

#include "socket_test_support.hpp"

namespace siprecd::sip {
namespace {

using std::chrono::milliseconds;
using namespace siprecd::sip::testing;

// SipStack over real loopback sockets: start-up, listeners and client transactions.
class SipStackTest : public StackSocketTest {};

TEST_F(SipStackTest, BoundListenersReportTheRealPorts) {
  ASSERT_TRUE(start(settingsFor({"udp:127.0.0.1:0", "tcp:127.0.0.1:0"})));
  ASSERT_EQ(listeners.size(), 2U);
  EXPECT_NE(listeners[0].port, 0);
  EXPECT_NE(listeners[1].port, 0);
  EXPECT_EQ(listeners[0].address, "127.0.0.1");
}

TEST_F(SipStackTest, StartFailsNamingTheListenerWhenThePortIsTaken) {
  ASSERT_TRUE(start(settingsFor({"tcp:127.0.0.1:0"})));
  const std::string taken = "tcp:127.0.0.1:" + std::to_string(port(TransportKind::Tcp));
  auto second = onLoop([&] {
    SipStack other(loop, io.context(), settingsFor({taken.c_str()}), listener);
    return other.start();
  });
  ASSERT_FALSE(second.has_value());
  EXPECT_NE(second.error().message.find(taken), std::string::npos) << second.error().message;
}

TEST_F(SipStackTest, SendRequestOverUdpCompletesWithTheResponse) {
  ASSERT_TRUE(start(settingsFor({"udp:127.0.0.1:0"})));
  Fd peer_socket = udpSocket("127.0.0.1");
  const uint16_t peer_port = localPort(peer_socket.get());
  std::promise<Result<Message>> outcome;
  onLoop([&] {
    Message bye = Message::request("BYE", "sip:src@127.0.0.1:" + std::to_string(peer_port));
    bye.addHeader("From", "<sip:srs@example.com>;tag=srs");
    bye.addHeader("To", "<sip:src@example.com>;tag=src");
    bye.addHeader("Call-ID", "bye@test");
    bye.addHeader("CSeq", "2 BYE");
    PeerAddress target{
        TransportKind::Udp, "127.0.0.1", peer_port, "127.0.0.1", port(TransportKind::Udp), 0};
    stack->sendRequest(std::move(bye), target,
                       [&](Result<Message> result) { outcome.set_value(std::move(result)); });
    return 0;
  });
  const auto received = receiveDatagram(peer_socket.get());
  ASSERT_TRUE(received.has_value());
  const Message bye = parseOrFail(received->bytes);
  EXPECT_EQ(bye.method(), "BYE");
  const auto via = topVia(bye);
  ASSERT_TRUE(via.has_value());
  EXPECT_EQ(via->host, "127.0.0.1");
  EXPECT_EQ(via->port, port(TransportKind::Udp));
  EXPECT_TRUE(hasMagicCookie(via->branch()));
  sendDatagram(peer_socket.get(), serialize(makeResponse(bye, 200)), "127.0.0.1",
               port(TransportKind::Udp));
  auto future = outcome.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(3)), std::future_status::ready);
  const auto result = future.get();
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->statusCode(), 200);
}

TEST_F(SipStackTest, SendRequestReusesTheTcpConnectionOfTheDialog) {
  ASSERT_TRUE(start(settingsFor({"tcp:127.0.0.1:0"})));
  Fd client = tcpConnect("127.0.0.1", port(TransportKind::Tcp));
  sendAll(client.get(), optionsRequest("TCP", "127.0.0.1:5999", "z9hG4bKdlg"));
  ASSERT_EQ(readStreamMessages(client.get(), 1).size(), 1U);
  std::promise<Result<Message>> outcome;
  onLoop([&] {
    PeerAddress target = listener.peers.at(0);
    Message bye = Message::request("BYE", "sip:src@127.0.0.1:5999;transport=tcp");
    bye.addHeader("From", "<sip:srs@example.com>;tag=srs");
    bye.addHeader("To", "<sip:src@example.com>;tag=src");
    bye.addHeader("Call-ID", "dlg@test");
    bye.addHeader("CSeq", "1 BYE");
    stack->sendRequest(std::move(bye), target,
                       [&](Result<Message> result) { outcome.set_value(std::move(result)); });
    return 0;
  });
  const auto requests = readStreamMessages(client.get(), 1);
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(requests[0].method(), "BYE");
  EXPECT_EQ(topVia(requests[0])->transport, "TCP");
  sendAll(client.get(), serialize(makeResponse(requests[0], 200)));
  auto future = outcome.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(3)), std::future_status::ready);
  const auto result = future.get();
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->statusCode(), 200);
}

TEST_F(SipStackTest, SendRequestToAClosedTcpPortFailsWith503) {
  ASSERT_TRUE(start(settingsFor({"tcp:127.0.0.1:0"})));
  Fd unused(::socket(AF_INET, SOCK_STREAM, 0));
  const SockAddr any = makeAddr("127.0.0.1", 0);
  ASSERT_EQ(::bind(unused.get(), any.get(), any.length), 0);
  const uint16_t dead_port = localPort(unused.get());  // bound, never listening
  std::promise<Result<Message>> outcome;
  onLoop([&] {
    Message bye = Message::request("BYE", "sip:src@127.0.0.1");
    bye.addHeader("From", "<sip:srs@example.com>;tag=srs");
    bye.addHeader("To", "<sip:src@example.com>;tag=src");
    bye.addHeader("Call-ID", "dead@test");
    bye.addHeader("CSeq", "1 BYE");
    PeerAddress target{TransportKind::Tcp, "127.0.0.1", dead_port, "", 0, 0};
    stack->sendRequest(std::move(bye), target,
                       [&](Result<Message> result) { outcome.set_value(std::move(result)); });
    return 0;
  });
  auto future = outcome.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(3)), std::future_status::ready);
  const auto result = future.get();
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, 503);
}

TEST_F(SipStackTest, TlsListenerWithoutCertificateFailsToStart) {
  auto result = onLoop([&] {
    SipStack other(loop, io.context(), settingsFor({"tls:127.0.0.1:0"}), listener);
    return other.start();
  });
  ASSERT_FALSE(result.has_value());
  EXPECT_NE(result.error().message.find("certificate_file"), std::string::npos);
}

}  // namespace
}  // namespace siprecd::sip
