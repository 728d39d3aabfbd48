#include "sdp/offer_answer.hpp"

#include <algorithm>

#include <openssl/rand.h>

#include "base/strings.hpp"

namespace siprecd::sdp {
namespace {

enum class Transport { Rtp, Srtp, DtlsSrtp, Other };

Transport classifyProto(std::string_view proto) {
  if (iequals(proto, "RTP/AVP") || iequals(proto, "RTP/AVPF")) {
    return Transport::Rtp;
  }
  if (iequals(proto, "RTP/SAVP") || iequals(proto, "RTP/SAVPF")) {
    return Transport::Srtp;
  }
  if (istartsWith(proto, "UDP/TLS/RTP/") || istartsWith(proto, "TCP/TLS/RTP/")) {
    return Transport::DtlsSrtp;
  }
  return Transport::Other;
}

// RTP payload types are 0–127 (RFC 3550 §5.1).
std::optional<uint8_t> payloadTypeNumber(std::string_view format) {
  auto number = parseUnsigned(format);
  if (!number || *number > 127) {
    return std::nullopt;
  }
  return static_cast<uint8_t>(*number);
}

bool isTelephoneEvent(const RtpMap& map) {
  return iequals(map.encoding_name, "telephone-event");
}

// "no offered codec is supported (offered: G723, iLBC)": the offered encodings apart from
// telephone-event and comfort noise (unless nothing else was offered).
std::string noCodecReason(const MediaDescription& media) {
  std::vector<std::string> codecs;
  std::vector<std::string> others;
  for (const std::string& format : media.formats) {
    auto map = media.rtpmap(format);
    std::string name = map ? map->encoding_name : format;
    bool is_codec = map && !isTelephoneEvent(*map) && !iequals(map->encoding_name, "CN");
    std::vector<std::string>& list = (is_codec || !map) ? codecs : others;
    if (std::find(list.begin(), list.end(), name) == list.end()) {
      list.push_back(std::move(name));
    }
  }
  const std::vector<std::string>& shown = codecs.empty() ? others : codecs;
  std::string reason = "no offered codec is supported (offered: ";
  for (std::size_t i = 0; i < shown.size(); ++i) {
    reason += (i == 0 ? "" : ", ") + shown[i];
  }
  return reason + ")";
}

// The chosen codec: the first policy entry any offered payload type matches (RFC 3264 §6.1
// lets the answerer pick from the offer).
bool chooseCodec(const MediaDescription& media, const AnswerPolicy& policy,
                 NegotiatedStream& stream) {
  for (const CodecPreference& preference : policy.codecs) {
    for (const std::string& format : media.formats) {
      auto pt = payloadTypeNumber(format);
      auto map = media.rtpmap(format);
      if (pt && map && iequals(map->encoding_name, preference.name) &&
          map->clock_rate == preference.clock_rate) {
        stream.payload_type = *pt;
        stream.codec_name = map->encoding_name;
        stream.clock_rate = map->clock_rate;
        stream.channels = map->channels;
        stream.fmtp = media.fmtp(format).value_or("");
        return true;
      }
    }
  }
  return false;
}

// RFC 4733 §7.1.1: telephone-event uses the clock rate of the audio it accompanies.
std::optional<uint8_t> findTelephoneEvent(const MediaDescription& media, uint32_t clock_rate) {
  for (const std::string& format : media.formats) {
    auto pt = payloadTypeNumber(format);
    auto map = media.rtpmap(format);
    if (pt && map && isTelephoneEvent(*map) && map->clock_rate == clock_rate) {
      return pt;
    }
  }
  return std::nullopt;
}

// RFC 4568 §7.1.2: the answerer picks one offered a=crypto it supports (the first, in the
// offerer's order of preference) and answers it with the same tag and suite and its own
// key. Returns the reason when none is usable or no key can be made.
std::optional<std::string> chooseCrypto(const MediaDescription& media,
                                        const RandomBytes& random_bytes, NegotiatedStream& stream) {
  const std::vector<Crypto> offered = media.cryptos();
  if (offered.empty()) {
    return media.proto + " offered without a usable a=crypto";
  }
  std::optional<std::string> first_error;
  for (const Crypto& crypto : offered) {
    auto decoded = decodeSdesCrypto(crypto);
    if (!decoded) {
      if (!first_error) {
        first_error = decoded.error().message;
      }
      continue;
    }
    SdesCrypto local;
    local.tag = decoded->tag;
    local.suite = decoded->suite;
    local.master_key_salt.resize(decoded->master_key_salt.size());
    if (!random_bytes || !random_bytes(local.master_key_salt)) {
      return std::string("cannot generate an SRTP master key");
    }
    stream.remote_crypto = std::move(*decoded);
    stream.local_crypto = std::move(local);
    return std::nullopt;
  }
  return "no usable a=crypto (" + *first_error + ")";
}

// Fills `stream` for one offered m-line; returns the reason when it must be rejected.
std::optional<std::string> negotiateStream(const SessionDescription& offer,
                                           const MediaDescription& media,
                                           const AnswerPolicy& policy,
                                           const RandomBytes& random_bytes,
                                           NegotiatedStream& stream) {
  if (media.port == 0) {
    return "stream rejected in the offer (port 0)";  // RFC 3264 §8.2
  }
  if (!iequals(media.media, "audio")) {
    return "media type " + media.media + " is not recorded";
  }
  const Transport transport = classifyProto(media.proto);
  switch (transport) {
    case Transport::Rtp:
      if (policy.srtp == SrtpPolicy::Required) {
        return "SRTP is required but " + media.proto + " was offered";
      }
      break;
    case Transport::Srtp:
      if (policy.srtp == SrtpPolicy::Refused) {
        return "SRTP (" + media.proto + ") is refused by policy";
      }
      break;
    case Transport::DtlsSrtp:
      return "DTLS-SRTP (" + media.proto + ") is not supported";
    case Transport::Other:
      return "transport " + media.proto + " is not supported";
  }
  const Connection* connection = offer.effectiveConnection(media);
  if (connection == nullptr || !iequals(connection->net_type, "IN") ||
      (!iequals(connection->addr_type, "IP4") && !iequals(connection->addr_type, "IP6"))) {
    return "no IN IP4/IP6 c= line for the stream";
  }
  if (!chooseCodec(media, policy, stream)) {
    return noCodecReason(media);
  }
  if (transport == Transport::Srtp) {
    if (auto reason = chooseCrypto(media, random_bytes, stream)) {
      return reason;
    }
  }
  stream.telephone_event_pt = findTelephoneEvent(media, stream.clock_rate);
  stream.ptime_ms = media.ptime();
  stream.remote_address = std::string(connection->host());
  stream.remote_port = media.port;
  stream.rtcp_mux = media.rtcpMux();
  return std::nullopt;
}

// The 488 message: the reason of the first rejected audio stream the offerer did not
// itself disable, else of the first audio stream.
std::string noStreamReason(const std::vector<NegotiatedStream>& streams,
                           const SessionDescription& offer) {
  const NegotiatedStream* chosen = nullptr;
  for (const NegotiatedStream& stream : streams) {
    if (!iequals(stream.media, "audio")) {
      continue;
    }
    if (chosen == nullptr ||
        (offer.media[chosen->index].port == 0 && offer.media[stream.index].port != 0)) {
      chosen = &stream;
    }
  }
  return chosen ? chosen->reject_reason : "no audio stream offered";
}

std::string addressType(std::string_view address) {
  return address.find(':') == std::string_view::npos ? "IP4" : "IP6";
}

std::string rtpmapValue(uint8_t pt, std::string_view name, uint32_t clock_rate, uint32_t channels) {
  std::string value =
      std::to_string(pt) + " " + std::string(name) + "/" + std::to_string(clock_rate);
  if (channels > 1) {
    value += "/" + std::to_string(channels);
  }
  return value;
}

MediaDescription rejectedMedia(const MediaDescription& offered) {
  MediaDescription media;
  media.media = offered.media;
  media.port = 0;
  media.proto = offered.proto;
  media.formats = {offered.formats.empty() ? std::string("0") : offered.formats.front()};
  return media;
}

MediaDescription acceptedMedia(const MediaDescription& offered, const NegotiatedStream& stream,
                               uint16_t port) {
  MediaDescription media;
  media.media = offered.media;
  media.port = port;
  media.proto = offered.proto;
  std::vector<Attribute>& attributes = media.attributes;
  auto add = [&attributes](std::string name, std::optional<std::string> value) {
    attributes.push_back(Attribute{std::move(name), std::move(value)});
  };
  media.formats.push_back(std::to_string(stream.payload_type));
  add("rtpmap",
      rtpmapValue(stream.payload_type, stream.codec_name, stream.clock_rate, stream.channels));
  if (!stream.fmtp.empty()) {
    add("fmtp", std::to_string(stream.payload_type) + " " + stream.fmtp);
  }
  if (stream.telephone_event_pt) {
    std::string pt = std::to_string(*stream.telephone_event_pt);
    media.formats.push_back(pt);
    add("rtpmap", rtpmapValue(*stream.telephone_event_pt, "telephone-event", stream.clock_rate, 1));
    if (auto events = offered.fmtp(pt); events && !events->empty()) {
      add("fmtp", pt + " " + *events);
    }
  }
  if (stream.ptime_ms) {
    add("ptime", std::to_string(*stream.ptime_ms));
  }
  if (stream.local_crypto) {
    add("crypto", serializeCrypto(toCrypto(*stream.local_crypto)));  // RFC 4568 §7.1.2
  }
  if (stream.rtcp_mux) {
    add("rtcp-mux", std::nullopt);  // RFC 5761 §5.1.1
  }
  if (!stream.label.empty()) {
    add("label", stream.label);  // RFC 4574, RFC 7866 §8.1.1
  }
  add(std::string(toString(stream.answer_direction)), std::nullopt);
  return media;
}

}  // namespace

std::optional<SrtpPolicy> srtpPolicyFromName(std::string_view name) {
  if (iequals(name, "optional")) {
    return SrtpPolicy::Optional;
  }
  if (iequals(name, "required")) {
    return SrtpPolicy::Required;
  }
  if (iequals(name, "refused")) {
    return SrtpPolicy::Refused;
  }
  return std::nullopt;
}

bool cryptoRandomBytes(std::span<uint8_t> out) {
  return out.size() <= INT32_MAX && RAND_bytes(out.data(), static_cast<int>(out.size())) == 1;
}

Result<std::vector<NegotiatedStream>> negotiate(const SessionDescription& offer,
                                                const AnswerPolicy& policy) {
  return negotiate(offer, policy, cryptoRandomBytes);
}

Result<std::vector<NegotiatedStream>> negotiate(const SessionDescription& offer,
                                                const AnswerPolicy& policy,
                                                const RandomBytes& random_bytes) {
  std::vector<NegotiatedStream> streams;
  streams.reserve(offer.media.size());
  bool any_accepted = false;
  for (std::size_t i = 0; i < offer.media.size(); ++i) {
    const MediaDescription& media = offer.media[i];
    NegotiatedStream stream;
    stream.index = i;
    stream.media = media.media;
    stream.label = media.label().value_or("");
    stream.offered_direction = offer.effectiveDirection(media);
    // RFC 3264 §6.1: a recvonly offer is answered sendonly, which a recorder never is.
    stream.answer_direction = (stream.offered_direction == Direction::SendOnly ||
                               stream.offered_direction == Direction::SendRecv)
                                  ? Direction::RecvOnly
                                  : Direction::Inactive;
    if (auto reason = negotiateStream(offer, media, policy, random_bytes, stream)) {
      stream.reject_reason = std::move(*reason);
      stream.remote_crypto.reset();
      stream.local_crypto.reset();
    } else {
      stream.accepted = true;
      any_accepted = true;
    }
    streams.push_back(std::move(stream));
  }
  if (!any_accepted) {
    return fail(noStreamReason(streams, offer), 488);
  }
  return streams;
}

SessionDescription buildAnswer(const SessionDescription& offer,
                               const std::vector<NegotiatedStream>& streams,
                               const LocalMedia& local, uint64_t session_id,
                               uint64_t session_version) {
  SessionDescription answer;
  std::string addr_type = addressType(local.address);
  answer.origin = Origin{
      "-",          std::to_string(session_id), std::to_string(session_version), "IN", addr_type,
      local.address};
  answer.session_name = "siprecd";
  answer.connection = Connection{"IN", addr_type, local.address};
  answer.timings.push_back(Timing{});
  for (std::size_t i = 0; i < offer.media.size(); ++i) {
    const MediaDescription& offered = offer.media[i];
    const NegotiatedStream* stream =
        (i < streams.size() && streams[i].index == i) ? &streams[i] : nullptr;
    uint16_t port = i < local.ports.size() ? local.ports[i] : 0;
    if (stream == nullptr || !stream->accepted || port == 0) {
      answer.media.push_back(rejectedMedia(offered));
    } else {
      answer.media.push_back(acceptedMedia(offered, *stream, port));
    }
  }
  return answer;
}

}  // namespace siprecd::sdp
