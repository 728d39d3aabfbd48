#include "sdp/offer_answer.hpp"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "sdp/parser.hpp"
#include "sdp/serializer.hpp"

namespace siprecd::sdp {
namespace {

std::string readFixture(const std::string& name) {
  std::ifstream file(std::string(SIPRECD_TEST_DATA_DIR) + "/sdp/" + name, std::ios::binary);
  std::stringstream buffer;
  buffer << file.rdbuf();
  return buffer.str();
}

SessionDescription offerOf(std::string_view text) {
  auto sdp = parseSdp(text);
  EXPECT_TRUE(sdp) << (sdp ? "" : sdp.error().message);
  return sdp ? *sdp : SessionDescription{};
}

// An offer with a session-level c= and the given m-line sections appended.
SessionDescription offerWith(std::string_view media_sections) {
  return offerOf("v=0\no=SBC 5 5 IN IP4 192.0.2.10\ns=-\nc=IN IP4 192.0.2.10\nt=0 0\n" +
                 std::string(media_sections));
}

std::vector<NegotiatedStream> accepted(const SessionDescription& offer,
                                       const AnswerPolicy& policy = {}) {
  auto streams = negotiate(offer, policy);
  EXPECT_TRUE(streams) << (streams ? "" : streams.error().message);
  return streams ? *streams : std::vector<NegotiatedStream>{};
}

std::string negotiationError(const SessionDescription& offer, const AnswerPolicy& policy = {}) {
  auto streams = negotiate(offer, policy);
  EXPECT_FALSE(streams);
  if (streams) {
    return "";
  }
  EXPECT_EQ(streams.error().code, 488);
  return streams.error().message;
}

TEST(SdpAnswer, AcceptsTypicalSiprecOfferWithLabelsRecvonly) {
  SessionDescription offer = offerOf(readFixture("siprec_offer.sdp"));
  std::vector<NegotiatedStream> streams = accepted(offer);
  ASSERT_EQ(streams.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const NegotiatedStream& stream = streams[i];
    EXPECT_EQ(stream.index, i);
    EXPECT_TRUE(stream.accepted);
    EXPECT_EQ(stream.media, "audio");
    EXPECT_EQ(stream.label, std::to_string(i + 1));
    EXPECT_EQ(stream.payload_type, 0);
    EXPECT_EQ(stream.codec_name, "PCMU");
    EXPECT_EQ(stream.clock_rate, 8000u);
    EXPECT_EQ(stream.channels, 1u);
    EXPECT_EQ(stream.telephone_event_pt, 101);
    EXPECT_EQ(stream.ptime_ms, 20u);
    EXPECT_EQ(stream.offered_direction, Direction::SendOnly);
    EXPECT_EQ(stream.answer_direction, Direction::RecvOnly);
    EXPECT_EQ(stream.remote_address, "192.0.2.10");
    EXPECT_FALSE(stream.rtcp_mux);
  }
  EXPECT_EQ(streams[0].remote_port, 20000);
  EXPECT_EQ(streams[1].remote_port, 20002);
}

TEST(SdpAnswer, BuildsRecvonlyAnswerWithSameMlines) {
  SessionDescription offer = offerOf(readFixture("siprec_offer.sdp"));
  SessionDescription answer =
      buildAnswer(offer, accepted(offer), LocalMedia{"198.51.100.5", {40000, 40002}}, 77, 1);
  EXPECT_EQ(serializeSdp(answer),
            "v=0\r\n"
            "o=- 77 1 IN IP4 198.51.100.5\r\n"
            "s=siprecd\r\n"
            "c=IN IP4 198.51.100.5\r\n"
            "t=0 0\r\n"
            "m=audio 40000 RTP/AVP 0 101\r\n"
            "a=rtpmap:0 PCMU/8000\r\n"
            "a=rtpmap:101 telephone-event/8000\r\n"
            "a=fmtp:101 0-15\r\n"
            "a=ptime:20\r\n"
            "a=label:1\r\n"
            "a=recvonly\r\n"
            "m=audio 40002 RTP/AVP 0 101\r\n"
            "a=rtpmap:0 PCMU/8000\r\n"
            "a=rtpmap:101 telephone-event/8000\r\n"
            "a=fmtp:101 0-15\r\n"
            "a=ptime:20\r\n"
            "a=label:2\r\n"
            "a=recvonly\r\n");
}

TEST(SdpAnswer, RejectsVideoWithPortZero) {
  SessionDescription offer = offerWith(
      "m=audio 4000 RTP/AVP 8\na=label:a\n"
      "m=video 4002 RTP/AVP 97 98\na=rtpmap:97 H264/90000\na=label:v\n");
  std::vector<NegotiatedStream> streams = accepted(offer);
  ASSERT_EQ(streams.size(), 2u);
  EXPECT_TRUE(streams[0].accepted);
  EXPECT_FALSE(streams[1].accepted);
  EXPECT_EQ(streams[1].reject_reason, "media type video is not recorded");
  EXPECT_EQ(streams[1].label, "v");

  SessionDescription answer =
      buildAnswer(offer, streams, LocalMedia{"192.0.2.99", {5000, 0}}, 1, 1);
  ASSERT_EQ(answer.media.size(), 2u);
  const MediaDescription& video = answer.media[1];
  EXPECT_EQ(video.media, "video");
  EXPECT_EQ(video.port, 0);
  EXPECT_EQ(video.proto, "RTP/AVP");
  EXPECT_EQ(video.formats, (std::vector<std::string>{"97"}));
  EXPECT_TRUE(video.attributes.empty());
}

TEST(SdpAnswer, KeepsOfferedPortZeroStreamRejected) {
  SessionDescription offer =
      offerWith("m=audio 0 RTP/AVP 0\na=label:1\nm=audio 4002 RTP/AVP 0\na=label:2\n");
  std::vector<NegotiatedStream> streams = accepted(offer);
  EXPECT_FALSE(streams[0].accepted);
  EXPECT_EQ(streams[0].reject_reason, "stream rejected in the offer (port 0)");
  EXPECT_TRUE(streams[1].accepted);
  SessionDescription answer =
      buildAnswer(offer, streams, LocalMedia{"192.0.2.99", {0, 6000}}, 1, 1);
  EXPECT_EQ(answer.media[0].port, 0);
  EXPECT_EQ(answer.media[1].port, 6000);
  EXPECT_EQ(answer.media[1].label(), "2");
}

TEST(SdpAnswer, StreamWithoutLocalPortIsAnsweredRejected) {
  SessionDescription offer = offerWith("m=audio 4000 RTP/AVP 0\nm=audio 4002 RTP/AVP 0\n");
  SessionDescription answer =
      buildAnswer(offer, accepted(offer), LocalMedia{"192.0.2.99", {7000}}, 1, 1);
  EXPECT_EQ(answer.media[0].port, 7000);
  EXPECT_EQ(answer.media[1].port, 0);
  EXPECT_EQ(answer.media[1].formats, (std::vector<std::string>{"0"}));
}

TEST(SdpAnswer, RespectsCodecPreferenceOrder) {
  SessionDescription offer = offerWith("m=audio 4000 RTP/AVP 8 18 0\n");
  EXPECT_EQ(accepted(offer)[0].codec_name, "PCMU");

  AnswerPolicy policy;
  policy.codecs = {{"G729", 8000}, {"PCMA", 8000}};
  NegotiatedStream g729 = accepted(offer, policy)[0];
  EXPECT_EQ(g729.codec_name, "G729");
  EXPECT_EQ(g729.payload_type, 18);

  policy.codecs = {{"G722", 8000}, {"PCMA", 8000}};
  EXPECT_EQ(accepted(offer, policy)[0].payload_type, 8);
}

TEST(SdpAnswer, MatchesDynamicCodecByNameCaseInsensitivelyAndClockRate) {
  SessionDescription offer = offerWith(
      "m=audio 4000 RTP/AVP 111 112 101\na=rtpmap:111 opus/48000/2\n"
      "a=fmtp:111 useinbandfec=1; stereo=1\na=rtpmap:112 L16/16000\n"
      "a=rtpmap:101 telephone-event/48000\na=fmtp:101 0-16\n");
  AnswerPolicy policy;
  policy.codecs = {{"L16", 8000}, {"OPUS", 48000}};
  NegotiatedStream stream = accepted(offer, policy)[0];
  EXPECT_EQ(stream.payload_type, 111);
  EXPECT_EQ(stream.codec_name, "opus");
  EXPECT_EQ(stream.clock_rate, 48000u);
  EXPECT_EQ(stream.channels, 2u);
  EXPECT_EQ(stream.fmtp, "useinbandfec=1; stereo=1");
  EXPECT_EQ(stream.telephone_event_pt, 101);

  SessionDescription answer = buildAnswer(offer, {stream}, LocalMedia{"192.0.2.99", {5000}}, 1, 1);
  const MediaDescription& media = answer.media[0];
  EXPECT_EQ(media.formats, (std::vector<std::string>{"111", "101"}));
  EXPECT_EQ(media.rtpmap("111"), (RtpMap{"opus", 48000, 2}));
  EXPECT_EQ(media.fmtp("111"), "useinbandfec=1; stereo=1");
  EXPECT_EQ(media.rtpmap("101"), (RtpMap{"telephone-event", 48000, 1}));
  EXPECT_EQ(media.fmtp("101"), "0-16");
}

TEST(SdpAnswer, DropsTelephoneEventWithOtherClockRate) {
  SessionDescription offer = offerWith(
      "m=audio 4000 RTP/AVP 0 100 101\na=rtpmap:100 telephone-event/48000\n"
      "a=rtpmap:101 telephone-event/8000\n");
  EXPECT_EQ(accepted(offer)[0].telephone_event_pt, 101);
  SessionDescription only_wide =
      offerWith("m=audio 4000 RTP/AVP 0 100\na=rtpmap:100 telephone-event/48000\n");
  NegotiatedStream stream = accepted(only_wide)[0];
  EXPECT_FALSE(stream.telephone_event_pt);
  SessionDescription answer =
      buildAnswer(only_wide, {stream}, LocalMedia{"192.0.2.99", {5000}}, 1, 1);
  EXPECT_EQ(answer.media[0].formats, (std::vector<std::string>{"0"}));
}

TEST(SdpAnswer, EchoesFmtpPtimeAndRtcpMux) {
  SessionDescription offer = offerWith(
      "m=audio 4000 RTP/AVP 18\na=fmtp:18 annexb=no\na=ptime:30\na=rtcp-mux\na=sendrecv\n");
  AnswerPolicy policy;
  policy.codecs = {{"G729", 8000}};
  std::vector<NegotiatedStream> streams = accepted(offer, policy);
  EXPECT_TRUE(streams[0].rtcp_mux);
  EXPECT_EQ(streams[0].offered_direction, Direction::SendRecv);
  EXPECT_EQ(streams[0].answer_direction, Direction::RecvOnly);
  const MediaDescription media =
      buildAnswer(offer, streams, LocalMedia{"192.0.2.99", {5000}}, 1, 1).media[0];
  EXPECT_EQ(media.fmtp("18"), "annexb=no");
  EXPECT_EQ(media.ptime(), 30u);
  EXPECT_TRUE(media.rtcpMux());
  EXPECT_EQ(media.direction(), Direction::RecvOnly);
  EXPECT_FALSE(media.label());
}

TEST(SdpAnswer, NoAcceptableCodecFailsWith488) {
  SessionDescription offer = offerWith(
      "m=audio 4000 RTP/AVP 4 97 101\na=rtpmap:97 iLBC/8000\n"
      "a=rtpmap:101 telephone-event/8000\n");
  EXPECT_EQ(negotiationError(offer), "no offered codec is supported (offered: G723, iLBC)");
  EXPECT_EQ(
      negotiationError(offerWith("m=audio 4000 RTP/AVP 101\na=rtpmap:101 telephone-event/8000\n")),
      "no offered codec is supported (offered: telephone-event)");
}

TEST(SdpAnswer, OfferWithoutUsableAudioFailsWith488) {
  EXPECT_EQ(negotiationError(offerWith("m=video 4000 RTP/AVP 97\n")), "no audio stream offered");
  EXPECT_EQ(negotiationError(offerWith("m=audio 0 RTP/AVP 0\n")),
            "stream rejected in the offer (port 0)");
  EXPECT_EQ(negotiationError(offerWith("m=audio 0 RTP/AVP 0\nm=audio 4000 TCP/MRCPv2 1\n")),
            "transport TCP/MRCPv2 is not supported");
}

TEST(SdpAnswer, SessionLevelSendonlyAppliesToMediaWithoutDirection) {
  SessionDescription offer = offerOf(
      "v=0\no=SBC 5 5 IN IP4 192.0.2.10\ns=-\nc=IN IP4 192.0.2.10\nt=0 0\na=sendonly\n"
      "m=audio 4000 RTP/AVP 0\nm=audio 4002 RTP/AVP 0\na=inactive\n"
      "m=audio 4004 RTP/AVP 0\na=recvonly\n");
  std::vector<NegotiatedStream> streams = accepted(offer);
  EXPECT_EQ(streams[0].offered_direction, Direction::SendOnly);
  EXPECT_EQ(streams[0].answer_direction, Direction::RecvOnly);
  EXPECT_EQ(streams[1].offered_direction, Direction::Inactive);
  EXPECT_EQ(streams[1].answer_direction, Direction::Inactive);
  EXPECT_EQ(streams[2].offered_direction, Direction::RecvOnly);
  EXPECT_EQ(streams[2].answer_direction, Direction::Inactive);
  SessionDescription answer =
      buildAnswer(offer, streams, LocalMedia{"192.0.2.99", {5000, 5002, 5004}}, 1, 1);
  EXPECT_EQ(answer.media[1].direction(), Direction::Inactive);
  EXPECT_EQ(answer.effectiveDirection(answer.media[1]), Direction::Inactive);
  EXPECT_FALSE(answer.direction());
}

TEST(SdpAnswer, UsesMediaLevelConnectionAndIpv6) {
  SessionDescription offer = offerOf(
      "v=0\no=SBC 5 5 IN IP6 2001:db8::1\ns=-\nc=IN IP6 2001:db8::1\nt=0 0\n"
      "m=audio 4000 RTP/AVP 0\nm=audio 4002 RTP/AVP 0\nc=IN IP4 192.0.2.77\n");
  std::vector<NegotiatedStream> streams = accepted(offer);
  EXPECT_EQ(streams[0].remote_address, "2001:db8::1");
  EXPECT_EQ(streams[1].remote_address, "192.0.2.77");

  SessionDescription answer =
      buildAnswer(offer, streams, LocalMedia{"2001:db8::99", {5000, 5002}}, 9, 3);
  EXPECT_EQ(answer.origin.addr_type, "IP6");
  EXPECT_EQ(answer.origin.session_id, "9");
  EXPECT_EQ(answer.origin.session_version, "3");
  ASSERT_TRUE(answer.connection);
  EXPECT_EQ(answer.connection->addr_type, "IP6");
  EXPECT_EQ(answer.connection->address, "2001:db8::99");
}

TEST(SdpAnswer, RejectsStreamWithoutConnection) {
  SessionDescription offer = offerOf(
      "v=0\no=SBC 5 5 IN IP4 192.0.2.1\ns=-\nt=0 0\n"
      "m=audio 4000 RTP/AVP 0\nm=audio 4002 RTP/AVP 0\nc=IN IP4 192.0.2.7\n");
  std::vector<NegotiatedStream> streams = accepted(offer);
  EXPECT_FALSE(streams[0].accepted);
  EXPECT_EQ(streams[0].reject_reason, "no IN IP4/IP6 c= line for the stream");
  EXPECT_TRUE(streams[1].accepted);
}

TEST(SdpAnswer, AnswerToMixedOfferParsesBack) {
  SessionDescription offer = offerOf(readFixture("siprec_offer_mixed.sdp"));
  AnswerPolicy policy;
  policy.codecs = {{"PCMU", 8000}, {"opus", 48000}};
  std::vector<NegotiatedStream> streams = accepted(offer, policy);
  ASSERT_EQ(streams.size(), 4u);
  EXPECT_TRUE(streams[0].accepted);
  EXPECT_EQ(streams[0].remote_address, "2001:db8::20");
  EXPECT_TRUE(streams[0].rtcp_mux);
  EXPECT_EQ(streams[0].offered_direction, Direction::SendOnly);
  EXPECT_FALSE(streams[1].accepted);
  EXPECT_FALSE(streams[2].accepted);
  EXPECT_FALSE(streams[3].accepted);
  EXPECT_EQ(streams[3].label, "callee");

  SessionDescription answer =
      buildAnswer(offer, streams, LocalMedia{"2001:db8::99", {5000, 0, 0, 0}}, 1, 2);
  auto reparsed = parseSdp(serializeSdp(answer));
  ASSERT_TRUE(reparsed) << reparsed.error().message;
  EXPECT_EQ(*reparsed, answer);
  ASSERT_EQ(reparsed->media.size(), 4u);
  EXPECT_EQ(reparsed->media[0].proto, "RTP/AVPF");
  EXPECT_EQ(reparsed->media[0].label(), "caller");
  EXPECT_EQ(reparsed->media[3].proto, "RTP/SAVP");
  EXPECT_EQ(reparsed->media[3].port, 0);
}

}  // namespace
}  // namespace siprecd::sdp
