#pragma once

// RTP quantities as strong types, and the only place where their wrap-around arithmetic
// lives (RFC 3550 §5.1 fields; comparison modulo 2^n as in RFC 3550 Appendix A.1 and
// RFC 1982 serial-number arithmetic).

#include <cstdint>
#include <optional>

namespace siprecd::media {

/// RTP sequence number (RFC 3550 §5.1): 16 bits, incremented by one per packet, wrapping.
class SeqNum {
 public:
  constexpr SeqNum() = default;
  constexpr explicit SeqNum(uint16_t value) : value_(value) {}

  constexpr uint16_t value() const { return value_; }

  /// Signed distance from `earlier` to this, modulo 2^16, in [-32768, 32767]:
  /// SeqNum(2).distanceFrom(SeqNum(65535)) == 3.
  constexpr int32_t distanceFrom(SeqNum earlier) const {
    return static_cast<int16_t>(static_cast<uint16_t>(value_ - earlier.value_));
  }
  /// True when this follows `other` in modulo-2^16 order (half the space ahead).
  constexpr bool isNewerThan(SeqNum other) const { return distanceFrom(other) > 0; }
  /// This plus `delta`, wrapping.
  constexpr SeqNum advancedBy(int32_t delta) const {
    return SeqNum(static_cast<uint16_t>(value_ + static_cast<uint32_t>(delta)));
  }

  friend constexpr bool operator==(SeqNum, SeqNum) = default;

 private:
  uint16_t value_ = 0;
};

/// RTP timestamp (RFC 3550 §5.1): 32 bits in units of the payload's clock rate, wrapping.
class RtpTimestamp {
 public:
  constexpr RtpTimestamp() = default;
  constexpr explicit RtpTimestamp(uint32_t value) : value_(value) {}

  constexpr uint32_t value() const { return value_; }

  /// Signed distance in clock ticks from `earlier` to this, modulo 2^32, in
  /// [-2^31, 2^31 - 1]: RtpTimestamp(16).distanceFrom(RtpTimestamp(0xFFFFFFF0)) == 32.
  constexpr int64_t distanceFrom(RtpTimestamp earlier) const {
    return static_cast<int32_t>(value_ - earlier.value_);
  }
  constexpr bool isNewerThan(RtpTimestamp other) const { return distanceFrom(other) > 0; }
  /// This plus `delta` ticks, wrapping.
  constexpr RtpTimestamp advancedBy(int64_t delta) const {
    return RtpTimestamp(
        static_cast<uint32_t>(static_cast<uint64_t>(value_) + static_cast<uint64_t>(delta)));
  }

  friend constexpr bool operator==(RtpTimestamp, RtpTimestamp) = default;

 private:
  uint32_t value_ = 0;
};

/// Synchronisation source identifier (RFC 3550 §5.1, §8): an opaque 32-bit id.
class Ssrc {
 public:
  constexpr Ssrc() = default;
  constexpr explicit Ssrc(uint32_t value) : value_(value) {}

  constexpr uint32_t value() const { return value_; }

  friend constexpr bool operator==(Ssrc, Ssrc) = default;

 private:
  uint32_t value_ = 0;
};

/// Extends a wrapping 16-bit sequence number or 32-bit timestamp to a signed 64-bit count
/// (RFC 3550 Appendix A.1 "extended" numbers). The first value maps to itself; each next
/// value moves by its modular distance from the previous one, so reordering around a wrap
/// gives a smaller extended value instead of a jump of 2^n. Not thread-safe; one per stream.
template <typename Wrapped>
class Unwrapper {
 public:
  /// The extended value of `value`.
  constexpr int64_t unwrap(Wrapped value) {
    if (!last_) {
      extended_ = static_cast<int64_t>(value.value());
    } else {
      extended_ += value.distanceFrom(*last_);
    }
    last_ = value;
    return extended_;
  }
  /// Forgets history: the next value maps to itself again.
  constexpr void reset() { last_.reset(); }

 private:
  std::optional<Wrapped> last_;
  int64_t extended_ = 0;
};

using SeqNumUnwrapper = Unwrapper<SeqNum>;
using RtpTimestampUnwrapper = Unwrapper<RtpTimestamp>;

}  // namespace siprecd::media
