// SDES-SRTP (RFC 4568) in the SRS's offer/answer: policy, crypto choice, answer a=crypto.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "sdp/base64.hpp"
#include "sdp/offer_answer.hpp"
#include "sdp/parser.hpp"
#include "sdp/serializer.hpp"

namespace siprecd::sdp {
namespace {

constexpr std::string_view kKey80 = "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";

SessionDescription offerWith(std::string_view media_sections) {
  auto sdp = parseSdp("v=0\no=SBC 5 5 IN IP4 192.0.2.10\ns=-\nc=IN IP4 192.0.2.10\nt=0 0\n" +
                      std::string(media_sections));
  EXPECT_TRUE(sdp) << (sdp ? "" : sdp.error().message);
  return sdp ? *sdp : SessionDescription{};
}

// Deterministic "random" keys: 0x10, 0x11, 0x12, ... continuing across calls.
RandomBytes countingBytes() {
  return [next = uint8_t{0x10}](std::span<uint8_t> out) mutable {
    for (uint8_t& byte : out) {
      byte = next++;
    }
    return true;
  };
}

AnswerPolicy policyWith(SrtpPolicy srtp) {
  AnswerPolicy policy;
  policy.srtp = srtp;
  return policy;
}

std::vector<NegotiatedStream> negotiated(const SessionDescription& offer,
                                         const AnswerPolicy& policy = {}) {
  auto streams = negotiate(offer, policy, countingBytes());
  EXPECT_TRUE(streams) << (streams ? "" : streams.error().message);
  return streams ? *streams : std::vector<NegotiatedStream>{};
}

std::string refusal(const SessionDescription& offer, const AnswerPolicy& policy) {
  auto streams = negotiate(offer, policy, countingBytes());
  EXPECT_FALSE(streams);
  if (streams) {
    return "";
  }
  EXPECT_EQ(streams.error().code, 488);
  return streams.error().message;
}

std::string savpStream(uint16_t port, std::string_view cryptos) {
  return "m=audio " + std::to_string(port) + " RTP/SAVP 0\n" + std::string(cryptos) +
         "a=sendonly\n";
}

TEST(SdpAnswerSrtp, AnswersTypicalSbcSrtpOffer) {
  std::ifstream file(std::string(SIPRECD_TEST_DATA_DIR) + "/sdp/siprec_offer_srtp.sdp");
  std::stringstream text;
  text << file.rdbuf();
  auto offer = parseSdp(text.str());
  ASSERT_TRUE(offer) << offer.error().message;
  const auto streams = negotiated(*offer);
  ASSERT_EQ(streams.size(), 2u);
  for (const NegotiatedStream& stream : streams) {
    ASSERT_TRUE(stream.accepted) << stream.reject_reason;
    EXPECT_EQ(stream.codec_name, "PCMU");
    EXPECT_EQ(stream.telephone_event_pt, 101);
    ASSERT_TRUE(stream.remote_crypto);
    EXPECT_EQ(stream.remote_crypto->tag, 1u);
    EXPECT_EQ(stream.remote_crypto->suite, "AES_CM_128_HMAC_SHA1_80");
    EXPECT_EQ(stream.remote_crypto->master_key_salt.size(), 30u);
    EXPECT_EQ(stream.remote_crypto->lifetime, "2^31");
  }
  EXPECT_EQ(encodeBase64(streams[1].remote_crypto->master_key_salt),
            "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk");
}

TEST(SdpAnswerSrtp, PolicyNamesParse) {
  EXPECT_EQ(srtpPolicyFromName("optional"), SrtpPolicy::Optional);
  EXPECT_EQ(srtpPolicyFromName("Required"), SrtpPolicy::Required);
  EXPECT_EQ(srtpPolicyFromName("REFUSED"), SrtpPolicy::Refused);
  EXPECT_FALSE(srtpPolicyFromName("mandatory"));
  EXPECT_EQ(AnswerPolicy{}.srtp, SrtpPolicy::Optional);
}

TEST(SdpAnswerSrtp, ChoosesFirstSupportedCryptoAndMakesOwnKeyWithSameTagAndSuite) {
  const std::string gcm_key = encodeBase64(std::vector<uint8_t>(28, 0xAB));
  SessionDescription offer = offerWith(savpStream(
      4000, "a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:" + encodeBase64(std::vector<uint8_t>(46)) +
                "\n"
                "a=crypto:2 AEAD_AES_128_GCM inline:" +
                gcm_key +
                "\n"
                "a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:" +
                std::string(kKey80) + "\n"));
  const auto streams = negotiated(offer);
  ASSERT_EQ(streams.size(), 1u);
  ASSERT_TRUE(streams[0].accepted) << streams[0].reject_reason;
  ASSERT_TRUE(streams[0].remote_crypto);
  EXPECT_EQ(streams[0].remote_crypto->tag, 2u);
  EXPECT_EQ(streams[0].remote_crypto->suite, "AEAD_AES_128_GCM");
  EXPECT_EQ(streams[0].remote_crypto->master_key_salt, std::vector<uint8_t>(28, 0xAB));
  ASSERT_TRUE(streams[0].local_crypto);
  EXPECT_EQ(streams[0].local_crypto->tag, 2u);
  EXPECT_EQ(streams[0].local_crypto->suite, "AEAD_AES_128_GCM");
  ASSERT_EQ(streams[0].local_crypto->master_key_salt.size(), 28u);
  EXPECT_EQ(streams[0].local_crypto->master_key_salt[0], 0x10);
  EXPECT_EQ(streams[0].local_crypto->master_key_salt[27], 0x10 + 27);
}

TEST(SdpAnswerSrtp, AnswersSavpWithOurCryptoLineThatParsesBack) {
  SessionDescription offer = offerWith(
      savpStream(4000,
                 "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + std::string(kKey80) + "|2^31\n") +
      "m=audio 4002 RTP/SAVPF 0\n"
      "a=crypto:4 AES_CM_128_HMAC_SHA1_32 inline:" +
      std::string(kKey80) + "\na=sendonly\n");
  const auto streams = negotiated(offer);
  ASSERT_EQ(streams.size(), 2u);
  ASSERT_TRUE(streams[0].accepted && streams[1].accepted);
  EXPECT_NE(streams[0].local_crypto->master_key_salt, streams[1].local_crypto->master_key_salt);
  const SessionDescription answer =
      buildAnswer(offer, streams, LocalMedia{"192.0.2.99", {6000, 6002}}, 1, 1);
  auto reparsed = parseSdp(serializeSdp(answer));
  ASSERT_TRUE(reparsed) << reparsed.error().message;
  ASSERT_EQ(reparsed->media.size(), 2u);
  EXPECT_EQ(reparsed->media[0].proto, "RTP/SAVP");
  EXPECT_EQ(reparsed->media[1].proto, "RTP/SAVPF");
  for (std::size_t i = 0; i < 2; ++i) {
    const auto cryptos = reparsed->media[i].cryptos();
    ASSERT_EQ(cryptos.size(), 1u);
    auto ours = decodeSdesCrypto(cryptos[0]);
    ASSERT_TRUE(ours) << ours.error().message;
    EXPECT_EQ(*ours, *streams[i].local_crypto);
  }
  EXPECT_EQ(reparsed->media[1].cryptos()[0].tag, 4u);
  EXPECT_EQ(reparsed->media[1].cryptos()[0].suite, "AES_CM_128_HMAC_SHA1_32");
  EXPECT_EQ(reparsed->media[0].cryptos()[0].keys[0].lifetime, std::nullopt);
}

TEST(SdpAnswerSrtp, PlainRtpStreamHasNoCrypto) {
  SessionDescription offer = offerWith(
      "m=audio 4000 RTP/AVP 0\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + std::string(kKey80) +
      "\n");
  const auto streams = negotiated(offer);
  ASSERT_TRUE(streams[0].accepted);
  EXPECT_FALSE(streams[0].remote_crypto);
  EXPECT_FALSE(streams[0].local_crypto);
  const SessionDescription answer =
      buildAnswer(offer, streams, LocalMedia{"192.0.2.99", {6000}}, 1, 1);
  EXPECT_FALSE(answer.media[0].hasAttribute("crypto"));
  EXPECT_EQ(answer.media[0].proto, "RTP/AVP");
}

TEST(SdpAnswerSrtp, RequiredRefusesPlainRtpOffer) {
  SessionDescription offer = offerWith("m=audio 4000 RTP/AVP 0\nm=audio 4002 RTP/AVP 0\n");
  EXPECT_EQ(refusal(offer, policyWith(SrtpPolicy::Required)),
            "SRTP is required but RTP/AVP was offered");
  SessionDescription mixed = offerWith(
      "m=audio 4000 RTP/AVP 0\n" +
      savpStream(4002, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + std::string(kKey80) + "\n"));
  const auto streams = negotiated(mixed, policyWith(SrtpPolicy::Required));
  EXPECT_FALSE(streams[0].accepted);
  EXPECT_EQ(streams[0].reject_reason, "SRTP is required but RTP/AVP was offered");
  EXPECT_TRUE(streams[1].accepted);
}

TEST(SdpAnswerSrtp, RefusedRefusesSavpOnlyOfferButTakesPlainStreams) {
  const std::string savp =
      savpStream(4000, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + std::string(kKey80) + "\n");
  EXPECT_EQ(refusal(offerWith(savp), policyWith(SrtpPolicy::Refused)),
            "SRTP (RTP/SAVP) is refused by policy");
  const auto streams =
      negotiated(offerWith(savp + "m=audio 4002 RTP/AVP 0\n"), policyWith(SrtpPolicy::Refused));
  EXPECT_FALSE(streams[0].accepted);
  EXPECT_FALSE(streams[0].remote_crypto);
  EXPECT_TRUE(streams[1].accepted);
}

TEST(SdpAnswerSrtp, SavpWithoutSupportedCryptoIsRefused) {
  EXPECT_EQ(refusal(offerWith("m=audio 4000 RTP/SAVP 0\n"), {}),
            "RTP/SAVP offered without a usable a=crypto");
  EXPECT_EQ(refusal(offerWith(savpStream(
                        4000, "a=crypto:1 F8_128_HMAC_SHA1_80 inline:" + std::string(kKey80) +
                                  "\n"
                                  "a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:" +
                                  std::string(kKey80) + "|2^20|1:4\n")),
                    {}),
            "no usable a=crypto (a=crypto tag 1: crypto suite F8_128_HMAC_SHA1_80 is not "
            "supported)");
  SessionDescription one_good = offerWith(
      savpStream(4000, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + std::string(kKey80) + "\n") +
      savpStream(4002, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:AAAA\n"));
  const auto streams = negotiated(one_good);
  EXPECT_TRUE(streams[0].accepted);
  EXPECT_FALSE(streams[1].accepted);
  EXPECT_EQ(streams[1].reject_reason,
            "no usable a=crypto (a=crypto tag 1: inline key has 3 bytes, "
            "AES_CM_128_HMAC_SHA1_80 needs 30)");
  EXPECT_FALSE(streams[1].remote_crypto);
}

TEST(SdpAnswerSrtp, DtlsSrtpStaysUnsupported) {
  EXPECT_EQ(refusal(offerWith("m=audio 4000 UDP/TLS/RTP/SAVPF 0\na=fingerprint:sha-256 AA\n"), {}),
            "DTLS-SRTP (UDP/TLS/RTP/SAVPF) is not supported");
}

TEST(SdpAnswerSrtp, KeyGenerationFailureRefusesTheStream) {
  SessionDescription offer = offerWith(
      savpStream(4000, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + std::string(kKey80) + "\n"));
  auto streams = negotiate(offer, AnswerPolicy{}, [](std::span<uint8_t>) { return false; });
  ASSERT_FALSE(streams);
  EXPECT_EQ(streams.error().message, "cannot generate an SRTP master key");
}

TEST(SdpAnswerSrtp, DefaultNegotiateDrawsDistinctKeysFromTheCsprng) {
  SessionDescription offer = offerWith(
      savpStream(4000, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + std::string(kKey80) + "\n"));
  auto first = negotiate(offer, AnswerPolicy{});
  auto second = negotiate(offer, AnswerPolicy{});
  ASSERT_TRUE(first && second);
  ASSERT_TRUE((*first)[0].local_crypto && (*second)[0].local_crypto);
  EXPECT_EQ((*first)[0].local_crypto->master_key_salt.size(), 30u);
  EXPECT_NE((*first)[0].local_crypto->master_key_salt, (*second)[0].local_crypto->master_key_salt);
  EXPECT_NE((*first)[0].local_crypto->master_key_salt, (*first)[0].remote_crypto->master_key_salt);
}

}  // namespace
}  // namespace siprecd::sdp
