#pragma once

#include <string>

#include "sdp/session_description.hpp"

namespace siprecd::sdp {

/// Writes a session description with CRLF line ends in RFC 4566 §5 order (v o s i u e p
/// c b t r z k a, then per m-line m i c b k a); attributes and kept lines keep their
/// order. An empty `timings` is written as "t=0 0". parseSdp(serializeSdp(x)) == x for
/// every x that parseSdp() produced. Pure function; any thread.
std::string serializeSdp(const SessionDescription& sdp);

}  // namespace siprecd::sdp
