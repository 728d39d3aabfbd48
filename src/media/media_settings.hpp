#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/result.hpp"

namespace siprecd::media {

/// An inclusive UDP port range for RTP/RTCP. Streams get an even RTP port p with the RTCP
/// port p + 1 (RFC 3550 §11) also inside the range.
struct PortRange {
  uint16_t first;
  uint16_t last;

  friend bool operator==(const PortRange&, const PortRange&) = default;
};

/// Parses "first-last" (e.g. "20000-39999", blanks around the numbers allowed). Fails,
/// naming the field, unless 1 <= first <= last <= 65535 and the range holds at least one
/// even/odd port pair.
[[nodiscard]] Result<PortRange> parsePortRange(std::string_view text);

/// Settings of the receive engine (from the configuration's `media` section).
struct MediaSettings {
  PortRange ports{20000, 39999};
  /// How often buffered spool data is written to the file (bounds the loss on a crash).
  std::chrono::milliseconds flush_interval{1000};
  /// How long a released port stays unused, so late packets of the old stream do not land
  /// in a new one.
  std::chrono::seconds port_cooldown{10};
  /// SO_RCVBUF asked for each socket (the kernel may cap it at net.core.rmem_max).
  std::size_t socket_buffer_bytes = 1 << 20;
  /// User-space spool buffer per stream; a full buffer is written at once.
  std::size_t spool_buffer_bytes = 32 * 1024;
};

}  // namespace siprecd::media
