#pragma once

#include <string>

#include "sip/message.hpp"

namespace siprecd::sip {

/// Wire form of a message: start line, header fields in order (Content-Length replaced
/// by the body's real length), CRLF, body. parse(serialize(m)) reproduces m.
std::string serialize(const Message& message);

}  // namespace siprecd::sip
