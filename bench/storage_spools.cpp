// storage_spools: gives a real, finished recording the spools of a long call, for the storage
// bench (bench/storage_bench.py, make bench part 5). Each stream-N.spool of --session DIR (a
// session directory siprecd wrote for a real call) is rewritten in place: its header is kept
// (recording id, stream index, label, codec and payload type as the engine negotiated them)
// and its records become --minutes of 20 ms G.711 packets from --start-ms (epoch ms) on,
// written with media::SpoolWriter as the engine writes them. Run it only while siprecd holds
// no spool of that session open (after RECORDINGREADY). Prints one JSON object on stdout.
//
//   storage_spools --session DIR --start-ms EPOCH_MS [--minutes 60]

#include <cstdio>
#include <string>
#include <vector>

#include "bench_support.hpp"
#include "media/rtp_spool_format.hpp"
#include "media/spool_writer.hpp"
#include "recording/spool_reader.hpp"

namespace siprecd::bench {
namespace {

constexpr int64_t kPacketUs = 20'000;

/// The header of the spool at `path` (the engine wrote it for the real call).
media::SpoolHeader headerOf(const std::filesystem::path& path) {
  auto reader = recording::SpoolReader::open(path);
  if (!reader) {
    die("storage_spools: " + reader.error().message);
  }
  if (!reader->header()) {
    die("storage_spools: " + path.string() + " has no header (no packet was spooled)");
  }
  const media::SpoolHeader& header = *reader->header();
  if ((header.codec_name != "PCMU" && header.codec_name != "PCMA") || header.clock_rate != 8000) {
    die("storage_spools: " + path.string() + " holds " + header.codec_name + "/" +
        std::to_string(header.clock_rate) + ", expected G.711 (PCMU or PCMA at 8000 Hz)");
  }
  return header;
}

/// Replaces `path` with `packets` 20 ms packets of a tone-like pattern (not silence) from
/// `start_epoch_us` on; returns the new file's size in bytes.
uintmax_t rewrite(const std::filesystem::path& path, const media::SpoolHeader& header,
                  int64_t start_epoch_us, int64_t packets) {
  std::filesystem::path temporary = path;
  temporary += ".new";
  std::filesystem::remove(temporary);
  media::SpoolWriterSettings settings;
  settings.buffer_bytes = 1 << 20;
  auto writer = media::SpoolWriter::create(temporary, header, settings);
  if (!writer) {
    die("storage_spools: " + writer.error().message);
  }
  const auto index = static_cast<int>(header.stream_index);
  std::vector<std::byte> payload(160);
  for (std::size_t i = 0; i < payload.size(); ++i) {
    payload[i] = static_cast<std::byte>(0x80 + (i % 20 < 10 ? 30 : -30) + 4 * index);
  }
  for (int64_t i = 0; i < packets; ++i) {
    media::SpoolRecord record;
    record.kind = media::SpoolRecordKind::Rtp;
    record.arrival_epoch_us = start_epoch_us + i * kPacketUs + 150 * index;
    record.seq = media::SeqNum(static_cast<uint16_t>(i + 1000 * index));
    record.timestamp = media::RtpTimestamp(static_cast<uint32_t>(i * 160));
    record.ssrc = media::Ssrc(0x5B000000U + static_cast<uint32_t>(index));
    record.payload_type = header.payload_type;
    record.marker = i == 0;
    record.payload = payload;
    writer->append(record);
  }
  if (auto finished = writer->finish(); !finished) {
    die("storage_spools: " + finished.error().message);
  }
  std::filesystem::rename(temporary, path);
  return std::filesystem::file_size(path);
}

int run(const Flags& flags) {
  const std::filesystem::path session = flags.text("session");
  const long start_ms = flags.number("start-ms", 0);
  const double minutes = flags.real("minutes", 60);
  if (session.empty() || start_ms <= 0 || minutes <= 0) {
    die("usage: storage_spools --session DIR --start-ms EPOCH_MS [--minutes 60]");
  }
  std::vector<std::filesystem::path> spools;
  for (int index = 0;; ++index) {
    const auto path = session / ("stream-" + std::to_string(index) + ".spool");
    if (!std::filesystem::exists(path)) {
      break;
    }
    spools.push_back(path);
  }
  if (spools.empty()) {
    die("storage_spools: no stream-0.spool in " + session.string());
  }
  const auto packets = static_cast<int64_t>(minutes * 60 * 1'000'000 / kPacketUs);
  uintmax_t bytes = 0;
  for (const auto& path : spools) {
    bytes += rewrite(path, headerOf(path), static_cast<int64_t>(start_ms) * 1000, packets);
  }
  std::printf(
      "{\"streams\": %zu, \"packets_per_stream\": %lld, \"spool_bytes\": %ju, "
      "\"end_ms\": %lld}\n",
      spools.size(), static_cast<long long>(packets), bytes,
      static_cast<long long>(start_ms + packets * kPacketUs / 1000));
  return 0;
}

}  // namespace
}  // namespace siprecd::bench

int main(int argc, char** argv) {
  return siprecd::bench::run(siprecd::bench::Flags(argc, argv));
}
