#pragma once

#include <cstdint>
#include <string>

namespace siprecd {

/// Random identifiers. Thread-safe (a thread-local generator seeded from the OS).
/// `randomToken(n)` gives n lowercase hex-or-alnum characters, fit for SIP tags and branches.
std::string randomToken(std::size_t length);
/// An RFC 4122 version-4 UUID in its canonical lowercase form.
std::string randomUuid();
uint64_t randomU64();

}  // namespace siprecd
