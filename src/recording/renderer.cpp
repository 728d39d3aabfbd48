#include "recording/renderer.hpp"

#include <algorithm>
#include <cmath>
#include <span>

#include "recording/audio_edits.hpp"
#include "recording/audio_file_writer.hpp"
#include "recording/channel_layout.hpp"
#include "recording/stream_source.hpp"

namespace siprecd::recording {

namespace {

constexpr int64_t kMicrosPerMilli = 1000;
/// Arrival times are kept below 2^53 µs (StreamSource); so are timeline starts.
constexpr int64_t kMaxEpochMs = (int64_t{1} << 53) / kMicrosPerMilli;
/// A guard against absurd timelines (e.g. a wrong session start): 31 days.
constexpr int64_t kMaxRenderSeconds = int64_t{31} * 24 * 3600;
/// Output frames rendered per block.
constexpr int64_t kBlockFrames = 16384;

int64_t floorDiv(int64_t value, int64_t divisor) {
  const int64_t quotient = value / divisor;
  return (value % divisor != 0 && value < 0) ? quotient - 1 : quotient;
}

/// Milliseconds of `samples` at `rate_hz`, rounded to nearest.
int64_t samplesToMs(int64_t samples, uint32_t rate_hz) {
  return (samples * 1000 + rate_hz / 2) / rate_hz;
}

}  // namespace

Result<void> validateRenderRequest(const RecordingRenderRequest& request) {
  if (request.streams.empty()) {
    return fail("render request has no streams", 400);
  }
  if (request.sample_rate && !sampleRateSupported(request.format, *request.sample_rate)) {
    return fail("sample_rate " + std::to_string(*request.sample_rate) + " is not supported by " +
                    std::string(toString(request.format)),
                400);
  }
  return validateSpans(request);
}

Result<RecordingRenderResult> renderRecording(const RecordingRenderRequest& request) {
  if (auto valid = validateRenderRequest(request); !valid) {
    return tl::unexpected(valid.error());
  }
  std::vector<StreamSource> sources;
  sources.reserve(request.streams.size());
  uint32_t highest_rate = 0;
  for (std::size_t index = 0; index < request.streams.size(); ++index) {
    auto source = StreamSource::open(request.streams[index].spool_path, index);
    if (!source) {
      return tl::unexpected(source.error());
    }
    highest_rate = std::max(highest_rate, source->decodedRate());
    sources.push_back(std::move(*source));
  }
  const uint32_t rate =
      request.sample_rate.value_or(defaultSampleRate(request.format, highest_rate));

  int64_t start_ms = 0;
  if (request.session_start_epoch_ms) {
    start_ms = *request.session_start_epoch_ms;
  } else {
    std::optional<int64_t> earliest_us;
    for (const StreamSource& source : sources) {
      const auto at = source.earliestEpochUs();
      if (at && (!earliest_us || *at < *earliest_us)) {
        earliest_us = at;
      }
    }
    start_ms = earliest_us ? floorDiv(*earliest_us, kMicrosPerMilli) : 0;
  }
  if (start_ms < 0 || start_ms >= kMaxEpochMs) {
    return fail("session_start_epoch_ms out of range");
  }
  const int64_t start_us = start_ms * kMicrosPerMilli;

  int64_t total = 0;
  for (StreamSource& source : sources) {
    auto end = source.prepare(start_us, rate);
    if (!end) {
      return tl::unexpected(end.error());
    }
    total = std::max(total, *end);
  }
  if (request.session_end_epoch_ms && *request.session_end_epoch_ms > start_ms) {
    const int64_t end_ms = std::min(*request.session_end_epoch_ms, kMaxEpochMs);
    total = std::max(total, (end_ms - start_ms) * rate / 1000);
  }
  if (total > kMaxRenderSeconds * rate) {
    return fail("recording timeline longer than 31 days; check session_start_epoch_ms");
  }

  SampleRange output{0, total};
  if (request.trim) {
    output = sampleRange(*request.trim, start_ms, rate, total);
    if (output.empty()) {
      return fail("trim window [" + std::to_string(request.trim->from_ms) + ", " +
                      std::to_string(request.trim->to_ms) + ") does not overlap the recording [" +
                      std::to_string(start_ms) + ", " +
                      std::to_string(start_ms + samplesToMs(total, rate)) + ")",
                  400);
    }
  }
  const EditPlan edits(request, start_ms, rate, total);
  std::vector<StreamSide> sides;
  sides.reserve(request.streams.size());
  for (const LayoutStream& stream : request.streams) {
    sides.push_back(stream.side);
  }
  const uint32_t channels = channelCount(request.layout, sources.size());
  const std::vector<uint32_t> assignment = assignChannels(request.layout, sides);

  AudioFileSpec spec;
  spec.format = request.format;
  spec.sample_rate_hz = rate;
  spec.channels = channels;
  spec.frames = static_cast<uint64_t>(output.end - output.begin);
  spec.rf64_threshold_bytes = request.rf64_threshold_bytes;
  auto writer = AudioFileWriter::create(request.output, spec);
  if (!writer) {
    return tl::unexpected(writer.error());
  }

  std::vector<std::vector<int16_t>> blocks(
      sources.size(), std::vector<int16_t>(static_cast<std::size_t>(kBlockFrames)));
  std::vector<std::span<const int16_t>> views(sources.size());
  std::vector<int16_t> frames(static_cast<std::size_t>(kBlockFrames) * channels);
  for (int64_t block_start = 0; block_start < output.end; block_start += kBlockFrames) {
    const int64_t block_end = std::min(block_start + kBlockFrames, output.end);
    const auto count = static_cast<std::size_t>(block_end - block_start);
    for (std::size_t s = 0; s < sources.size(); ++s) {
      auto rendered = sources[s].render(block_start, block_end, blocks[s]);
      if (!rendered) {
        return tl::unexpected(rendered.error());
      }
      views[s] = std::span<const int16_t>(blocks[s]).first(count);
    }
    if (block_end <= output.begin) {
      continue;  // before the trim window: decoded for continuity only
    }
    const std::span<int16_t> block = std::span<int16_t>(frames).first(count * channels);
    std::fill(block.begin(), block.end(), int16_t{0});
    mixBlock(views, assignment, channels, block);
    edits.apply(block_start, block, channels);
    const int64_t skip = std::max<int64_t>(output.begin - block_start, 0);
    auto written = writer->write(block.subspan(static_cast<std::size_t>(skip) * channels));
    if (!written) {
      return tl::unexpected(written.error());
    }
  }
  const bool rf64 = writer->rf64();
  auto bytes = writer->commit(request.sync_to_disk);
  if (!bytes) {
    return tl::unexpected(bytes.error());
  }

  RecordingRenderResult result;
  result.timeline.start_epoch_ms = start_ms;
  result.timeline.duration_ms = total * 1000 / rate;
  result.timeline.end_epoch_ms = start_ms + result.timeline.duration_ms;
  result.timeline.sample_rate = rate;
  result.timeline.channels = channels;
  for (StreamSource& source : sources) {
    source.finishLevels();
    result.timeline.streams.push_back(source.info());
  }
  result.start_epoch_ms = start_ms + samplesToMs(output.begin, rate);
  result.end_epoch_ms = start_ms + samplesToMs(output.end, rate);
  result.duration_ms = result.end_epoch_ms - result.start_epoch_ms;
  result.frames = static_cast<uint64_t>(output.end - output.begin);
  result.sample_rate = rate;
  result.channels = channels;
  result.bytes = *bytes;
  result.rf64 = rf64;
  return result;
}

}  // namespace siprecd::recording
