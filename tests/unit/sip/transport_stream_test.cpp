#include "sip/transport_stream.hpp"

#include <gtest/gtest.h>

#include "socket_test_support.hpp"
#include "tls_test_support.hpp"

namespace siprecd::sip {
namespace {

using std::chrono::milliseconds;
using namespace siprecd::sip::testing;

// TCP and TLS through a whole SipStack on loopback.
class StreamTransportTest : public StackSocketTest {};

TEST_F(StreamTransportTest, TcpHandlesTwoMessagesInOneSegmentAndOneSplitAcrossSegments) {
  ASSERT_TRUE(start(settingsFor({"tcp:127.0.0.1:0"})));
  Fd client = tcpConnect("127.0.0.1", port(TransportKind::Tcp));
  ASSERT_GE(client.get(), 0);
  sendAll(client.get(), optionsRequest("TCP", "127.0.0.1:5999", "z9hG4bKtcp1") +
                            optionsRequest("TCP", "127.0.0.1:5999", "z9hG4bKtcp2"));
  auto responses = readStreamMessages(client.get(), 2);
  ASSERT_EQ(responses.size(), 2U);
  EXPECT_EQ(topVia(responses[0])->branch(), "z9hG4bKtcp1");
  EXPECT_EQ(topVia(responses[1])->branch(), "z9hG4bKtcp2");

  const std::string split = optionsRequest("TCP", "127.0.0.1:5999", "z9hG4bKtcp3");
  sendAll(client.get(), split.substr(0, 40));
  std::this_thread::sleep_for(milliseconds(50));
  sendAll(client.get(), split.substr(40, 100));
  std::this_thread::sleep_for(milliseconds(50));
  sendAll(client.get(), split.substr(140));
  responses = readStreamMessages(client.get(), 1);
  ASSERT_EQ(responses.size(), 1U);
  EXPECT_EQ(responses[0].statusCode(), 200);
  EXPECT_EQ(topVia(responses[0])->branch(), "z9hG4bKtcp3");

  const auto peers = onLoop([this] { return listener.peers; });
  ASSERT_EQ(peers.size(), 3U);
  EXPECT_EQ(peers[0].transport, TransportKind::Tcp);
  EXPECT_NE(peers[0].connection_id, 0U);
  EXPECT_EQ(peers[0].connection_id, peers[2].connection_id);
  EXPECT_EQ(peers[0].local_address, "127.0.0.1");
  EXPECT_EQ(stats().connections_active, 1U);
  client.reset();
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_EQ(stats().connections_active, 0U);
}

TEST_F(StreamTransportTest, TcpUnframeableStreamIsClosedAndCounted) {
  ASSERT_TRUE(start(settingsFor({"tcp:127.0.0.1:0"})));
  Fd client = tcpConnect("127.0.0.1", port(TransportKind::Tcp));
  std::string no_length = optionsRequest("TCP", "127.0.0.1:5999", "z9hG4bKnolen");
  no_length.erase(no_length.find("Content-Length: 0\r\n"), 19);
  sendAll(client.get(), no_length);
  EXPECT_TRUE(closedByPeer(client.get(), milliseconds(3000)));
  EXPECT_EQ(stats().parse_errors, 1U);
}

TEST_F(StreamTransportTest, TcpIdleConnectionsAreClosed) {
  StackSettings settings = settingsFor({"tcp:127.0.0.1:0"});
  settings.tcp_idle_timeout = std::chrono::seconds(1);
  ASSERT_TRUE(start(std::move(settings)));
  Fd client = tcpConnect("127.0.0.1", port(TransportKind::Tcp));
  EXPECT_FALSE(closedByPeer(client.get(), milliseconds(500)));
  EXPECT_TRUE(closedByPeer(client.get(), milliseconds(2500)));
}

TEST_F(StreamTransportTest, ConnectionsBeyondTheLimitAreRefused) {
  StackSettings settings = settingsFor({"tcp:127.0.0.1:0"});
  settings.max_connections = 1;
  ASSERT_TRUE(start(std::move(settings)));
  Fd first = tcpConnect("127.0.0.1", port(TransportKind::Tcp));
  std::this_thread::sleep_for(milliseconds(100));
  Fd second = tcpConnect("127.0.0.1", port(TransportKind::Tcp));
  EXPECT_TRUE(closedByPeer(second.get(), milliseconds(2000)));
  sendAll(first.get(), optionsRequest("TCP", "127.0.0.1:5999", "z9hG4bKfirst"));
  EXPECT_EQ(readStreamMessages(first.get(), 1).size(), 1U);
}

TEST_F(StreamTransportTest, TcpResponseOpensANewConnectionWhenTheOriginalClosed) {
  ASSERT_TRUE(start(settingsFor({"tcp:127.0.0.1:0"})));
  // The client's own listener, named in its Via sent-by.
  Fd client_listener(::socket(AF_INET, SOCK_STREAM, 0));
  const SockAddr any = makeAddr("127.0.0.1", 0);
  ASSERT_EQ(::bind(client_listener.get(), any.get(), any.length), 0);
  ASSERT_EQ(::listen(client_listener.get(), 4), 0);
  const uint16_t client_port = localPort(client_listener.get());

  listener.hold = true;
  {
    Fd client = tcpConnect("127.0.0.1", port(TransportKind::Tcp));
    sendAll(client.get(),
            optionsRequest("TCP", "127.0.0.1:" + std::to_string(client_port), "z9hG4bKreopen", ""));
    for (int i = 0; i < 100 && onLoop([this] { return listener.held.size(); }) == 0; ++i) {
      std::this_thread::sleep_for(milliseconds(10));
    }
  }  // closed before the TU answers
  std::this_thread::sleep_for(milliseconds(100));
  onLoop([this] {
    auto& transaction = listener.held.at(0);
    transaction->respond(makeResponse(transaction->request(), 200, "t"));
    return 0;
  });
  ASSERT_TRUE(readable(client_listener.get(), milliseconds(3000)));
  Fd accepted(::accept(client_listener.get(), nullptr, nullptr));
  const auto responses = readStreamMessages(accepted.get(), 1);
  ASSERT_EQ(responses.size(), 1U);
  EXPECT_EQ(responses[0].statusCode(), 200);
}

TEST_F(StreamTransportTest, TlsOptionsIsAnsweredOverTheEncryptedConnection) {
  TestCertificate certificate;
  StackSettings settings = settingsFor({"tls:127.0.0.1:0"});
  settings.tls.certificate_file = certificate.certificateFile();
  settings.tls.private_key_file = certificate.keyFile();
  ASSERT_TRUE(start(std::move(settings)));
  TlsClient client(certificate, false);
  ASSERT_FALSE(client.connect(port(TransportKind::Tls)));
  ASSERT_FALSE(client.write(optionsRequest("TLS", "127.0.0.1:5999", "z9hG4bKtls")));
  const auto head = client.readHead();
  ASSERT_TRUE(head.has_value()) << head.error().message;
  const Message response = parseOrFail(*head);
  EXPECT_EQ(response.statusCode(), 200);
  const auto peers = onLoop([this] { return listener.peers; });
  ASSERT_EQ(peers.size(), 1U);
  EXPECT_EQ(peers[0].transport, TransportKind::Tls);
}

TEST_F(StreamTransportTest, TlsWithVerifyClientRequiresAClientCertificate) {
  TestCertificate certificate;
  StackSettings settings = settingsFor({"tls:127.0.0.1:0"});
  settings.tls.certificate_file = certificate.certificateFile();
  settings.tls.private_key_file = certificate.keyFile();
  settings.tls.ca_file = certificate.certificateFile();
  settings.tls.verify_client = true;
  ASSERT_TRUE(start(std::move(settings)));

  TlsClient trusted(certificate, true);
  ASSERT_FALSE(trusted.connect(port(TransportKind::Tls)));
  ASSERT_FALSE(trusted.write(optionsRequest("TLS", "127.0.0.1:5999", "z9hG4bKmtls")));
  const auto head = trusted.readHead();
  ASSERT_TRUE(head.has_value()) << head.error().message;
  EXPECT_EQ(parseOrFail(*head).statusCode(), 200);

  // Without a certificate: the handshake fails, or (TLS 1.3) the first read does.
  TlsClient anonymous(certificate, false);
  bool refused = static_cast<bool>(anonymous.connect(port(TransportKind::Tls)));
  if (!refused) {
    anonymous.write(optionsRequest("TLS", "127.0.0.1:5999", "z9hG4bKanon"));
    refused = !anonymous.readHead().has_value();
  }
  EXPECT_TRUE(refused);
  EXPECT_EQ(onLoop([this] { return listener.peers.size(); }), 1U);
}

TEST_F(StreamTransportTest, TlsConnectionThatNeverHandshakesIsCut) {
  TestCertificate certificate;
  StackSettings settings = settingsFor({"tls:127.0.0.1:0"});
  settings.tls.certificate_file = certificate.certificateFile();
  settings.tls.private_key_file = certificate.keyFile();
  settings.tcp_idle_timeout = std::chrono::seconds(1);
  ASSERT_TRUE(start(std::move(settings)));
  Fd silent = tcpConnect("127.0.0.1", port(TransportKind::Tls));
  ASSERT_GE(silent.get(), 0);
  EXPECT_TRUE(closedByPeer(silent.get(), milliseconds(3000)));
  EXPECT_EQ(stats().connections_active, 0U);
}

}  // namespace
}  // namespace siprecd::sip
