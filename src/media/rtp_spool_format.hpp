#pragma once

// The spool file format: what the media thread appends per received packet and what the
// renderer and crash recovery read back. Integers are big-endian.
//
// File header (written once, at creation):
//   offset  size  field
//        0     8  magic "SIPRECSP"
//        8     2  format version (kSpoolFormatVersion)
//       10     4  header size in bytes, this prefix and the CRC included
//       14     4  stream index (order of the m-line in the SDP)
//       18     4  clock rate (Hz)
//       22     1  payload type of the codec
//       23     1  telephone-event payload type (RFC 4733), 0xFF when none
//       24     -  recording id, codec name, label: each a 2-byte length then UTF-8 bytes
//    end-4     4  CRC-32 of every header byte before it
//
// Records (one per received packet, appended):
//   offset  size  field
//        0     1  kind (1 = RTP packet)
//        1     1  flags: bit 0 = RTP marker
//        2     1  RTP payload type
//        3     1  reserved, 0
//        4     2  payload size n
//        6     8  arrival time, microseconds since the Unix epoch (signed)
//       14     2  RTP sequence number
//       16     4  RTP timestamp
//       20     4  SSRC
//       24     n  payload (after CSRCs, extension and padding were removed)
//     24+n     4  CRC-32 of the record's bytes before it
//
// Kind 2 (RTCP sender report, RFC 3550 §6.4.1) uses the same layout: sequence number 0,
// RTP timestamp and SSRC from the report, payload type 0, and an 8-byte payload holding
// the report's 64-bit NTP timestamp (big-endian). Readers skip kinds they do not know.
//
// A crash can leave a torn record at the tail; its CRC (or its missing bytes) marks it and
// readers stop there, keeping every record before it.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "media/rtp_types.hpp"

namespace siprecd::media {

inline constexpr std::array<char, 8> kSpoolMagic = {'S', 'I', 'P', 'R', 'E', 'C', 'S', 'P'};
inline constexpr uint16_t kSpoolFormatVersion = 1;
inline constexpr std::size_t kSpoolRecordPrefixBytes = 24;
inline constexpr std::size_t kSpoolRecordCrcBytes = 4;
inline constexpr std::size_t kSpoolMaxPayloadBytes = 65535;
inline constexpr std::size_t kSpoolMaxStringBytes = 65535;

/// Size of an encoded record carrying `payload_bytes` (<= kSpoolMaxPayloadBytes).
constexpr std::size_t spoolRecordBytes(std::size_t payload_bytes) {
  return kSpoolRecordPrefixBytes + payload_bytes + kSpoolRecordCrcBytes;
}

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), continuing from `crc` (0 to
/// start): crc32(b, crc32(a)) == crc32(a followed by b).
uint32_t crc32(std::span<const std::byte> bytes, uint32_t crc = 0);

/// What a spool says about its stream.
struct SpoolHeader {
  std::string recording_id;
  uint32_t stream_index = 0;
  std::string label;
  std::string codec_name;   ///< e.g. "PCMU", as negotiated in the SDP
  uint32_t clock_rate = 0;  ///< Hz
  uint8_t payload_type = 0;
  std::optional<uint8_t> telephone_event_pt;

  friend bool operator==(const SpoolHeader&, const SpoolHeader&) = default;
};

enum class SpoolRecordKind : uint8_t {
  Rtp = 1,
  SenderReport = 2,  ///< RTCP SR: payload = 8-byte NTP timestamp; timestamp = its RTP time
};

/// Whether this build knows the kind (a newer writer may add kinds; readers skip the rest).
constexpr bool isKnownSpoolRecordKind(SpoolRecordKind kind) {
  return kind == SpoolRecordKind::Rtp || kind == SpoolRecordKind::SenderReport;
}

/// Payload bytes of a SenderReport record: the report's 64-bit NTP timestamp.
inline constexpr std::size_t kSpoolSenderReportPayloadBytes = 8;

/// One record. `payload` is a view: into the caller's packet when writing, into the
/// decoded buffer when reading.
struct SpoolRecord {
  SpoolRecordKind kind = SpoolRecordKind::Rtp;
  int64_t arrival_epoch_us = 0;
  SeqNum seq;
  RtpTimestamp timestamp;
  Ssrc ssrc;
  uint8_t payload_type = 0;
  bool marker = false;
  std::span<const std::byte> payload;
};

/// Encodes a header. Fails when a string exceeds kSpoolMaxStringBytes or a payload type
/// exceeds 127.
[[nodiscard]] Result<std::vector<std::byte>> encodeSpoolHeader(const SpoolHeader& header);

/// Encodes the record's fixed prefix into `prefix` (the payload and CRC are not written):
/// lets a writer send a large payload straight from the caller's buffer.
/// Requires record.payload.size() <= kSpoolMaxPayloadBytes.
void encodeSpoolRecordPrefix(const SpoolRecord& record,
                             std::span<std::byte, kSpoolRecordPrefixBytes> prefix);

/// Encodes a whole record into `out`, which must hold spoolRecordBytes(payload size)
/// bytes; returns the bytes written. Requires record.payload.size() <= kSpoolMaxPayloadBytes.
std::size_t encodeSpoolRecord(const SpoolRecord& record, std::span<std::byte> out);

enum class SpoolDecodeStatus {
  Ok,
  Incomplete,  ///< the bytes end before the item does (a torn tail, or read more)
  Corrupt,     ///< bad magic, version, size or CRC
};

/// The outcome of decoding one item from the front of a byte span. When `status` is Ok,
/// `value` is set and `bytes` is its encoded size; when Incomplete, `bytes` is the size
/// needed if known (else 0); when Corrupt, `error` says why.
template <typename T>
struct SpoolDecoded {
  SpoolDecodeStatus status = SpoolDecodeStatus::Incomplete;
  std::optional<T> value;
  std::size_t bytes = 0;
  const char* error = "";
};

/// Decodes the file header at the front of `bytes`.
SpoolDecoded<SpoolHeader> decodeSpoolHeader(std::span<const std::byte> bytes);
/// Decodes the record at the front of `bytes`; the record's payload views `bytes`. Records
/// of unknown kinds decode too (their CRC checked), so that a reader can skip them.
SpoolDecoded<SpoolRecord> decodeSpoolRecord(std::span<const std::byte> bytes);

/// The NTP timestamp a SenderReport record carries; nullopt when the payload is not 8 bytes.
std::optional<uint64_t> spoolSenderReportNtp(const SpoolRecord& record);

/// Walks a whole spool held in memory: header, then records until the end or the first
/// torn/corrupt record, skipping records of kinds it does not know
/// (isKnownSpoolRecordKind). Never reads outside `bytes`; no record it returns fails its CRC.
class SpoolParser {
 public:
  explicit SpoolParser(std::span<const std::byte> bytes);

  /// The header, or nullopt when the bytes end before it (Incomplete) or it is Corrupt.
  const std::optional<SpoolHeader>& header() const { return header_; }
  SpoolDecodeStatus headerStatus() const { return header_status_; }
  /// The next valid record of a known kind (its payload views the parsed bytes), or
  /// nullopt at the end.
  std::optional<SpoolRecord> next();
  /// After next() returned nullopt: Ok for a clean end, else why the walk stopped.
  SpoolDecodeStatus endStatus() const { return end_status_; }
  /// Bytes of the header and the valid records walked so far (skipped ones included).
  std::size_t validBytes() const { return offset_; }

 private:
  std::span<const std::byte> bytes_;
  std::optional<SpoolHeader> header_;
  SpoolDecodeStatus header_status_ = SpoolDecodeStatus::Incomplete;
  SpoolDecodeStatus end_status_ = SpoolDecodeStatus::Ok;
  std::size_t offset_ = 0;
  bool done_ = false;
};

}  // namespace siprecd::media
