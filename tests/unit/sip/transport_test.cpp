#include "sip/transport.hpp"

#include <gtest/gtest.h>

namespace siprecd::sip {
namespace {

TEST(ParseListenSpec, AcceptsEachTransportAndBothFamilies) {
  auto udp = parseListenSpec("udp:0.0.0.0:5060");
  ASSERT_TRUE(udp.has_value());
  EXPECT_EQ(*udp, (ListenSpec{TransportKind::Udp, "0.0.0.0", 5060}));
  auto tls = parseListenSpec("tls:[::1]:5061");
  ASSERT_TRUE(tls.has_value());
  EXPECT_EQ(*tls, (ListenSpec{TransportKind::Tls, "::1", 5061}));
  auto tcp = parseListenSpec("TCP:10.0.0.5:0");
  ASSERT_TRUE(tcp.has_value());
  EXPECT_EQ(*tcp, (ListenSpec{TransportKind::Tcp, "10.0.0.5", 0}));
  auto v6 = parseListenSpec("udp:[2001:DB8:0::1]:5060");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(v6->address, "2001:db8::1");
}

TEST(ParseListenSpec, RejectsMalformedSpecsNamingThePart) {
  const auto expectError = [](std::string_view text, std::string_view fragment) {
    const auto result = parseListenSpec(text);
    ASSERT_FALSE(result.has_value()) << text;
    EXPECT_NE(result.error().message.find(fragment), std::string::npos)
        << text << " -> " << result.error().message;
  };
  expectError("sctp:0.0.0.0:5060", "transport");
  expectError("udp", "expected");
  expectError("udp:0.0.0.0", "port");
  expectError("udp:0.0.0.0:70000", "port");
  expectError("udp:0.0.0.0:http", "port");
  expectError("udp:example.com:5060", "IP literal");
  expectError("udp:::1:5060", "brackets");
  expectError("udp:[::1]5060", "[ipv6]:port");
  expectError("udp:[1.2.3.4]:5060", "IPv6");
}

TEST(ParseListenSpec, RoundTripsThroughToString) {
  for (const char* text : {"udp:0.0.0.0:5060", "tls:[::1]:5061", "tcp:192.0.2.1:5070"}) {
    const auto spec = parseListenSpec(text);
    ASSERT_TRUE(spec.has_value());
    EXPECT_EQ(toString(*spec), text);
  }
}

TEST(TransportKind, SpellingsForConfigurationAndVia) {
  EXPECT_EQ(toString(TransportKind::Udp), "udp");
  EXPECT_EQ(toString(TransportKind::Tcp), "tcp");
  EXPECT_EQ(toString(TransportKind::Tls), "tls");
  EXPECT_EQ(viaTransportName(TransportKind::Tls), "TLS");
  EXPECT_EQ(parseTransportKind("Tcp"), TransportKind::Tcp);
  EXPECT_FALSE(parseTransportKind("ws").has_value());
  EXPECT_EQ(defaultPort(TransportKind::Tls), 5061);
  EXPECT_EQ(defaultPort(TransportKind::Udp), 5060);
  EXPECT_TRUE(isReliable(TransportKind::Tcp));
  EXPECT_FALSE(isReliable(TransportKind::Udp));
}

TEST(IpLiterals, NormaliseAndFormat) {
  EXPECT_EQ(normalizeIpLiteral("[::1]"), "::1");
  EXPECT_EQ(normalizeIpLiteral("0:0:0:0:0:0:0:1"), "::1");
  EXPECT_EQ(normalizeIpLiteral("192.0.2.1"), "192.0.2.1");
  EXPECT_FALSE(normalizeIpLiteral("example.com").has_value());
  EXPECT_FALSE(normalizeIpLiteral("").has_value());
  EXPECT_FALSE(normalizeIpLiteral("1.2.3.4.5").has_value());
  EXPECT_EQ(hostPort("::1", 5060), "[::1]:5060");
  EXPECT_EQ(hostPort("192.0.2.1", 5061), "192.0.2.1:5061");
}

}  // namespace
}  // namespace siprecd::sip
