// Fuzzes SRTP/SRTCP unprotect (network input on SRTP media ports) through libsrtp2 with
// fixed keys, and the protect -> unprotect round trip. Properties: unprotecting arbitrary
// bytes never crashes, never reports a length outside the buffer, and never accepts a
// packet that was not protected with the key (a forgery would need the 80-bit tag); every
// packet protect() accepts comes back byte for byte, for each supported suite.
// Input: byte 0 picks the suite (low 2 bits) and the mode (bit 2: RTCP); the rest is the
// packet.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

#include "media/srtp_session.hpp"

namespace {

using siprecd::media::kSrtpMaxTrailerBytes;
using siprecd::media::SrtpSession;
using siprecd::media::SrtpStatus;
using siprecd::media::SrtpSuite;

constexpr std::array<SrtpSuite, 4> kSuites = {SrtpSuite::AesCm128HmacSha1_80,
                                              SrtpSuite::AesCm128HmacSha1_32,
                                              SrtpSuite::AeadAes128Gcm, SrtpSuite::AeadAes256Gcm};

void check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

std::vector<uint8_t> fixedKey(SrtpSuite suite) {
  std::vector<uint8_t> key(siprecd::media::srtpMasterKeySaltBytes(suite));
  for (std::size_t i = 0; i < key.size(); ++i) {
    key[i] = static_cast<uint8_t>(0x5A ^ (i * 29));
  }
  return key;
}

SrtpSession makeSession(SrtpSuite suite, SrtpSession::Direction direction) {
  auto session = SrtpSession::create(suite, fixedKey(suite), direction);
  check(session.has_value());
  return std::move(*session);
}

/// Long-lived inbound contexts, as on a media thread that receives garbage for hours.
SrtpSession& receiverFor(std::size_t suite_index) {
  static std::array<std::optional<SrtpSession>, 4> receivers;
  if (!receivers[suite_index]) {
    receivers[suite_index].emplace(
        makeSession(kSuites[suite_index], SrtpSession::Direction::Inbound));
  }
  return *receivers[suite_index];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) {
    return 0;
  }
  const std::size_t suite_index = data[0] & 0x03;
  const bool rtcp = (data[0] & 0x04) != 0;
  const auto packet = std::as_bytes(std::span(data + 1, size - 1));

  // Arbitrary bytes: nothing is authentic (a forged tag is 2^-32 at best).
  std::vector<std::byte> garbage(packet.begin(), packet.end());
  SrtpSession& receiver = receiverFor(suite_index);
  const auto outcome = rtcp ? receiver.unprotectRtcp(garbage) : receiver.unprotectRtp(garbage);
  check(outcome.status != SrtpStatus::Ok);
  check(outcome.bytes <= garbage.size());

  // Round trip with fresh contexts (no replay state between inputs).
  SrtpSession sender = makeSession(kSuites[suite_index], SrtpSession::Direction::Outbound);
  std::vector<std::byte> buffer(packet.size() + kSrtpMaxTrailerBytes);
  if (!packet.empty()) {
    std::memcpy(buffer.data(), packet.data(), packet.size());
  }
  const auto protected_packet =
      rtcp ? sender.protectRtcp(buffer, packet.size()) : sender.protectRtp(buffer, packet.size());
  if (protected_packet.status != SrtpStatus::Ok) {
    return 0;
  }
  check(protected_packet.bytes > packet.size() && protected_packet.bytes <= buffer.size());
  buffer.resize(protected_packet.bytes);
  const std::vector<std::byte> copy = buffer;
  SrtpSession fresh = makeSession(kSuites[suite_index], SrtpSession::Direction::Inbound);
  const auto plain = rtcp ? fresh.unprotectRtcp(buffer) : fresh.unprotectRtp(buffer);
  check(plain.status == SrtpStatus::Ok);
  check(plain.bytes == packet.size());
  check(packet.empty() || std::memcmp(buffer.data(), packet.data(), packet.size()) == 0);
  // The same packet again is a replay (RFC 3711 §3.3.2).
  std::vector<std::byte> replayed = copy;
  const auto replay = rtcp ? fresh.unprotectRtcp(replayed) : fresh.unprotectRtp(replayed);
  check(replay.status == SrtpStatus::Replay);
  return 0;
}
