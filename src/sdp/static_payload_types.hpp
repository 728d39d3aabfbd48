#pragma once

#include <optional>

#include "sdp/session_description.hpp"

namespace siprecd::sdp {

/// The RFC 3551 §6 (Tables 4 and 5) static assignment of an RTP payload type, e.g.
/// 0 → PCMU/8000, 9 → G722/8000 (RTP clock 8000 although G.722 samples at 16 kHz),
/// 10 → L16/44100/2. nullopt for dynamic (96–127), reserved or unassigned numbers.
std::optional<RtpMap> staticPayloadType(unsigned payload_type);

}  // namespace siprecd::sdp
