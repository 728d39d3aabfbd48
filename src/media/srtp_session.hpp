#pragma once

// SDES-SRTP (RFC 3711, keys from RFC 4568 a=crypto) through libsrtp2: one protection
// context per recorded stream, created from the crypto suite and the master key || salt.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "base/result.hpp"

struct srtp_ctx_t_;

namespace siprecd::media {

/// The SRTP crypto suites siprecd answers (RFC 4568 §6.2 names; AEAD suites RFC 7714 §14.2).
/// Authentication tags: _80 = 10 bytes, _32 = 4 bytes on SRTP (SRTCP always 10 bytes,
/// RFC 4568 §6.2.2), GCM = 16 bytes (RFC 7714 §13.1).
enum class SrtpSuite : uint8_t {
  AesCm128HmacSha1_80,
  AesCm128HmacSha1_32,
  AeadAes128Gcm,
  AeadAes256Gcm,
};

/// The suite an SDP name denotes ("AES_CM_128_HMAC_SHA1_80", "AEAD_AES_256_GCM", ...,
/// compared case-insensitively); nullopt for suites siprecd does not support.
std::optional<SrtpSuite> srtpSuiteFromName(std::string_view name);
/// The SDP name of a suite.
std::string_view toString(SrtpSuite suite);
/// Bytes of master key || master salt the suite takes: 30 for AES_CM_128 (16 + 14),
/// 28 for AEAD_AES_128_GCM (16 + 12), 44 for AEAD_AES_256_GCM (32 + 12).
std::size_t srtpMasterKeySaltBytes(SrtpSuite suite);

/// Room protectRtp()/protectRtcp() need after the packet (authentication tag, MKI and,
/// for SRTCP, the E flag and index).
inline constexpr std::size_t kSrtpMaxTrailerBytes = 148;

/// What became of one packet.
enum class SrtpStatus {
  Ok,
  AuthenticationFailed,  ///< the tag did not verify (wrong key, tampering, not SRTP)
  Replay,                ///< already received, or older than the replay window (RFC 3711 §3.3.2)
  Invalid,               ///< too short or otherwise unprocessable (nothing was verified)
};

/// The outcome of an (un)protect call: on Ok, `bytes` is the packet's new length.
struct SrtpOutcome {
  SrtpStatus status = SrtpStatus::Invalid;
  std::size_t bytes = 0;
};

/// One SRTP/SRTCP protection context (libsrtp2 session with a wildcard SSRC policy: every
/// SSRC of the stream shares the key, each with its own replay window of 128 packets).
/// Inbound contexts unprotect, outbound ones protect (tests, fuzzing, the bench load
/// generator). Lives on one thread at a time; move-only; no allocation per packet except
/// libsrtp's per-SSRC stream, created once an SSRC's first packet authenticates.
class SrtpSession {
 public:
  enum class Direction { Inbound, Outbound };

  /// Creates a context. Initialises libsrtp on first use (once per process,
  /// thread-safe). Fails, naming the cause, when the key length does not match the suite
  /// (srtpMasterKeySaltBytes) or libsrtp refuses the policy. Our copy of the key is wiped
  /// afterwards; the caller's is untouched. Cheap enough for the SIP thread.
  [[nodiscard]] static Result<SrtpSession> create(SrtpSuite suite,
                                                  std::span<const uint8_t> master_key_salt,
                                                  Direction direction);
  /// As above with the suite's SDP name; fails for an unsupported suite.
  [[nodiscard]] static Result<SrtpSession> create(std::string_view suite_name,
                                                  std::span<const uint8_t> master_key_salt,
                                                  Direction direction);

  SrtpSession(SrtpSession&& other) noexcept;
  SrtpSession& operator=(SrtpSession&& other) noexcept;
  SrtpSession(const SrtpSession&) = delete;
  SrtpSession& operator=(const SrtpSession&) = delete;
  ~SrtpSession();

  SrtpSuite suite() const { return suite_; }
  Direction direction() const { return direction_; }

  /// Verifies and decrypts the SRTP packet filling `packet`, in place (RFC 3711 §3.3):
  /// on Ok the plain RTP packet is the first `bytes` bytes. Never reads or writes outside
  /// `packet`; on failure its contents are unspecified. Invalid on an outbound context.
  SrtpOutcome unprotectRtp(std::span<std::byte> packet);
  /// The same for an SRTCP compound packet (RFC 3711 §3.4). With AES_CM_128_HMAC_SHA1_32
  /// the 80-bit SRTCP tag of RFC 4568 §6.2.2 is expected, and a 32-bit one (what e.g.
  /// FFmpeg sends) is accepted too.
  SrtpOutcome unprotectRtcp(std::span<std::byte> packet);
  /// Encrypts and authenticates the RTP packet in the first `packet_bytes` bytes of
  /// `buffer`, in place; `buffer` must hold packet_bytes + kSrtpMaxTrailerBytes, else
  /// Invalid. Replay when a sequence number is protected twice. Invalid on an inbound
  /// context.
  SrtpOutcome protectRtp(std::span<std::byte> buffer, std::size_t packet_bytes);
  /// The same for an RTCP compound packet.
  SrtpOutcome protectRtcp(std::span<std::byte> buffer, std::size_t packet_bytes);

 private:
  struct Deleter {
    void operator()(srtp_ctx_t_* context) const;
  };

  using Context = std::unique_ptr<srtp_ctx_t_, Deleter>;

  /// One libsrtp session for `suite` (with the 32-bit SRTCP tag when `short_rtcp_tag`).
  static Result<Context> createContext(SrtpSuite suite, std::span<const uint8_t> master_key_salt,
                                       Direction direction, bool short_rtcp_tag);

  SrtpSession(SrtpSuite suite, Direction direction, Context context, Context short_rtcp_tag)
      : suite_(suite),
        direction_(direction),
        context_(std::move(context)),
        short_rtcp_tag_(std::move(short_rtcp_tag)) {}

  SrtpSuite suite_;
  Direction direction_;
  Context context_;
  /// Inbound AES_CM_128_HMAC_SHA1_32 only: SRTCP with the 32-bit tag, tried when the
  /// 80-bit one fails.
  Context short_rtcp_tag_;
};

}  // namespace siprecd::media
