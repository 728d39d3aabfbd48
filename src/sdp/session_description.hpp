#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "sdp/crypto.hpp"

namespace siprecd::sdp {

/// Media direction attributes (RFC 4566 §6, RFC 3264 §5.1). Without any, a stream is
/// sendrecv.
enum class Direction { SendRecv, SendOnly, RecvOnly, Inactive };

/// The attribute name for a direction: "sendrecv", "sendonly", "recvonly", "inactive".
std::string_view toString(Direction direction);
/// The direction an attribute name denotes (case-insensitive); nullopt for other names.
std::optional<Direction> directionFromName(std::string_view name);

/// One a= line (RFC 4566 §5.13): a property attribute `a=name` has no value, a value
/// attribute `a=name:value` has one (possibly empty).
struct Attribute {
  std::string name;
  std::optional<std::string> value;
  bool operator==(const Attribute&) const = default;
};

/// Any other line kept as received (i=, u=, e=, p=, z=, k= and unknown type letters).
struct Line {
  char type = 0;
  std::string value;
  bool operator==(const Line&) const = default;
};

/// o= (RFC 4566 §5.2). sess-id and sess-version are digit strings kept verbatim: some
/// offerers use values wider than 64 bits.
struct Origin {
  std::string username = "-";
  std::string session_id;
  std::string session_version;
  std::string net_type = "IN";
  std::string addr_type = "IP4";
  std::string address;
  bool operator==(const Origin&) const = default;
};

/// c= (RFC 4566 §5.7). `address` is verbatim and may carry "/ttl[/count]" for multicast.
struct Connection {
  std::string net_type = "IN";
  std::string addr_type = "IP4";
  std::string address;
  /// The address without any multicast "/ttl/count" suffix.
  std::string_view host() const;
  bool operator==(const Connection&) const = default;
};

/// t= (RFC 4566 §5.9) with the r= lines that follow it (§5.10), kept verbatim.
struct Timing {
  uint64_t start = 0;
  uint64_t stop = 0;
  std::vector<std::string> repeats;
  bool operator==(const Timing&) const = default;
};

/// a=rtpmap (RFC 4566 §6) or an RFC 3551 static default: encoding name as spelled,
/// clock rate in Hz, channel count (1 when absent).
struct RtpMap {
  std::string encoding_name;
  uint32_t clock_rate = 0;
  uint32_t channels = 1;
  bool operator==(const RtpMap&) const = default;
};

/// a=rtcp (RFC 3605 §2.1): the RTCP port and, optionally, its address.
struct RtcpAttribute {
  uint16_t port = 0;
  std::optional<Connection> connection;
};

/// One m= section (RFC 4566 §5.14) with its lines. Plain value type.
struct MediaDescription {
  std::string media;  ///< "audio", "video", "application", ...
  uint16_t port = 0;
  std::optional<uint16_t> port_count;  ///< the "/2" of "m=audio 49170/2 ..."
  std::string proto;                   ///< "RTP/AVP", "RTP/SAVP", "UDP/TLS/RTP/SAVPF", ...
  std::vector<std::string> formats;    ///< payload types for RTP protos, verbatim
  std::vector<Line> extra_lines;       ///< i=, k= and unknown lines
  std::optional<Connection> connection;
  std::vector<std::string> bandwidths;  ///< b= values ("AS:64"), verbatim
  std::vector<Attribute> attributes;

  /// First attribute with that name (case-insensitive); nullptr when absent.
  const Attribute* findAttribute(std::string_view name) const;
  bool hasAttribute(std::string_view name) const { return findAttribute(name) != nullptr; }
  /// True when `proto` is an RTP profile (RTP/AVP, RTP/SAVPF, UDP/TLS/RTP/SAVP, ...).
  bool isRtp() const;
  /// The rtpmap of a payload type: its a=rtpmap, else (RTP protos only) the RFC 3551
  /// static default; nullopt when neither exists or the a=rtpmap is malformed and the
  /// payload type is dynamic.
  std::optional<RtpMap> rtpmap(std::string_view payload_type) const;
  /// The parameters of a=fmtp:<pt> (after the payload type), nullopt without one.
  std::optional<std::string> fmtp(std::string_view payload_type) const;
  /// a=ptime / a=maxptime in milliseconds (fractions are truncated); nullopt if absent or
  /// malformed.
  std::optional<uint32_t> ptime() const;
  std::optional<uint32_t> maxptime() const;
  /// This section's own direction attribute (the first one), without session default.
  std::optional<Direction> direction() const;
  /// a=label (RFC 4574), nullopt when absent.
  std::optional<std::string> label() const;
  /// a=rtcp-mux (RFC 5761 §5.1.1) present.
  bool rtcpMux() const { return hasAttribute("rtcp-mux"); }
  /// a=rtcp (RFC 3605); nullopt when absent or malformed.
  std::optional<RtcpAttribute> rtcp() const;
  /// Every well-formed a=crypto line, in order; malformed ones are skipped.
  std::vector<Crypto> cryptos() const;

  bool operator==(const MediaDescription&) const = default;
};

/// A whole session description (RFC 4566 §5). Plain value type; build one with
/// parseSdp() or by hand (offer_answer's buildAnswer()), write it with serializeSdp().
struct SessionDescription {
  uint32_t version = 0;
  Origin origin;
  std::string session_name = "-";
  std::vector<Line> extra_lines;  ///< i=, u=, e=, p=, z=, k= and unknown lines
  std::optional<Connection> connection;
  std::vector<std::string> bandwidths;
  std::vector<Timing> timings;
  std::vector<Attribute> attributes;
  std::vector<MediaDescription> media;

  /// First session-level attribute with that name (case-insensitive); nullptr if absent.
  const Attribute* findAttribute(std::string_view name) const;
  /// The session-level direction attribute, if any.
  std::optional<Direction> direction() const;
  /// A stream's direction: its own, else the session-level one, else sendrecv
  /// (RFC 4566 §6).
  Direction effectiveDirection(const MediaDescription& media_description) const;
  /// A stream's connection: its own c=, else the session-level one; nullptr if neither.
  const Connection* effectiveConnection(const MediaDescription& media_description) const;

  bool operator==(const SessionDescription&) const = default;
};

}  // namespace siprecd::sdp
