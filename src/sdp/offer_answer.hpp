#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "sdp/crypto.hpp"
#include "sdp/session_description.hpp"

namespace siprecd::sdp {

/// A codec the recorder accepts: encoding name (matched case-insensitively against the
/// offer's rtpmap or RFC 3551 static assignment) and RTP clock rate in Hz (G.722 is
/// {"G722", 8000}: RFC 3551 §4.5.2 keeps its RTP clock at 8000 although it samples 16 kHz).
struct CodecPreference {
  std::string name;  ///< "PCMU", "PCMA", "G722", "G729", "opus", "L16", ...
  uint32_t clock_rate = 0;
};

/// Whether a domain takes SDES-SRTP (RFC 4568) streams (configuration `srtp`).
enum class SrtpPolicy {
  Optional,  ///< RTP/AVP(F) and RTP/SAVP(F) streams are both accepted
  Required,  ///< only RTP/SAVP(F) streams are accepted
  Refused,   ///< only RTP/AVP(F) streams are accepted
};

/// The policy a configuration value names ("optional", "required", "refused",
/// case-insensitive); nullopt for anything else.
std::optional<SrtpPolicy> srtpPolicyFromName(std::string_view name);

/// What a domain accepts when answering.
struct AnswerPolicy {
  /// Preference order: for each m-line the first of these present in the offer wins.
  std::vector<CodecPreference> codecs{{"PCMU", 8000}, {"PCMA", 8000}};
  SrtpPolicy srtp = SrtpPolicy::Optional;
};

/// Fills a buffer with cryptographically strong random bytes; false on failure.
using RandomBytes = std::function<bool(std::span<uint8_t>)>;

/// The process CSPRNG (OpenSSL RAND_bytes). Thread-safe.
bool cryptoRandomBytes(std::span<uint8_t> out);

/// The outcome for one offered m-line (RFC 3264 §6), in offer order.
struct NegotiatedStream {
  std::size_t index = 0;      ///< m-line index in the offer
  bool accepted = false;      ///< false → port 0 in the answer
  std::string reject_reason;  ///< why not accepted, for logs and the Warning header
  std::string media;          ///< "audio", "video", ...
  std::string label;          ///< a=label (RFC 4574), may be empty
  // Meaningful for accepted audio streams:
  uint8_t payload_type = 0;  ///< chosen codec's payload type
  std::string codec_name;    ///< as spelled in the offer ("PCMU", "opus")
  uint32_t clock_rate = 0;   ///< RTP clock rate in Hz
  uint32_t channels = 1;
  std::optional<uint8_t> telephone_event_pt;  ///< RFC 4733, when offered at clock_rate
  std::string fmtp;                           ///< chosen codec's a=fmtp parameters, or empty
  std::optional<uint32_t> ptime_ms;           ///< offered a=ptime
  Direction offered_direction = Direction::SendRecv;  ///< after session-level default
  Direction answer_direction = Direction::RecvOnly;   ///< recvonly or inactive
  std::string remote_address;                         ///< effective c= host of the offer
  uint16_t remote_port = 0;                           ///< offered RTP port
  bool rtcp_mux = false;                              ///< a=rtcp-mux offered (and answered)
  /// SDES-SRTP (RTP/SAVP, RTP/SAVPF): the SRC's chosen a=crypto line (the first the offer
  /// lists that decodeSdesCrypto() accepts), its key decoded: what the SRC encrypts with,
  /// so what media::StreamSpec::srtp needs (suite, master_key_salt). Absent for plain RTP.
  std::optional<SdesCrypto> remote_crypto;
  /// Ours for the answer (RFC 4568 §7.1.2): the same tag and suite with a fresh random key
  /// (never used to send, since the recorder only receives). Absent for plain RTP.
  std::optional<SdesCrypto> local_crypto;
};

/// Decides, as the SRS answerer (RFC 3264 §6, RFC 7866 §8.1.1), what to do with each
/// offered m-line. A stream is accepted when it is audio, has a non-zero port, an IN
/// IP4/IP6 connection, a codec from policy.codecs and a transport the SRTP policy allows:
/// RTP/AVP(F) unless policy.srtp is Required; RTP/SAVP(F) unless it is Refused, and then
/// only with an a=crypto that decodeSdesCrypto() accepts (the first in offer order is
/// chosen; a fresh key of `random_bytes` makes our local_crypto). DTLS-SRTP is rejected.
/// Everything else is rejected with a reason. The answer direction is recvonly for
/// sendonly/sendrecv offers, inactive for recvonly/inactive. Failure: Error.code 488 when
/// no stream is accepted, with a message fit for a Warning header ("no offered codec is
/// supported (offered: G723, iLBC)", "SRTP is required but RTP/AVP was offered"). Any
/// thread.
Result<std::vector<NegotiatedStream>> negotiate(const SessionDescription& offer,
                                                const AnswerPolicy& policy,
                                                const RandomBytes& random_bytes);
/// negotiate() with local SRTP keys from cryptoRandomBytes().
Result<std::vector<NegotiatedStream>> negotiate(const SessionDescription& offer,
                                                const AnswerPolicy& policy);

/// Our media endpoint for an answer.
struct LocalMedia {
  std::string address;          ///< our IP, v4 or v6 (c= and o= use IP6 when it has a ':')
  std::vector<uint16_t> ports;  ///< RTP port per offered m-line; 0 for rejected ones
};

/// Builds the answer for `offer` from negotiate()'s streams: same m-lines in the same
/// order; a rejected stream (or one whose port in `local` is 0 or missing) gets port 0,
/// the offered media and proto, and the first offered format; an accepted audio stream
/// gets local.ports[index], the offered proto (RTP/SAVP(F) for SRTP), the chosen payload
/// type (+ telephone-event), their a=rtpmap, a=fmtp echoed from the offer, a=ptime when
/// offered, a=crypto with local_crypto for SRTP, a=rtcp-mux when offered, a=label, and
/// a=recvonly or a=inactive. o= carries `session_id` (keep it across re-INVITEs) and
/// `session_version` (the caller increments it on every new answer); s=siprecd, t=0 0,
/// session-level c= with local.address. Pure; any thread.
SessionDescription buildAnswer(const SessionDescription& offer,
                               const std::vector<NegotiatedStream>& streams,
                               const LocalMedia& local, uint64_t session_id,
                               uint64_t session_version);

}  // namespace siprecd::sdp
