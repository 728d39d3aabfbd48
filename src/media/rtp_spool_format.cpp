#include "media/rtp_spool_format.hpp"

#include <algorithm>
#include <cstring>

#include "media/byte_order.hpp"

namespace siprecd::media {

namespace {

constexpr std::size_t kHeaderFixedBytes = 24;
constexpr std::size_t kHeaderSizeFieldEnd = 14;
constexpr std::size_t kHeaderMinBytes = kHeaderFixedBytes + 3 * 2 + 4;
constexpr std::size_t kHeaderMaxBytes = kHeaderMinBytes + 3 * kSpoolMaxStringBytes;
constexpr uint8_t kNoTelephoneEvent = 0xFF;
constexpr uint8_t kMarkerFlag = 0x01;

/// Slicing-by-8 tables of the reflected CRC-32 (polynomial 0xEDB88320): tables[0] is the
/// classic bytewise table; tables[k][i] is the CRC of byte i followed by k zero bytes, so
/// that eight bytes are folded in per step with eight independent lookups.
using CrcTables = std::array<std::array<uint32_t, 256>, 8>;

constexpr CrcTables makeCrcTables() {
  CrcTables tables{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t value = i;
    for (int bit = 0; bit < 8; ++bit) {
      value = (value & 1U) != 0 ? (value >> 1) ^ 0xEDB88320U : value >> 1;
    }
    tables[0][i] = value;
  }
  for (uint32_t i = 0; i < 256; ++i) {
    for (std::size_t k = 1; k < tables.size(); ++k) {
      const uint32_t previous = tables[k - 1][i];
      tables[k][i] = tables[0][previous & 0xFFU] ^ (previous >> 8);
    }
  }
  return tables;
}

constexpr CrcTables kCrcTables = makeCrcTables();

/// The four bytes at `bytes` as a little-endian word (one load on x86 and ARM).
uint32_t loadLe32(const std::byte* bytes) {
  return static_cast<uint32_t>(bytes[0]) | (static_cast<uint32_t>(bytes[1]) << 8) |
         (static_cast<uint32_t>(bytes[2]) << 16) | (static_cast<uint32_t>(bytes[3]) << 24);
}

/// Reads length-prefixed strings from a bounded header body.
class StringCursor {
 public:
  StringCursor(std::span<const std::byte> bytes, std::size_t at) : bytes_(bytes), at_(at) {}

  std::optional<std::string> take() {
    if (bytes_.size() - at_ < 2) {
      return std::nullopt;
    }
    const std::size_t length = loadBe16(bytes_, at_);
    at_ += 2;
    if (bytes_.size() - at_ < length) {
      return std::nullopt;
    }
    std::string text(length, '\0');
    std::memcpy(text.data(), bytes_.data() + at_, length);
    at_ += length;
    return text;
  }
  std::size_t position() const { return at_; }

 private:
  std::span<const std::byte> bytes_;
  std::size_t at_;
};

template <typename T>
SpoolDecoded<T> corrupt(const char* why) {
  SpoolDecoded<T> decoded;
  decoded.status = SpoolDecodeStatus::Corrupt;
  decoded.error = why;
  return decoded;
}

template <typename T>
SpoolDecoded<T> incomplete(std::size_t needed) {
  SpoolDecoded<T> decoded;
  decoded.status = SpoolDecodeStatus::Incomplete;
  decoded.bytes = needed;
  return decoded;
}

void putString(std::vector<std::byte>& out, const std::string& text) {
  const std::size_t at = out.size();
  out.resize(at + 2 + text.size());
  storeBe16(out, at, static_cast<uint16_t>(text.size()));
  std::memcpy(out.data() + at + 2, text.data(), text.size());
}

}  // namespace

// Slicing-by-8 (Kounavis and Berry, "A Systematic Approach to Building High Performance,
// Software-based, CRC Generators", 2005): the same CRC as the bytewise loop, about four
// times faster, which matters because every spooled packet is checksummed.
uint32_t crc32(std::span<const std::byte> bytes, uint32_t crc) {
  crc = ~crc;
  const std::byte* at = bytes.data();
  std::size_t left = bytes.size();
  for (; left >= 8; left -= 8, at += 8) {
    const uint32_t low = crc ^ loadLe32(at);
    const uint32_t high = loadLe32(at + 4);
    crc = kCrcTables[7][low & 0xFFU] ^ kCrcTables[6][(low >> 8) & 0xFFU] ^
          kCrcTables[5][(low >> 16) & 0xFFU] ^ kCrcTables[4][low >> 24] ^
          kCrcTables[3][high & 0xFFU] ^ kCrcTables[2][(high >> 8) & 0xFFU] ^
          kCrcTables[1][(high >> 16) & 0xFFU] ^ kCrcTables[0][high >> 24];
  }
  for (; left > 0; --left, ++at) {
    crc = kCrcTables[0][(crc ^ static_cast<uint8_t>(*at)) & 0xFFU] ^ (crc >> 8);
  }
  return ~crc;
}

Result<std::vector<std::byte>> encodeSpoolHeader(const SpoolHeader& header) {
  for (const std::string* text : {&header.recording_id, &header.codec_name, &header.label}) {
    if (text->size() > kSpoolMaxStringBytes) {
      return fail("spool header string longer than 65535 bytes");
    }
  }
  if (header.payload_type > 127) {
    return fail("spool header payload_type above 127");
  }
  if (header.telephone_event_pt && *header.telephone_event_pt > 127) {
    return fail("spool header telephone_event_pt above 127");
  }
  std::vector<std::byte> out(kHeaderFixedBytes);
  std::memcpy(out.data(), kSpoolMagic.data(), kSpoolMagic.size());
  storeBe16(out, 8, kSpoolFormatVersion);
  storeBe32(out, 14, header.stream_index);
  storeBe32(out, 18, header.clock_rate);
  storeU8(out, 22, header.payload_type);
  storeU8(out, 23, header.telephone_event_pt.value_or(kNoTelephoneEvent));
  putString(out, header.recording_id);
  putString(out, header.codec_name);
  putString(out, header.label);
  const std::size_t crc_at = out.size();
  out.resize(crc_at + 4);
  storeBe32(out, 10, static_cast<uint32_t>(out.size()));
  storeBe32(out, crc_at, crc32(std::span(out).first(crc_at)));
  return out;
}

SpoolDecoded<SpoolHeader> decodeSpoolHeader(std::span<const std::byte> bytes) {
  if (bytes.empty()) {
    return incomplete<SpoolHeader>(0);
  }
  const std::size_t magic_bytes = std::min(bytes.size(), kSpoolMagic.size());
  if (std::memcmp(bytes.data(), kSpoolMagic.data(), magic_bytes) != 0) {
    return corrupt<SpoolHeader>("spool magic mismatch");
  }
  if (bytes.size() < kHeaderSizeFieldEnd) {
    return incomplete<SpoolHeader>(0);
  }
  if (loadBe16(bytes, 8) != kSpoolFormatVersion) {
    return corrupt<SpoolHeader>("unsupported spool format version");
  }
  const std::size_t size = loadBe32(bytes, 10);
  if (size < kHeaderMinBytes || size > kHeaderMaxBytes) {
    return corrupt<SpoolHeader>("spool header size out of range");
  }
  if (bytes.size() < size) {
    return incomplete<SpoolHeader>(size);
  }
  const std::size_t crc_at = size - 4;
  if (crc32(bytes.first(crc_at)) != loadBe32(bytes, crc_at)) {
    return corrupt<SpoolHeader>("spool header CRC mismatch");
  }
  SpoolHeader header;
  header.stream_index = loadBe32(bytes, 14);
  header.clock_rate = loadBe32(bytes, 18);
  header.payload_type = loadU8(bytes, 22);
  const uint8_t event_pt = loadU8(bytes, 23);
  if (header.payload_type > 127 || (event_pt > 127 && event_pt != kNoTelephoneEvent)) {
    return corrupt<SpoolHeader>("spool header payload type above 127");
  }
  if (event_pt != kNoTelephoneEvent) {
    header.telephone_event_pt = event_pt;
  }
  StringCursor cursor(bytes.first(crc_at), kHeaderFixedBytes);
  auto recording_id = cursor.take();
  auto codec_name = cursor.take();
  auto label = cursor.take();
  if (!recording_id || !codec_name || !label || cursor.position() != crc_at) {
    return corrupt<SpoolHeader>("spool header strings do not fill the header");
  }
  header.recording_id = std::move(*recording_id);
  header.codec_name = std::move(*codec_name);
  header.label = std::move(*label);
  SpoolDecoded<SpoolHeader> decoded;
  decoded.status = SpoolDecodeStatus::Ok;
  decoded.value = std::move(header);
  decoded.bytes = size;
  return decoded;
}

void encodeSpoolRecordPrefix(const SpoolRecord& record,
                             std::span<std::byte, kSpoolRecordPrefixBytes> prefix) {
  storeU8(prefix, 0, static_cast<uint8_t>(record.kind));
  storeU8(prefix, 1, record.marker ? kMarkerFlag : 0);
  storeU8(prefix, 2, record.payload_type & 0x7F);
  storeU8(prefix, 3, 0);
  storeBe16(prefix, 4, static_cast<uint16_t>(record.payload.size()));
  storeBe64(prefix, 6, static_cast<uint64_t>(record.arrival_epoch_us));
  storeBe16(prefix, 14, record.seq.value());
  storeBe32(prefix, 16, record.timestamp.value());
  storeBe32(prefix, 20, record.ssrc.value());
}

std::size_t encodeSpoolRecord(const SpoolRecord& record, std::span<std::byte> out) {
  const std::size_t payload_bytes = record.payload.size();
  encodeSpoolRecordPrefix(record, out.first<kSpoolRecordPrefixBytes>());
  if (payload_bytes != 0) {
    std::memcpy(out.data() + kSpoolRecordPrefixBytes, record.payload.data(), payload_bytes);
  }
  const std::size_t crc_at = kSpoolRecordPrefixBytes + payload_bytes;
  storeBe32(out, crc_at, crc32(out.first(crc_at)));
  return crc_at + kSpoolRecordCrcBytes;
}

SpoolDecoded<SpoolRecord> decodeSpoolRecord(std::span<const std::byte> bytes) {
  if (bytes.size() < kSpoolRecordPrefixBytes) {
    return incomplete<SpoolRecord>(0);
  }
  const std::size_t payload_bytes = loadBe16(bytes, 4);
  const std::size_t size = spoolRecordBytes(payload_bytes);
  if (bytes.size() < size) {
    return incomplete<SpoolRecord>(size);
  }
  const std::size_t crc_at = kSpoolRecordPrefixBytes + payload_bytes;
  if (crc32(bytes.first(crc_at)) != loadBe32(bytes, crc_at)) {
    return corrupt<SpoolRecord>("spool record CRC mismatch");
  }
  SpoolRecord record;
  record.kind = static_cast<SpoolRecordKind>(loadU8(bytes, 0));
  record.marker = (loadU8(bytes, 1) & kMarkerFlag) != 0;
  record.payload_type = loadU8(bytes, 2) & 0x7F;
  record.arrival_epoch_us = static_cast<int64_t>(loadBe64(bytes, 6));
  record.seq = SeqNum(loadBe16(bytes, 14));
  record.timestamp = RtpTimestamp(loadBe32(bytes, 16));
  record.ssrc = Ssrc(loadBe32(bytes, 20));
  record.payload = bytes.subspan(kSpoolRecordPrefixBytes, payload_bytes);
  SpoolDecoded<SpoolRecord> decoded;
  decoded.status = SpoolDecodeStatus::Ok;
  decoded.value = record;
  decoded.bytes = size;
  return decoded;
}

SpoolParser::SpoolParser(std::span<const std::byte> bytes) : bytes_(bytes) {
  auto decoded = decodeSpoolHeader(bytes_);
  header_status_ = decoded.status;
  if (decoded.status == SpoolDecodeStatus::Ok) {
    header_ = std::move(decoded.value);
    offset_ = decoded.bytes;
  } else {
    end_status_ = decoded.status;
    done_ = true;
  }
}

std::optional<SpoolRecord> SpoolParser::next() {
  while (!done_ && offset_ != bytes_.size()) {
    auto decoded = decodeSpoolRecord(bytes_.subspan(offset_));
    if (decoded.status != SpoolDecodeStatus::Ok) {
      end_status_ = decoded.status;
      done_ = true;
      return std::nullopt;
    }
    offset_ += decoded.bytes;
    if (isKnownSpoolRecordKind(decoded.value->kind)) {
      return decoded.value;
    }
  }
  done_ = true;
  return std::nullopt;
}

std::optional<uint64_t> spoolSenderReportNtp(const SpoolRecord& record) {
  if (record.payload.size() != kSpoolSenderReportPayloadBytes) {
    return std::nullopt;
  }
  return loadBe64(record.payload, 0);
}

}  // namespace siprecd::media
