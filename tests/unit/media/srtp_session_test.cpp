#include "media/srtp_session.hpp"

#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <srtp2/srtp.h>

#include "media_test_support.hpp"

namespace siprecd::media {
namespace {

using testing::makeRtp;
using testing::RtpFields;

constexpr std::array<SrtpSuite, 4> kAllSuites = {
    SrtpSuite::AesCm128HmacSha1_80, SrtpSuite::AesCm128HmacSha1_32, SrtpSuite::AeadAes128Gcm,
    SrtpSuite::AeadAes256Gcm};

std::vector<uint8_t> keyFor(SrtpSuite suite, uint8_t seed = 1) {
  std::vector<uint8_t> key(srtpMasterKeySaltBytes(suite));
  for (std::size_t i = 0; i < key.size(); ++i) {
    key[i] = static_cast<uint8_t>(seed + i * 13);
  }
  return key;
}

SrtpSession session(SrtpSuite suite, SrtpSession::Direction direction, uint8_t seed = 1) {
  auto created = SrtpSession::create(suite, keyFor(suite, seed), direction);
  EXPECT_TRUE(created) << (created ? "" : created.error().message);
  return std::move(*created);
}

std::vector<std::byte> rtp(uint16_t seq, std::size_t payload_bytes = 160) {
  RtpFields fields;
  fields.seq = seq;
  fields.timestamp = seq * 160U;
  fields.ssrc = 0xCAFE0001;
  std::vector<std::byte> payload(payload_bytes);
  for (std::size_t i = 0; i < payload.size(); ++i) {
    payload[i] = static_cast<std::byte>(seq + i);
  }
  return makeRtp(fields, payload);
}

// A sender report (RFC 3550 §6.4.1) of SSRC 0xCAFE0001 without report blocks.
std::vector<std::byte> senderReport() {
  return testing::bytesOf({0x80, 200,  0, 6, 0xCA, 0xFE, 0, 1, 0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC,
                           0xDE, 0xF0, 0, 0, 0,    160,  0, 0, 0,    1,    0,    0,    0,    160});
}

/// Protects `plain` with `sender`; returns the SRTP/SRTCP bytes.
std::vector<std::byte> protect(SrtpSession& sender, const std::vector<std::byte>& plain,
                               bool rtcp = false) {
  std::vector<std::byte> buffer(plain.size() + kSrtpMaxTrailerBytes);
  std::copy(plain.begin(), plain.end(), buffer.begin());
  const SrtpOutcome outcome =
      rtcp ? sender.protectRtcp(buffer, plain.size()) : sender.protectRtp(buffer, plain.size());
  EXPECT_EQ(outcome.status, SrtpStatus::Ok);
  buffer.resize(outcome.bytes);
  return buffer;
}

class SrtpRoundTrip : public ::testing::TestWithParam<SrtpSuite> {};

TEST_P(SrtpRoundTrip, RtpAndRtcpComeBackUnchanged) {
  SrtpSession sender = session(GetParam(), SrtpSession::Direction::Outbound);
  SrtpSession receiver = session(GetParam(), SrtpSession::Direction::Inbound);
  for (uint16_t seq : {65534, 65535, 0, 1, 2}) {  // across the sequence wrap (ROC + 1)
    const auto plain = rtp(seq);
    auto packet = protect(sender, plain);
    EXPECT_GT(packet.size(), plain.size());
    EXPECT_FALSE(std::equal(plain.begin() + 12, plain.end(), packet.begin() + 12));
    const SrtpOutcome outcome = receiver.unprotectRtp(packet);
    ASSERT_EQ(outcome.status, SrtpStatus::Ok) << seq;
    EXPECT_EQ(std::vector<std::byte>(packet.begin(), packet.begin() + outcome.bytes), plain);
  }
  const auto report = senderReport();
  auto packet = protect(sender, report, true);
  const SrtpOutcome outcome = receiver.unprotectRtcp(packet);
  ASSERT_EQ(outcome.status, SrtpStatus::Ok);
  EXPECT_EQ(std::vector<std::byte>(packet.begin(), packet.begin() + outcome.bytes), report);
}

TEST_P(SrtpRoundTrip, WrongKeyFailsAuthentication) {
  SrtpSession sender = session(GetParam(), SrtpSession::Direction::Outbound, 1);
  SrtpSession receiver = session(GetParam(), SrtpSession::Direction::Inbound, 2);
  auto packet = protect(sender, rtp(10));
  EXPECT_EQ(receiver.unprotectRtp(packet).status, SrtpStatus::AuthenticationFailed);
  auto control = protect(sender, senderReport(), true);
  EXPECT_EQ(receiver.unprotectRtcp(control).status, SrtpStatus::AuthenticationFailed);
}

TEST_P(SrtpRoundTrip, ReplayIsDetectedButReorderingIsNot) {
  SrtpSession sender = session(GetParam(), SrtpSession::Direction::Outbound);
  SrtpSession receiver = session(GetParam(), SrtpSession::Direction::Inbound);
  std::vector<std::vector<std::byte>> packets;
  for (uint16_t seq = 100; seq < 105; ++seq) {
    packets.push_back(protect(sender, rtp(seq)));
  }
  auto copy = packets[2];
  for (const std::size_t i : std::vector<std::size_t>{0, 1, 3, 2, 4}) {
    EXPECT_EQ(receiver.unprotectRtp(packets[i]).status, SrtpStatus::Ok) << i;
  }
  EXPECT_EQ(receiver.unprotectRtp(copy).status, SrtpStatus::Replay);
}

std::string suiteName(const ::testing::TestParamInfo<SrtpSuite>& param) {
  return std::string(toString(param.param));
}

INSTANTIATE_TEST_SUITE_P(Suites, SrtpRoundTrip, ::testing::ValuesIn(kAllSuites), suiteName);

TEST(SrtpSession, TamperedPacketFailsAuthentication) {
  SrtpSession sender = session(SrtpSuite::AesCm128HmacSha1_80, SrtpSession::Direction::Outbound);
  SrtpSession receiver = session(SrtpSuite::AesCm128HmacSha1_80, SrtpSession::Direction::Inbound);
  auto packet = protect(sender, rtp(1));
  packet[20] ^= std::byte{0x01};
  EXPECT_EQ(receiver.unprotectRtp(packet).status, SrtpStatus::AuthenticationFailed);
  // The authentic packet still goes through: a failed one does not enter the replay window.
  auto again = protect(sender, rtp(2));
  EXPECT_EQ(receiver.unprotectRtp(again).status, SrtpStatus::Ok);
}

TEST(SrtpSession, PlainRtpIsNotAuthentic) {
  SrtpSession receiver = session(SrtpSuite::AesCm128HmacSha1_80, SrtpSession::Direction::Inbound);
  auto plain = rtp(5);
  EXPECT_EQ(receiver.unprotectRtp(plain).status, SrtpStatus::AuthenticationFailed);
}

TEST(SrtpSession, ShortOrForeignPacketsAreInvalid) {
  SrtpSession receiver = session(SrtpSuite::AesCm128HmacSha1_80, SrtpSession::Direction::Inbound);
  std::vector<std::byte> empty;
  EXPECT_EQ(receiver.unprotectRtp(empty).status, SrtpStatus::Invalid);
  auto header_only = rtp(1, 0);
  header_only.resize(11);
  EXPECT_EQ(receiver.unprotectRtp(header_only).status, SrtpStatus::Invalid);
  auto csrc_beyond = rtp(1, 0);
  csrc_beyond[0] = std::byte{0x8F};  // 15 CSRCs announced, none present
  EXPECT_EQ(receiver.unprotectRtp(csrc_beyond).status, SrtpStatus::Invalid);
  auto version1 = rtp(1);
  version1[0] = std::byte{0x40};
  EXPECT_EQ(receiver.unprotectRtp(version1).status, SrtpStatus::Invalid);
  auto tiny_rtcp = testing::bytesOf({0x80, 200, 0, 1});
  EXPECT_EQ(receiver.unprotectRtcp(tiny_rtcp).status, SrtpStatus::Invalid);
  auto report = senderReport();  // 28 bytes: no room for the SRTCP index and tag
  EXPECT_NE(receiver.unprotectRtcp(report).status, SrtpStatus::Ok);
}

TEST(SrtpSession, EachDirectionDoesOnlyItsOwnJob) {
  SrtpSession sender = session(SrtpSuite::AeadAes128Gcm, SrtpSession::Direction::Outbound);
  SrtpSession receiver = session(SrtpSuite::AeadAes128Gcm, SrtpSession::Direction::Inbound);
  auto packet = protect(sender, rtp(3));
  EXPECT_EQ(sender.unprotectRtp(packet).status, SrtpStatus::Invalid);
  const auto plain = rtp(4);
  std::vector<std::byte> buffer(plain.size() + kSrtpMaxTrailerBytes);
  std::copy(plain.begin(), plain.end(), buffer.begin());
  EXPECT_EQ(receiver.protectRtp(buffer, plain.size()).status, SrtpStatus::Invalid);
  EXPECT_EQ(receiver.direction(), SrtpSession::Direction::Inbound);
  EXPECT_EQ(receiver.suite(), SrtpSuite::AeadAes128Gcm);
}

TEST(SrtpSession, ProtectNeedsRoomForTheTrailer) {
  SrtpSession sender = session(SrtpSuite::AesCm128HmacSha1_80, SrtpSession::Direction::Outbound);
  auto plain = rtp(1);
  std::vector<std::byte> buffer(plain.size() + kSrtpMaxTrailerBytes - 1);
  std::copy(plain.begin(), plain.end(), buffer.begin());
  EXPECT_EQ(sender.protectRtp(buffer, plain.size()).status, SrtpStatus::Invalid);
  EXPECT_EQ(sender.protectRtp(buffer, buffer.size() + 1).status, SrtpStatus::Invalid);
}

TEST(SrtpSession, ProtectingASequenceNumberTwiceIsAReplay) {
  SrtpSession sender = session(SrtpSuite::AesCm128HmacSha1_32, SrtpSession::Direction::Outbound);
  protect(sender, rtp(9));
  const auto plain = rtp(9);
  std::vector<std::byte> buffer(plain.size() + kSrtpMaxTrailerBytes);
  std::copy(plain.begin(), plain.end(), buffer.begin());
  EXPECT_EQ(sender.protectRtp(buffer, plain.size()).status, SrtpStatus::Replay);
}

TEST(SrtpSession, TagLengthsFollowTheSuite) {
  const std::size_t plain = rtp(1).size();
  const std::vector<std::pair<SrtpSuite, std::size_t>> tags = {{SrtpSuite::AesCm128HmacSha1_80, 10},
                                                               {SrtpSuite::AesCm128HmacSha1_32, 4},
                                                               {SrtpSuite::AeadAes128Gcm, 16},
                                                               {SrtpSuite::AeadAes256Gcm, 16}};
  for (const auto& [suite, tag_bytes] : tags) {
    SrtpSession sender = session(suite, SrtpSession::Direction::Outbound);
    EXPECT_EQ(protect(sender, rtp(1)).size(), plain + tag_bytes) << toString(suite);
    // SRTCP: E flag + index (4) and the tag; _32 keeps an 80-bit tag on SRTCP.
    const std::size_t rtcp_tag = suite == SrtpSuite::AesCm128HmacSha1_32 ? 10 : tag_bytes;
    EXPECT_EQ(protect(sender, senderReport(), true).size(), senderReport().size() + 4 + rtcp_tag)
        << toString(suite);
  }
}

TEST(SrtpSession, CreateChecksSuiteAndKeyLength) {
  auto short_key = SrtpSession::create(SrtpSuite::AesCm128HmacSha1_80, std::vector<uint8_t>(29),
                                       SrtpSession::Direction::Inbound);
  ASSERT_FALSE(short_key);
  EXPECT_EQ(short_key.error().message,
            "SRTP AES_CM_128_HMAC_SHA1_80 needs 30 bytes of master key and salt, got 29");
  auto unknown = SrtpSession::create("AES_256_CM_HMAC_SHA1_80", std::vector<uint8_t>(46),
                                     SrtpSession::Direction::Inbound);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message, "SRTP crypto suite AES_256_CM_HMAC_SHA1_80 is not supported");
  auto by_name = SrtpSession::create("aead_aes_256_gcm", keyFor(SrtpSuite::AeadAes256Gcm),
                                     SrtpSession::Direction::Inbound);
  ASSERT_TRUE(by_name) << by_name.error().message;
  EXPECT_EQ(by_name->suite(), SrtpSuite::AeadAes256Gcm);
}

TEST(SrtpSession, SuiteNamesAndKeySizes) {
  for (SrtpSuite suite : kAllSuites) {
    EXPECT_EQ(srtpSuiteFromName(toString(suite)), suite);
  }
  EXPECT_EQ(srtpSuiteFromName("aes_cm_128_hmac_sha1_32"), SrtpSuite::AesCm128HmacSha1_32);
  EXPECT_FALSE(srtpSuiteFromName("F8_128_HMAC_SHA1_80"));
  EXPECT_EQ(srtpMasterKeySaltBytes(SrtpSuite::AesCm128HmacSha1_80), 30U);
  EXPECT_EQ(srtpMasterKeySaltBytes(SrtpSuite::AesCm128HmacSha1_32), 30U);
  EXPECT_EQ(srtpMasterKeySaltBytes(SrtpSuite::AeadAes128Gcm), 28U);
  EXPECT_EQ(srtpMasterKeySaltBytes(SrtpSuite::AeadAes256Gcm), 44U);
}

TEST(SrtpSession, ContextsCanBeCreatedFromManyThreadsAtOnce) {
  std::vector<std::thread> threads;
  std::atomic<int> created{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&created] {
      auto context = SrtpSession::create(SrtpSuite::AesCm128HmacSha1_80,
                                         keyFor(SrtpSuite::AesCm128HmacSha1_80),
                                         SrtpSession::Direction::Inbound);
      if (context) {
        ++created;
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(created.load(), 8);
}

TEST(SrtpSession, MovedContextKeepsWorking) {
  SrtpSession sender = session(SrtpSuite::AesCm128HmacSha1_80, SrtpSession::Direction::Outbound);
  SrtpSession first = session(SrtpSuite::AesCm128HmacSha1_80, SrtpSession::Direction::Inbound);
  SrtpSession moved = std::move(first);
  auto packet = protect(sender, rtp(1));
  EXPECT_EQ(moved.unprotectRtp(packet).status, SrtpStatus::Ok);
}

// RFC 4568 §6.2.2 keeps SRTCP at an 80-bit tag with AES_CM_128_HMAC_SHA1_32, but some
// senders (FFmpeg 5, Asterisk) use their 32-bit SRTP tag for SRTCP too: both are accepted.
TEST(SrtpSession, Sha1_32AcceptsSrtcpWithEitherTagLength) {
  auto key = keyFor(SrtpSuite::AesCm128HmacSha1_32);
  srtp_policy_t policy{};
  srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy.rtp);
  srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy.rtcp);
  policy.ssrc.type = ssrc_any_outbound;
  policy.key = key.data();
  srtp_t short_tag_sender = nullptr;
  SrtpSession receiver = session(SrtpSuite::AesCm128HmacSha1_32, SrtpSession::Direction::Inbound);
  ASSERT_EQ(srtp_create(&short_tag_sender, &policy), srtp_err_status_ok);
  const auto report = senderReport();
  std::vector<std::byte> buffer(report.size() + kSrtpMaxTrailerBytes);
  std::copy(report.begin(), report.end(), buffer.begin());
  int length = static_cast<int>(report.size());
  ASSERT_EQ(srtp_protect_rtcp(short_tag_sender, buffer.data(), &length), srtp_err_status_ok);
  srtp_dealloc(short_tag_sender);
  buffer.resize(static_cast<std::size_t>(length));
  EXPECT_EQ(buffer.size(), report.size() + 4 + 4);
  const SrtpOutcome outcome = receiver.unprotectRtcp(buffer);
  ASSERT_EQ(outcome.status, SrtpStatus::Ok);
  EXPECT_EQ(std::vector<std::byte>(buffer.begin(), buffer.begin() + outcome.bytes), report);

  SrtpSession sender = session(SrtpSuite::AesCm128HmacSha1_32, SrtpSession::Direction::Outbound);
  auto long_tag = protect(sender, report, true);
  EXPECT_EQ(long_tag.size(), report.size() + 4 + 10);
  EXPECT_EQ(receiver.unprotectRtcp(long_tag).status, SrtpStatus::Ok);
}

}  // namespace
}  // namespace siprecd::media
