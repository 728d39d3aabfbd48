#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "sdp/session_description.hpp"

namespace siprecd::sdp {

/// A codec the recorder accepts: encoding name (matched case-insensitively against the
/// offer's rtpmap or RFC 3551 static assignment) and RTP clock rate in Hz (G.722 is
/// {"G722", 8000}: RFC 3551 §4.5.2 keeps its RTP clock at 8000 although it samples 16 kHz).
struct CodecPreference {
  std::string name;  ///< "PCMU", "PCMA", "G722", "G729", "opus", "L16", ...
  uint32_t clock_rate = 0;
};

/// What a domain accepts when answering.
struct AnswerPolicy {
  /// Preference order: for each m-line the first of these present in the offer wins.
  std::vector<CodecPreference> codecs{{"PCMU", 8000}, {"PCMA", 8000}};
  /// RTP/SAVP(F) streams are rejected (port 0) unless true. Hook for SDES-SRTP: when true,
  /// such a stream needs a well-formed a=crypto to be accepted, but buildAnswer() does not
  /// yet answer a=crypto (added with SRTP support).
  bool accept_srtp = false;
};

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
};

/// Decides, as the SRS answerer (RFC 3264 §6, RFC 7866 §8.1.1), what to do with each
/// offered m-line. A stream is accepted when it is audio, has a non-zero port, an RTP/AVP(F)
/// transport (RTP/SAVP(F) only with policy.accept_srtp), an IN IP4/IP6 connection and a
/// codec from policy.codecs; everything else is rejected with a reason. The answer
/// direction is recvonly for sendonly/sendrecv offers, inactive for recvonly/inactive.
/// Failure: Error.code 488 when no stream is accepted, with a message fit for a Warning
/// header ("no offered codec is supported (offered: G723, iLBC)"). Pure; any thread.
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
/// gets local.ports[index], the chosen payload type (+ telephone-event), their a=rtpmap,
/// a=fmtp echoed from the offer, a=ptime and a=rtcp-mux when offered, a=label, and
/// a=recvonly or a=inactive. o= carries `session_id` (keep it across re-INVITEs) and
/// `session_version` (the caller increments it on every new answer); s=siprecd, t=0 0,
/// session-level c= with local.address. Pure; any thread.
SessionDescription buildAnswer(const SessionDescription& offer,
                               const std::vector<NegotiatedStream>& streams,
                               const LocalMedia& local, uint64_t session_id,
                               uint64_t session_version);

}  // namespace siprecd::sdp
