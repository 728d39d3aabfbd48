// render_bench: how fast a one-hour stereo G.711 call renders. Writes two one-hour PCMU
// spools (20 ms packets, as the engine would) with media::SpoolWriter, then renders them
// to WAV and to MP3 and prints the wall-clock and CPU time of each as JSON.
//
//   render_bench [--dir /tmp/render-bench] [--minutes 60] [--sync]

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <time.h>

#include "bench_support.hpp"
#include "media/rtp_spool_format.hpp"
#include "media/spool_writer.hpp"
#include "recording/wav_renderer.hpp"
#ifdef SIPRECD_HAVE_RENDER_RECORDING
#include "recording/renderer.hpp"
#endif

namespace siprecd::bench {
namespace {

constexpr int64_t kStartEpochUs = 1'700'000'000'000'000;

double processCpuSeconds() {
  timespec now{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

/// One stream of `packets` 20 ms PCMU packets (a 400 Hz-ish pattern, not silence, so the
/// encoders have something to encode).
void writeSpool(const std::filesystem::path& path, uint32_t index, int64_t packets) {
  media::SpoolHeader header;
  header.recording_id = "render-bench";
  header.stream_index = index;
  header.label = std::to_string(index + 1);
  header.codec_name = "PCMU";
  header.clock_rate = 8000;
  header.payload_type = 0;
  header.telephone_event_pt = 101;
  media::SpoolWriterSettings settings;
  settings.buffer_bytes = 1 << 20;
  auto writer = media::SpoolWriter::create(path, header, settings);
  if (!writer) {
    die("spool: " + writer.error().message);
  }
  std::vector<std::byte> payload(160);
  for (std::size_t i = 0; i < payload.size(); ++i) {
    payload[i] =
        static_cast<std::byte>(0x80 + static_cast<int>((i % 20 < 10 ? 30 : -30)) + 4 * index);
  }
  for (int64_t i = 0; i < packets; ++i) {
    media::SpoolRecord record;
    record.kind = media::SpoolRecordKind::Rtp;
    record.arrival_epoch_us = kStartEpochUs + i * 20'000 + 150 * index;
    record.seq = media::SeqNum(static_cast<uint16_t>(i + 1000 * index));
    record.timestamp = media::RtpTimestamp(static_cast<uint32_t>(i * 160));
    record.ssrc = media::Ssrc(0xABC00000U + index);
    record.payload_type = 0;
    record.marker = i == 0;
    record.payload = payload;
    writer->append(record);
  }
  if (auto finished = writer->finish(); !finished) {
    die("spool: " + finished.error().message);
  }
}

struct Timing {
  double wall_s = 0;
  double cpu_s = 0;
  uintmax_t bytes = 0;
  std::string error;
};

template <typename Render>
Timing timed(const std::filesystem::path& output, Render render) {
  const auto wall = std::chrono::steady_clock::now();
  const double cpu = processCpuSeconds();
  Timing timing;
  timing.error = render();
  timing.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count();
  timing.cpu_s = processCpuSeconds() - cpu;
  std::error_code ignored;
  timing.bytes = std::filesystem::file_size(output, ignored);
  return timing;
}

std::string json(const char* name, const Timing& timing) {
  char text[512];
  std::snprintf(text, sizeof(text),
                "\"%s\": {\"wall_s\": %.3f, \"cpu_s\": %.3f, \"bytes\": %ju, \"error\": \"%s\"}",
                name, timing.wall_s, timing.cpu_s, timing.bytes, timing.error.c_str());
  return text;
}

int run(const Flags& flags) {
  const std::filesystem::path dir = flags.text("dir", "/tmp/render-bench");
  const double minutes = flags.real("minutes", 60);
  const bool sync = flags.has("sync");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto packets = static_cast<int64_t>(minutes * 60 * 50);
  const std::vector<std::filesystem::path> spools = {dir / "stream-0.spool",
                                                     dir / "stream-1.spool"};
  for (uint32_t index = 0; index < spools.size(); ++index) {
    writeSpool(spools[index], index, packets);
  }
  const int64_t end_ms = kStartEpochUs / 1000 + packets * 20;

#ifdef SIPRECD_HAVE_RENDER_RECORDING
  auto renderTo = [&](recording::AudioFormat format, const std::filesystem::path& output) {
    recording::RecordingRenderRequest request;
    request.streams = {{spools[0], recording::StreamSide::Left},
                       {spools[1], recording::StreamSide::Right}};
    request.output = output;
    request.format = format;
    request.layout = recording::ChannelLayout::Stereo;
    request.session_start_epoch_ms = kStartEpochUs / 1000;
    request.session_end_epoch_ms = end_ms;
    request.sync_to_disk = sync;
    auto rendered = recording::renderRecording(request);
    return rendered ? std::string() : rendered.error().message;
  };
  const Timing wav = timed(dir / "call.wav",
                           [&] { return renderTo(recording::AudioFormat::Wav, dir / "call.wav"); });
  const Timing mp3 = timed(dir / "call.mp3",
                           [&] { return renderTo(recording::AudioFormat::Mp3, dir / "call.mp3"); });
  const char* wav_path = "renderRecording";
#else
  const Timing wav = timed(dir / "call.wav", [&] {
    recording::RenderRequest request;
    request.streams = {{spools[0]}, {spools[1]}};
    request.output_wav = dir / "call.wav";
    request.session_start_epoch_ms = kStartEpochUs / 1000;
    request.session_end_epoch_ms = end_ms;
    request.sync_to_disk = sync;
    auto rendered = recording::renderWav(request);
    return rendered ? std::string() : rendered.error().message;
  });
  Timing mp3;
  mp3.error = "renderRecording not built yet";
  const char* wav_path = "renderWav";
#endif
  std::printf("{\"minutes\": %.1f, \"fsync\": %s, \"wav_via\": \"%s\", %s, %s}\n", minutes,
              sync ? "true" : "false", wav_path, json("wav", wav).c_str(),
              json("mp3", mp3).c_str());
  std::filesystem::remove_all(dir);
  return wav.error.empty() && mp3.error.empty() ? 0 : 1;
}

}  // namespace
}  // namespace siprecd::bench

int main(int argc, char** argv) {
  return siprecd::bench::run(siprecd::bench::Flags(argc, argv));
}
