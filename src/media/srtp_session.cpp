#include "media/srtp_session.hpp"

#include <algorithm>
#include <array>
#include <climits>
#include <cstring>
#include <mutex>
#include <string>

#include <srtp2/srtp.h>

#include "base/strings.hpp"

namespace siprecd::media {

namespace {

// SRTCP adds the E flag and 31-bit index (RFC 3711 §3.4) to the authentication tag and MKI.
static_assert(kSrtpMaxTrailerBytes >= SRTP_MAX_TRAILER_LEN + 4);

constexpr std::array<SrtpSuite, 4> kSuites = {
    SrtpSuite::AesCm128HmacSha1_80,
    SrtpSuite::AesCm128HmacSha1_32,
    SrtpSuite::AeadAes128Gcm,
    SrtpSuite::AeadAes256Gcm,
};

constexpr std::size_t kRtpFixedHeaderBytes = 12;
constexpr std::size_t kRtcpHeaderBytes = 8;  // common header and SSRC (RFC 3550 §6.4)
constexpr unsigned long kReplayWindowPackets = 128;

/// libsrtp must be initialised once per process before any other call (srtp.h).
Result<void> initialiseOnce() {
  static std::once_flag once;
  static srtp_err_status_t status = srtp_err_status_ok;
  std::call_once(once, [] { status = srtp_init(); });
  if (status != srtp_err_status_ok) {
    return fail("libsrtp initialisation failed (status " + std::to_string(status) + ")");
  }
  return {};
}

// RFC 4568 §6.2.1 and §6.2.2: SRTCP keeps the 80-bit tag with AES_CM_128_HMAC_SHA1_32.
// RFC 7714 §13.1: GCM with a 16-octet tag for both SRTP and SRTCP.
void setPolicies(SrtpSuite suite, srtp_policy_t& policy) {
  switch (suite) {
    case SrtpSuite::AesCm128HmacSha1_80:
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
      return;
    case SrtpSuite::AesCm128HmacSha1_32:
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy.rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
      return;
    case SrtpSuite::AeadAes128Gcm:
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
      return;
    case SrtpSuite::AeadAes256Gcm:
      srtp_crypto_policy_set_aes_gcm_256_16_auth(&policy.rtp);
      srtp_crypto_policy_set_aes_gcm_256_16_auth(&policy.rtcp);
      return;
  }
}

SrtpStatus statusOf(srtp_err_status_t status) {
  switch (status) {
    case srtp_err_status_ok:
      return SrtpStatus::Ok;
    case srtp_err_status_auth_fail:
      return SrtpStatus::AuthenticationFailed;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
      return SrtpStatus::Replay;
    default:
      return SrtpStatus::Invalid;
  }
}

// RFC 3550 §5.1 framing that libsrtp relies on: version 2, CSRCs and the extension header
// inside the packet.
bool rtpHeaderFits(std::span<const std::byte> packet) {
  if (packet.size() < kRtpFixedHeaderBytes || (static_cast<uint8_t>(packet[0]) >> 6) != 2) {
    return false;
  }
  std::size_t header = kRtpFixedHeaderBytes + 4 * (static_cast<uint8_t>(packet[0]) & 0x0F);
  if ((static_cast<uint8_t>(packet[0]) & 0x10) != 0) {
    if (packet.size() < header + 4) {
      return false;
    }
    const std::size_t words =
        (static_cast<std::size_t>(static_cast<uint8_t>(packet[header + 2])) << 8) |
        static_cast<uint8_t>(packet[header + 3]);
    header += 4 + 4 * words;
  }
  return packet.size() >= header;
}

// An Ok outcome whose length libsrtp put outside the buffer is a broken invariant of the
// library; it is reported as Invalid rather than trusted.
SrtpOutcome outcomeOf(SrtpStatus status, int length, std::size_t capacity) {
  if (status != SrtpStatus::Ok) {
    return {status, 0};
  }
  if (length < 0 || static_cast<std::size_t>(length) > capacity) {
    return {};
  }
  return {SrtpStatus::Ok, static_cast<std::size_t>(length)};
}

bool rtcpHeaderFits(std::span<const std::byte> packet) {
  return packet.size() >= kRtcpHeaderBytes && (static_cast<uint8_t>(packet[0]) >> 6) == 2;
}

}  // namespace

std::optional<SrtpSuite> srtpSuiteFromName(std::string_view name) {
  for (const SrtpSuite suite : kSuites) {
    if (iequals(name, toString(suite))) {
      return suite;
    }
  }
  return std::nullopt;
}

std::string_view toString(SrtpSuite suite) {
  switch (suite) {
    case SrtpSuite::AesCm128HmacSha1_80:
      return "AES_CM_128_HMAC_SHA1_80";
    case SrtpSuite::AesCm128HmacSha1_32:
      return "AES_CM_128_HMAC_SHA1_32";
    case SrtpSuite::AeadAes128Gcm:
      return "AEAD_AES_128_GCM";
    case SrtpSuite::AeadAes256Gcm:
      return "AEAD_AES_256_GCM";
  }
  return "AES_CM_128_HMAC_SHA1_80";
}

std::size_t srtpMasterKeySaltBytes(SrtpSuite suite) {
  switch (suite) {
    case SrtpSuite::AesCm128HmacSha1_80:
    case SrtpSuite::AesCm128HmacSha1_32:
      return SRTP_AES_ICM_128_KEY_LEN_WSALT;
    case SrtpSuite::AeadAes128Gcm:
      return SRTP_AES_GCM_128_KEY_LEN_WSALT;
    case SrtpSuite::AeadAes256Gcm:
      return SRTP_AES_GCM_256_KEY_LEN_WSALT;
  }
  return SRTP_AES_ICM_128_KEY_LEN_WSALT;
}

Result<SrtpSession> SrtpSession::create(SrtpSuite suite, std::span<const uint8_t> master_key_salt,
                                        Direction direction) {
  if (auto initialised = initialiseOnce(); !initialised) {
    return tl::unexpected(initialised.error());
  }
  const std::size_t expected = srtpMasterKeySaltBytes(suite);
  if (master_key_salt.size() != expected) {
    return fail("SRTP " + std::string(toString(suite)) + " needs " + std::to_string(expected) +
                " bytes of master key and salt, got " + std::to_string(master_key_salt.size()));
  }
  auto context = createContext(suite, master_key_salt, direction, false);
  if (!context) {
    return tl::unexpected(context.error());
  }
  Context short_rtcp_tag;
  if (suite == SrtpSuite::AesCm128HmacSha1_32 && direction == Direction::Inbound) {
    auto alternative = createContext(suite, master_key_salt, direction, true);
    if (!alternative) {
      return tl::unexpected(alternative.error());
    }
    short_rtcp_tag = std::move(*alternative);
  }
  return SrtpSession(suite, direction, std::move(*context), std::move(short_rtcp_tag));
}

Result<SrtpSession::Context> SrtpSession::createContext(SrtpSuite suite,
                                                        std::span<const uint8_t> master_key_salt,
                                                        Direction direction, bool short_rtcp_tag) {
  // libsrtp reads the key through a non-const pointer; it gets a copy, wiped afterwards.
  std::array<unsigned char, SRTP_MAX_KEY_LEN> key{};
  std::copy(master_key_salt.begin(), master_key_salt.end(), key.begin());
  srtp_policy_t policy{};
  setPolicies(suite, policy);
  if (short_rtcp_tag) {
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy.rtcp);
  }
  policy.ssrc.type = direction == Direction::Inbound ? ssrc_any_inbound : ssrc_any_outbound;
  policy.key = key.data();
  policy.window_size = kReplayWindowPackets;
  policy.allow_repeat_tx = 0;
  policy.next = nullptr;
  srtp_t context = nullptr;
  const srtp_err_status_t status = srtp_create(&context, &policy);
  explicit_bzero(key.data(), key.size());
  if (status != srtp_err_status_ok) {
    return fail("SRTP " + std::string(toString(suite)) + " context creation failed (status " +
                std::to_string(status) + ")");
  }
  return Context(context);
}

Result<SrtpSession> SrtpSession::create(std::string_view suite_name,
                                        std::span<const uint8_t> master_key_salt,
                                        Direction direction) {
  const auto suite = srtpSuiteFromName(suite_name);
  if (!suite) {
    return fail("SRTP crypto suite " + std::string(suite_name) + " is not supported");
  }
  return create(*suite, master_key_salt, direction);
}

SrtpSession::SrtpSession(SrtpSession&& other) noexcept = default;
SrtpSession& SrtpSession::operator=(SrtpSession&& other) noexcept = default;
SrtpSession::~SrtpSession() = default;

void SrtpSession::Deleter::operator()(srtp_ctx_t_* context) const {
  srtp_dealloc(context);
}

SrtpOutcome SrtpSession::unprotectRtp(std::span<std::byte> packet) {
  if (!context_ || direction_ != Direction::Inbound || !rtpHeaderFits(packet) ||
      packet.size() > INT_MAX) {
    return {};
  }
  int length = static_cast<int>(packet.size());
  const SrtpStatus status = statusOf(srtp_unprotect(context_.get(), packet.data(), &length));
  return outcomeOf(status, length, packet.size());
}

SrtpOutcome SrtpSession::unprotectRtcp(std::span<std::byte> packet) {
  if (!context_ || direction_ != Direction::Inbound || !rtcpHeaderFits(packet) ||
      packet.size() > INT_MAX) {
    return {};
  }
  int length = static_cast<int>(packet.size());
  SrtpStatus status = statusOf(srtp_unprotect_rtcp(context_.get(), packet.data(), &length));
  // libsrtp verifies the tag before it decrypts, so a failed packet is still intact here.
  // Only its success counts: otherwise the packet stays an authentication failure.
  if (status == SrtpStatus::AuthenticationFailed && short_rtcp_tag_) {
    int short_length = static_cast<int>(packet.size());
    if (statusOf(srtp_unprotect_rtcp(short_rtcp_tag_.get(), packet.data(), &short_length)) ==
        SrtpStatus::Ok) {
      status = SrtpStatus::Ok;
      length = short_length;
    }
  }
  return outcomeOf(status, length, packet.size());
}

SrtpOutcome SrtpSession::protectRtp(std::span<std::byte> buffer, std::size_t packet_bytes) {
  if (!context_ || direction_ != Direction::Outbound || packet_bytes > buffer.size() ||
      buffer.size() - packet_bytes < kSrtpMaxTrailerBytes || packet_bytes > INT_MAX / 2 ||
      !rtpHeaderFits(buffer.first(packet_bytes))) {
    return {};
  }
  int length = static_cast<int>(packet_bytes);
  const SrtpStatus status = statusOf(srtp_protect(context_.get(), buffer.data(), &length));
  return outcomeOf(status, length, buffer.size());
}

SrtpOutcome SrtpSession::protectRtcp(std::span<std::byte> buffer, std::size_t packet_bytes) {
  if (!context_ || direction_ != Direction::Outbound || packet_bytes > buffer.size() ||
      buffer.size() - packet_bytes < kSrtpMaxTrailerBytes || packet_bytes > INT_MAX / 2 ||
      !rtcpHeaderFits(buffer.first(packet_bytes))) {
    return {};
  }
  int length = static_cast<int>(packet_bytes);
  const SrtpStatus status = statusOf(srtp_protect_rtcp(context_.get(), buffer.data(), &length));
  return outcomeOf(status, length, buffer.size());
}

}  // namespace siprecd::media
