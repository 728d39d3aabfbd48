#include "sdp/session_description.hpp"

#include <gtest/gtest.h>

#include "sdp/parser.hpp"
#include "sdp/static_payload_types.hpp"

namespace siprecd::sdp {
namespace {

SessionDescription parsed(std::string_view text) {
  auto sdp = parseSdp(text);
  EXPECT_TRUE(sdp) << (sdp ? "" : sdp.error().message);
  return sdp ? *sdp : SessionDescription{};
}

MediaDescription audio(std::string_view formats, std::string_view attributes,
                       std::string_view proto = "RTP/AVP") {
  std::string text = "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\nm=audio 4000 ";
  text += std::string(proto) + " " + std::string(formats) + "\n" + std::string(attributes);
  SessionDescription sdp = parsed(text);
  return sdp.media.empty() ? MediaDescription{} : sdp.media.front();
}

TEST(SdpStaticPayloadTypes, FollowRfc3551Tables) {
  EXPECT_EQ(staticPayloadType(0), (RtpMap{"PCMU", 8000, 1}));
  EXPECT_EQ(staticPayloadType(3), (RtpMap{"GSM", 8000, 1}));
  EXPECT_EQ(staticPayloadType(8), (RtpMap{"PCMA", 8000, 1}));
  EXPECT_EQ(staticPayloadType(9), (RtpMap{"G722", 8000, 1}));
  EXPECT_EQ(staticPayloadType(10), (RtpMap{"L16", 44100, 2}));
  EXPECT_EQ(staticPayloadType(18), (RtpMap{"G729", 8000, 1}));
  EXPECT_EQ(staticPayloadType(34), (RtpMap{"H263", 90000, 1}));
  EXPECT_FALSE(staticPayloadType(2));
  EXPECT_FALSE(staticPayloadType(19));
  EXPECT_FALSE(staticPayloadType(96));
}

TEST(SdpMedia, RtpmapFallsBackToStaticPayloadType) {
  MediaDescription media = audio("0 9 18", "");
  EXPECT_EQ(media.rtpmap("0"), (RtpMap{"PCMU", 8000, 1}));
  EXPECT_EQ(media.rtpmap("9"), (RtpMap{"G722", 8000, 1}));
  EXPECT_EQ(media.rtpmap("18"), (RtpMap{"G729", 8000, 1}));
}

TEST(SdpMedia, ExplicitRtpmapWinsAndParsesChannels) {
  MediaDescription media =
      audio("0 96 97", "a=rtpmap:0 pcmu/8000\na=rtpmap:96 opus/48000/2\na=rtpmap:97 L16/16000\n");
  EXPECT_EQ(media.rtpmap("0"), (RtpMap{"pcmu", 8000, 1}));
  EXPECT_EQ(media.rtpmap("96"), (RtpMap{"opus", 48000, 2}));
  EXPECT_EQ(media.rtpmap("97"), (RtpMap{"L16", 16000, 1}));
}

TEST(SdpMedia, DynamicPayloadTypeWithoutValidRtpmapIsUnknown) {
  MediaDescription media = audio("96 97 8", "a=rtpmap:97 opus/abc\na=rtpmap:8 PCMA\n");
  EXPECT_FALSE(media.rtpmap("96"));
  EXPECT_FALSE(media.rtpmap("97"));
  EXPECT_EQ(media.rtpmap("8"), (RtpMap{"PCMA", 8000, 1}));  // malformed → static default
  EXPECT_FALSE(media.rtpmap("128"));
}

TEST(SdpMedia, NonRtpTransportHasNoStaticDefaults) {
  MediaDescription media = audio("0", "", "udp");
  EXPECT_FALSE(media.isRtp());
  EXPECT_FALSE(media.rtpmap("0"));
  EXPECT_TRUE(audio("0", "", "UDP/TLS/RTP/SAVPF").isRtp());
}

TEST(SdpMedia, FmtpPtimeAndMaxptime) {
  MediaDescription media =
      audio("18 101", "a=fmtp:18 annexb=no\na=fmtp:101 0-16\na=ptime:20.0\na=maxptime:40\n");
  EXPECT_EQ(media.fmtp("18"), "annexb=no");
  EXPECT_EQ(media.fmtp("101"), "0-16");
  EXPECT_FALSE(media.fmtp("1"));
  EXPECT_EQ(media.ptime(), 20u);
  EXPECT_EQ(media.maxptime(), 40u);
  EXPECT_FALSE(audio("0", "a=ptime:abc\n").ptime());
}

TEST(SdpMedia, LabelRtcpMuxAndRtcpAttribute) {
  MediaDescription media =
      audio("0", "a=label:caller-1\na=rtcp-mux\na=rtcp:53020 IN IP6 2001:db8::7\n");
  EXPECT_EQ(media.label(), "caller-1");
  EXPECT_TRUE(media.rtcpMux());
  auto rtcp = media.rtcp();
  ASSERT_TRUE(rtcp);
  EXPECT_EQ(rtcp->port, 53020);
  ASSERT_TRUE(rtcp->connection);
  EXPECT_EQ(rtcp->connection->addr_type, "IP6");
  EXPECT_EQ(rtcp->connection->address, "2001:db8::7");

  MediaDescription bare = audio("0", "a=rtcp:4001\n");
  EXPECT_FALSE(bare.label());
  EXPECT_FALSE(bare.rtcpMux());
  ASSERT_TRUE(bare.rtcp());
  EXPECT_EQ(bare.rtcp()->port, 4001);
  EXPECT_FALSE(bare.rtcp()->connection);
  EXPECT_FALSE(audio("0", "a=rtcp:99999\n").rtcp());
}

TEST(SdpSession, DirectionComesFromMediaThenSessionThenSendrecv) {
  SessionDescription sdp = parsed(
      "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\na=sendonly\n"
      "m=audio 4000 RTP/AVP 0\n"
      "m=audio 4002 RTP/AVP 0\na=inactive\n");
  EXPECT_EQ(sdp.direction(), Direction::SendOnly);
  EXPECT_FALSE(sdp.media[0].direction());
  EXPECT_EQ(sdp.effectiveDirection(sdp.media[0]), Direction::SendOnly);
  EXPECT_EQ(sdp.effectiveDirection(sdp.media[1]), Direction::Inactive);

  SessionDescription plain = parsed("v=0\no=- 1 1 IN IP4 192.0.2.1\nm=audio 4000 RTP/AVP 0\n");
  EXPECT_EQ(plain.effectiveDirection(plain.media[0]), Direction::SendRecv);
}

TEST(SdpSession, DirectionNamesRoundTrip) {
  for (Direction d :
       {Direction::SendRecv, Direction::SendOnly, Direction::RecvOnly, Direction::Inactive}) {
    EXPECT_EQ(directionFromName(toString(d)), d);
  }
  EXPECT_EQ(directionFromName("SENDONLY"), Direction::SendOnly);
  EXPECT_FALSE(directionFromName("label"));
}

TEST(SdpSession, MediaConnectionOverridesSessionConnection) {
  SessionDescription sdp = parsed(
      "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n"
      "m=audio 4000 RTP/AVP 0\n"
      "m=audio 4002 RTP/AVP 0\nc=IN IP4 233.252.0.1/127/2\n");
  ASSERT_NE(sdp.effectiveConnection(sdp.media[0]), nullptr);
  EXPECT_EQ(sdp.effectiveConnection(sdp.media[0])->host(), "192.0.2.1");
  ASSERT_NE(sdp.effectiveConnection(sdp.media[1]), nullptr);
  EXPECT_EQ(sdp.effectiveConnection(sdp.media[1])->host(), "233.252.0.1");

  SessionDescription none = parsed("v=0\no=- 1 1 IN IP4 192.0.2.1\nm=audio 4000 RTP/AVP 0\n");
  EXPECT_EQ(none.effectiveConnection(none.media[0]), nullptr);
}

TEST(SdpMedia, CryptosSkipsMalformedLines) {
  MediaDescription media = audio("0",
                                 "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:AAAA\n"
                                 "a=crypto:broken\n"
                                 "a=crypto:2 AES_256_CM_HMAC_SHA1_80 inline:BBBB|2^31\n",
                                 "RTP/SAVP");
  std::vector<Crypto> cryptos = media.cryptos();
  ASSERT_EQ(cryptos.size(), 2u);
  EXPECT_EQ(cryptos[0].tag, 1u);
  EXPECT_EQ(cryptos[1].suite, "AES_256_CM_HMAC_SHA1_80");
  EXPECT_EQ(cryptos[1].keys[0].lifetime, "2^31");
}

}  // namespace
}  // namespace siprecd::sdp
