// Fuzzes the spool decoder (what the renderer and crash recovery read back after a crash:
// torn tails, garbage, foreign files). Properties: it never reads outside the bytes, every
// record it returns passes its CRC and lies inside the bytes, the valid records tile a
// prefix of the file, and decoded items re-encode to the same decoded values.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "media/byte_order.hpp"
#include "media/rtp_spool_format.hpp"

namespace {

using namespace siprecd::media;

void check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

void checkHeaderRoundTrip(const SpoolHeader& header) {
  const auto encoded = encodeSpoolHeader(header);
  check(encoded.has_value());
  const auto decoded = decodeSpoolHeader(*encoded);
  check(decoded.status == SpoolDecodeStatus::Ok);
  check(decoded.bytes == encoded->size());
  check(*decoded.value == header);
}

void checkRecordRoundTrip(const SpoolRecord& record) {
  std::vector<std::byte> encoded(spoolRecordBytes(record.payload.size()));
  check(encodeSpoolRecord(record, encoded) == encoded.size());
  const auto decoded = decodeSpoolRecord(encoded);
  check(decoded.status == SpoolDecodeStatus::Ok);
  const SpoolRecord& again = *decoded.value;
  check(again.kind == record.kind && again.arrival_epoch_us == record.arrival_epoch_us);
  check(again.seq == record.seq && again.timestamp == record.timestamp);
  check(again.ssrc == record.ssrc && again.payload_type == record.payload_type);
  check(again.marker == record.marker);
  check(again.payload.size() == record.payload.size());
  for (std::size_t i = 0; i < record.payload.size(); ++i) {
    check(again.payload[i] == record.payload[i]);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto bytes = std::as_bytes(std::span(data, size));
  SpoolParser parser(bytes);
  if (!parser.header()) {
    check(parser.headerStatus() != SpoolDecodeStatus::Ok);
    check(!parser.next());
    return 0;
  }
  checkHeaderRoundTrip(*parser.header());
  std::size_t before = parser.validBytes();
  check(before <= bytes.size());
  while (const auto record = parser.next()) {
    const std::size_t after = parser.validBytes();
    check(after > before && after <= bytes.size());
    // Records of kinds the parser does not know are skipped, so the returned record is the
    // last one of the bytes consumed.
    const std::size_t record_bytes = spoolRecordBytes(record->payload.size());
    check(after - before >= record_bytes);
    const auto encoded = bytes.subspan(after - record_bytes, record_bytes);
    const std::size_t crc_at = encoded.size() - kSpoolRecordCrcBytes;
    check(crc32(encoded.first(crc_at)) == loadBe32(encoded, crc_at));
    check(record->payload.data() == encoded.data() + kSpoolRecordPrefixBytes);
    checkRecordRoundTrip(*record);
    before = after;
  }
  check(parser.endStatus() != SpoolDecodeStatus::Ok || parser.validBytes() == bytes.size());
  check(parser.endStatus() == SpoolDecodeStatus::Ok || parser.validBytes() < bytes.size());
  return 0;
}
