// Fuzz target for the SDP parser, serializer and answerer (src/sdp/).
// Properties: parse → serialize → parse succeeds and yields the same model; a parsed offer
// can always be negotiated and answered without crashing, and the answer parses back.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sdp/offer_answer.hpp"
#include "sdp/parser.hpp"
#include "sdp/serializer.hpp"

namespace {

using siprecd::sdp::SessionDescription;

void check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

// Serialization may grow the text (LF → CRLF, default s=/t= lines), so re-parse with room.
siprecd::sdp::SdpLimits relaxedLimits() {
  siprecd::sdp::SdpLimits limits;
  limits.max_bytes *= 4;
  return limits;
}

void answer(const SessionDescription& offer) {
  siprecd::sdp::AnswerPolicy policy;
  policy.codecs.push_back({"opus", 48000});
  policy.codecs.push_back({"G722", 8000});
  using siprecd::sdp::SrtpPolicy;
  constexpr std::array<SrtpPolicy, 3> kPolicies{SrtpPolicy::Optional, SrtpPolicy::Required,
                                                SrtpPolicy::Refused};
  policy.srtp = kPolicies[offer.media.size() % kPolicies.size()];
  auto streams = siprecd::sdp::negotiate(offer, policy);
  if (!streams) {
    check(streams.error().code == 488 && !streams.error().message.empty());
    return;
  }
  check(streams->size() == offer.media.size());
  siprecd::sdp::LocalMedia local{offer.media.size() % 3 == 0 ? "2001:db8::5" : "192.0.2.5", {}};
  for (std::size_t i = 0; i < streams->size(); ++i) {
    local.ports.push_back((*streams)[i].accepted ? static_cast<uint16_t>(10000 + 2 * i) : 0);
  }
  SessionDescription built = siprecd::sdp::buildAnswer(offer, *streams, local, 1, 2);
  check(built.media.size() == offer.media.size());
  auto reparsed = siprecd::sdp::parseSdp(siprecd::sdp::serializeSdp(built), relaxedLimits());
  check(reparsed.has_value());
  check(*reparsed == built);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto first = siprecd::sdp::parseSdp(text);
  if (!first) {
    check(first.error().code == 400 || first.error().code == 413);
    return 0;
  }
  std::string serialized = siprecd::sdp::serializeSdp(*first);
  auto second = siprecd::sdp::parseSdp(serialized, relaxedLimits());
  check(second.has_value());
  check(second->media.size() == first->media.size());
  for (std::size_t i = 0; i < first->media.size(); ++i) {
    check(second->media[i].port == first->media[i].port);
    check(second->media[i].formats == first->media[i].formats);
  }
  check(*second == *first);
  check(siprecd::sdp::serializeSdp(*second) == serialized);
  answer(*first);
  return 0;
}
