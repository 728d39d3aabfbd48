// Fuzzes crash recovery of spool files (what the renderer and start-up recovery read after a
// crash, a full disk or a foreign write): a valid spool is built from the input (records of
// the RTP, SenderReport and unknown kinds, payload sizes and contents from the input), then
// cut at an input-chosen length and optionally one byte is flipped. Properties: the parser
// never crashes nor reads outside the bytes; it returns exactly the known-kind records that
// lie wholly before the damage, field for field and in order (a prefix of what was
// written), and nothing after it; an undamaged file at a record boundary ends cleanly.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "media/rtp_spool_format.hpp"

namespace {

using namespace siprecd::media;

void check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

/// Reads the fuzz input front to back; zeros once exhausted.
class Input {
 public:
  Input(const uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  uint8_t byte() { return at_ < size_ ? data_[at_++] : 0; }
  uint16_t u16() { return static_cast<uint16_t>((byte() << 8) | byte()); }
  uint32_t u32() { return (static_cast<uint32_t>(u16()) << 16) | u16(); }
  bool empty() const { return at_ >= size_; }

 private:
  const uint8_t* data_;
  std::size_t size_;
  std::size_t at_ = 0;
};

struct Written {
  SpoolRecordKind kind;
  int64_t arrival_epoch_us;
  uint16_t seq;
  uint32_t timestamp;
  uint32_t ssrc;
  uint8_t payload_type;
  bool marker;
  std::vector<std::byte> payload;
  std::size_t end;  ///< offset just past the record
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input input(data, size);
  SpoolHeader header;
  header.recording_id = "rec";
  header.stream_index = input.byte();
  header.codec_name = "PCMU";
  header.clock_rate = 8000;
  header.payload_type = input.byte() & 0x7F;
  auto encoded_header = encodeSpoolHeader(header);
  check(encoded_header.has_value());
  std::vector<std::byte> file = *encoded_header;
  const std::size_t header_end = file.size();

  std::vector<Written> written;
  const std::size_t count = input.byte() % 24;
  for (std::size_t i = 0; i < count && !input.empty(); ++i) {
    Written record;
    const uint8_t kind = input.byte();
    record.kind = kind < 160   ? SpoolRecordKind::Rtp
                  : kind < 220 ? SpoolRecordKind::SenderReport
                               : static_cast<SpoolRecordKind>(kind);
    record.arrival_epoch_us = static_cast<int64_t>(input.u32()) * 1000;
    record.seq = input.u16();
    record.timestamp = input.u32();
    record.ssrc = input.u32();
    record.payload_type = input.byte() & 0x7F;
    record.marker = (record.payload_type & 1) != 0;
    const std::size_t payload_bytes = record.kind == SpoolRecordKind::SenderReport
                                          ? kSpoolSenderReportPayloadBytes
                                          : input.byte() % 200;
    for (std::size_t b = 0; b < payload_bytes; ++b) {
      record.payload.push_back(static_cast<std::byte>(input.byte()));
    }
    SpoolRecord spool_record;
    spool_record.kind = record.kind;
    spool_record.arrival_epoch_us = record.arrival_epoch_us;
    spool_record.seq = SeqNum(record.seq);
    spool_record.timestamp = RtpTimestamp(record.timestamp);
    spool_record.ssrc = Ssrc(record.ssrc);
    spool_record.payload_type = record.payload_type;
    spool_record.marker = record.marker;
    spool_record.payload = record.payload;
    const std::size_t at = file.size();
    file.resize(at + spoolRecordBytes(record.payload.size()));
    check(encodeSpoolRecord(spool_record, std::span(file).subspan(at)) ==
          spoolRecordBytes(record.payload.size()));
    record.end = file.size();
    written.push_back(std::move(record));
  }

  // The damage: a cut (a torn tail) and maybe one flipped byte (a foreign write).
  const std::size_t cut = file.size() - (input.u16() % (file.size() + 1));
  file.resize(cut);
  std::size_t damage = cut;
  const uint8_t flip = input.byte();
  if (flip != 0 && cut != 0) {
    const std::size_t at = input.u16() % cut;
    file[at] ^= static_cast<std::byte>(flip);
    damage = at;
  }

  SpoolParser parser(file);
  if (damage < header_end) {
    check(!parser.header());
    check(!parser.next());
    return 0;
  }
  check(parser.header().has_value() && *parser.header() == header);
  std::size_t expected_index = 0;
  std::size_t intact = 0;
  while (intact < written.size() && written[intact].end <= damage) {
    ++intact;
  }
  while (const auto record = parser.next()) {
    while (expected_index < intact && !isKnownSpoolRecordKind(written[expected_index].kind)) {
      ++expected_index;
    }
    check(expected_index < intact);
    const Written& want = written[expected_index++];
    check(record->kind == want.kind && record->arrival_epoch_us == want.arrival_epoch_us);
    check(record->seq == SeqNum(want.seq) && record->timestamp == RtpTimestamp(want.timestamp));
    check(record->ssrc == Ssrc(want.ssrc) && record->payload_type == want.payload_type);
    check(record->marker == want.marker && record->payload.size() == want.payload.size());
    for (std::size_t i = 0; i < want.payload.size(); ++i) {
      check(record->payload[i] == want.payload[i]);
    }
    check(record->payload.data() >= file.data() &&
          record->payload.data() + record->payload.size() <= file.data() + file.size());
  }
  while (expected_index < intact && !isKnownSpoolRecordKind(written[expected_index].kind)) {
    ++expected_index;
  }
  check(expected_index == intact);  // every intact record came back
  const std::size_t intact_end = intact == 0 ? header_end : written[intact - 1].end;
  check(parser.validBytes() == intact_end);
  if (damage == file.size() && intact_end == file.size()) {
    check(parser.endStatus() == SpoolDecodeStatus::Ok);
  } else {
    check(parser.endStatus() != SpoolDecodeStatus::Ok);
  }
  return 0;
}
