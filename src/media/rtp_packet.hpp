#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "base/result.hpp"
#include "media/rtp_types.hpp"

namespace siprecd::media {

/// The RTP fixed header (RFC 3550 §5.1), followed by optional CSRCs, an optional header
/// extension (§5.3.1) and the payload, possibly padded (P bit, last octet = pad count):
///
///     0                   1                   2                   3
///     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |V=2|P|X|  CC   |M|     PT      |       sequence number         |
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |                           timestamp                           |
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |           synchronization source (SSRC) identifier            |
///    +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
///    |            contributing source (CSRC) identifiers             |
///    |                             ....                              |
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |      defined by profile       |           length              |  (X = 1)
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |                        header extension                       |
///    |                             ....                              |
///
/// A view: it borrows the datagram's bytes, which must outlive it. Copyable, no allocation.
class RtpPacket {
 public:
  static constexpr std::size_t kFixedHeaderBytes = 12;
  static constexpr uint8_t kVersion = 2;

  /// The header extension (RFC 3550 §5.3.1): a profile-defined 16-bit id and its data
  /// (`length` 32-bit words, the 4-byte extension header excluded).
  struct Extension {
    uint16_t profile;
    std::span<const std::byte> data;
  };

  /// Parses `datagram` as one RTP packet. Fails, naming the field, when it is shorter than
  /// the fixed header, the version is not 2, or the CSRC list, the extension or the padding
  /// count does not fit in the datagram. Never reads outside `datagram`.
  [[nodiscard]] static Result<RtpPacket> parse(std::span<const std::byte> datagram);
  /// parse() for the receive path: no allocation; on failure, sets `*why` (when given) to
  /// a static description.
  [[nodiscard]] static std::optional<RtpPacket> tryParse(std::span<const std::byte> datagram,
                                                         const char** why = nullptr);

  bool padding() const { return (loadByte(0) & 0x20) != 0; }
  bool hasExtension() const { return (loadByte(0) & 0x10) != 0; }
  uint8_t csrcCount() const { return loadByte(0) & 0x0F; }
  bool marker() const { return (loadByte(1) & 0x80) != 0; }
  /// 7-bit payload type (RFC 3551 §6 static types, or dynamic 96-127).
  uint8_t payloadType() const { return loadByte(1) & 0x7F; }
  SeqNum sequenceNumber() const;
  RtpTimestamp timestamp() const;
  Ssrc ssrc() const;
  /// The i-th contributing source, i < csrcCount().
  Ssrc csrc(std::size_t index) const;
  std::optional<Extension> extension() const;

  /// Bytes before the payload: fixed header, CSRCs and extension.
  std::size_t headerBytes() const { return header_bytes_; }
  /// Padding octets at the end (0 without the P bit), the count octet included.
  std::size_t paddingBytes() const { return padding_bytes_; }
  /// The payload: between the header and the padding.
  std::span<const std::byte> payload() const {
    return bytes_.subspan(header_bytes_, bytes_.size() - header_bytes_ - padding_bytes_);
  }
  /// The whole datagram.
  std::span<const std::byte> bytes() const { return bytes_; }

 private:
  RtpPacket(std::span<const std::byte> bytes, std::size_t header_bytes, std::size_t padding_bytes)
      : bytes_(bytes), header_bytes_(header_bytes), padding_bytes_(padding_bytes) {}

  uint8_t loadByte(std::size_t at) const { return static_cast<uint8_t>(bytes_[at]); }

  std::span<const std::byte> bytes_;
  std::size_t header_bytes_;
  std::size_t padding_bytes_;
};

/// Cheap classifier for a datagram on a port shared by RTP and RTCP (RFC 5761 §4): version
/// 2 and a second octet in 192..223, i.e. an RTCP packet type (SR 200 .. APP 204, and the
/// feedback/XR types next to them) that cannot be an RTP marker+payload-type 64..95.
bool looksLikeRtcp(std::span<const std::byte> datagram);

}  // namespace siprecd::media
