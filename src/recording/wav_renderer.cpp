#include "recording/wav_renderer.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <system_error>

#include <fcntl.h>
#include <sndfile.h>
#include <unistd.h>

#include "base/random.hpp"
#include "base/strings.hpp"
#include "media/codecs/codec.hpp"
#include "media/unique_fd.hpp"
#include "recording/band_limited_interpolator.hpp"
#include "recording/spool_reader.hpp"
#include "recording/stream_timeline.hpp"

namespace siprecd::recording {

namespace {

constexpr uint32_t kDefaultOutputRateHz = 8000;
/// Output frames written per block.
constexpr int64_t kBlockFrames = 8000;
constexpr int64_t kMicrosPerMilli = 1000;
constexpr int64_t kMicrosPerSecond = 1'000'000;
/// Arrival times outside [0, 2^53) µs cannot come from a sane clock; such records are
/// skipped so that timeline arithmetic cannot overflow.
constexpr int64_t kMaxArrivalUs = int64_t{1} << 53;
/// A guard against absurd timelines (e.g. a wrong session start): 31 days.
constexpr int64_t kMaxRenderSeconds = int64_t{31} * 24 * 3600;
/// Longest gap between two packets of one talk spurt that is filled by the codec's loss
/// concealment (Opus / G.729 PLC, silence for the others); longer gaps stay silence.
constexpr int64_t kMaxConcealMs = 100;

struct Packet {
  TimelinePlacement placement;
  int64_t position = 0;  ///< first sample, stream's decoded rate, from the session start
  uint64_t payload_offset = 0;
  uint32_t payload_size = 0;
  uint32_t samples = 0;  ///< expected decoded samples per channel (see expectedSamples)
  media::Ssrc ssrc;
  bool marker = false;
};

/// Decoded audio (mono, the stream's decoded rate) waiting to be copied to the output.
struct Segment {
  int64_t start = 0;
  std::vector<int16_t> pcm;
  int64_t end() const { return start + static_cast<int64_t>(pcm.size()); }
};

struct StreamPlan {
  RenderedStream info;
  std::unique_ptr<media::codecs::Codec> codec;  ///< null: renders as silence
  uint32_t clock_rate = kDefaultOutputRateHz;
  uint32_t rate = kDefaultOutputRateHz;  ///< decoded sample rate
  media::UniqueFd fd;
  std::vector<Packet> packets;
  std::optional<int64_t> first_arrival_us;
  std::optional<int64_t> last_arrival_us;

  // Pass 2 state: packets are decoded once, in position order.
  std::size_t next_packet = 0;
  std::vector<Segment> segments;
  std::optional<int64_t> decoded_end;
  std::optional<media::Ssrc> last_ssrc;
  std::vector<std::byte> payload;
  std::vector<int16_t> scratch;

  // Pass 2 state when rate < output rate: decoded-rate samples [native_base, native_end).
  std::optional<BandLimitedInterpolator> interpolator;
  std::vector<int16_t> native;
  int64_t native_base = 0;
};

std::string errnoText() {
  return std::strerror(errno);
}

int64_t floorDiv(int64_t value, int64_t divisor) {
  const int64_t quotient = value / divisor;
  return (value % divisor != 0 && value < 0) ? quotient - 1 : quotient;
}

/// Samples per channel of an Opus packet at 48 kHz from its TOC byte (RFC 6716 §3.1);
/// 0 when malformed.
uint32_t opusPacketSamples(std::span<const std::byte> payload) {
  if (payload.empty()) {
    return 0;
  }
  const auto toc = static_cast<uint8_t>(payload[0]);
  const unsigned config = toc >> 3U;
  uint32_t frame = 0;  // samples at 48 kHz
  if (config < 12) {
    constexpr std::array<uint32_t, 4> kSilk{480, 960, 1920, 2880};
    frame = kSilk[config % 4];
  } else if (config < 16) {
    frame = config % 2 == 0 ? 480 : 960;
  } else {
    constexpr std::array<uint32_t, 4> kCelt{120, 240, 480, 960};
    frame = kCelt[config % 4];
  }
  switch (toc & 0x3U) {
    case 0:
      return frame;
    case 1:
    case 2:
      return 2 * frame;
    default:
      return payload.size() < 2 ? 0 : frame * (static_cast<uint8_t>(payload[1]) & 0x3FU);
  }
}

/// Samples per channel a payload should decode to, at the codec's decoded rate, known
/// before decoding so that the timeline's length is known before pass 2. A payload that
/// decodes to more is cut at the end of the file.
uint32_t expectedSamples(const media::codecs::CodecInfo& info, std::span<const std::byte> payload) {
  const auto size = static_cast<uint32_t>(payload.size());
  if (iequals(info.name, "opus")) {
    return opusPacketSamples(payload);
  }
  if (iequals(info.name, "G722")) {
    return size * 2;  // 4 bits per 16 kHz sample (RFC 3551 §4.5.2)
  }
  if (iequals(info.name, "G729")) {
    return (size / 10 + (size % 10 != 0 ? 1 : 0)) * 80;  // 10-byte frames, 2-byte SID
  }
  if (iequals(info.name, "L16")) {
    return size / (2 * std::max(info.channels, 1U));
  }
  return size;  // PCMU, PCMA: one byte per sample
}

/// Pass 1: reads the spool's records, keeping only placements and payload offsets.
Result<StreamPlan> planStream(const RenderStream& stream, std::size_t index) {
  auto opened = SpoolReader::openIfPresent(stream.spool_path);
  if (!opened) {
    return tl::unexpected(opened.error());
  }
  StreamPlan plan;
  if (!*opened || !(*opened)->header()) {
    // Missing: the writer creates the spool with the first packet, so none was received.
    // Ended inside its header: a crash right after the first write began.
    return plan;
  }
  SpoolReader& reader = **opened;
  const media::SpoolHeader& header = *reader.header();
  plan.info.codec = header.codec_name;
  if (header.clock_rate == 0) {
    return fail("stream " + std::to_string(index) + " spool has clock rate 0");
  }
  plan.clock_rate = header.clock_rate;
  // The spool header carries no channel count: RFC 7587 §7 makes opus always "/2".
  const uint32_t channels = iequals(header.codec_name, "opus") ? 2 : 1;
  plan.codec = media::codecs::createCodec(header.codec_name, header.clock_rate, channels);
  if (plan.codec) {
    plan.rate = plan.codec->info().sample_rate_hz;
    plan.info.sample_rate = plan.rate;
    plan.fd.reset(::open(stream.spool_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!plan.fd.valid()) {
      return fail("cannot open spool " + stream.spool_path.string() + ": " + errnoText());
    }
  } else {
    plan.info.error = "codec " + header.codec_name + "/" + std::to_string(header.clock_rate) +
                      " cannot be decoded; rendered as silence";
  }
  StreamTimeline timeline(header.clock_rate);
  while (auto record = reader.next()) {
    if (record->kind != media::SpoolRecordKind::Rtp ||
        record->payload_type != header.payload_type || record->payload.empty() ||
        record->arrival_epoch_us < 0 || record->arrival_epoch_us >= kMaxArrivalUs) {
      continue;
    }
    const int64_t arrival_ms = floorDiv(record->arrival_epoch_us, kMicrosPerMilli);
    if (!plan.first_arrival_us) {
      plan.first_arrival_us = record->arrival_epoch_us;
      plan.info.first_packet_ms = arrival_ms;
    }
    plan.last_arrival_us = record->arrival_epoch_us;
    plan.info.last_packet_ms = arrival_ms;
    if (!plan.codec) {
      continue;
    }
    Packet packet;
    packet.placement = timeline.place(record->ssrc, record->timestamp, record->arrival_epoch_us);
    packet.payload_offset = reader.lastPayloadOffset();
    packet.payload_size = static_cast<uint32_t>(record->payload.size());
    packet.samples = expectedSamples(plan.codec->info(), record->payload);
    packet.ssrc = record->ssrc;
    packet.marker = record->marker;
    plan.packets.push_back(packet);
  }
  if (reader.end() == SpoolEnd::ReadError) {
    return fail("cannot read spool " + stream.spool_path.string());
  }
  plan.info.packets = plan.packets.size();
  return plan;
}

/// Reads `packet`'s payload into plan.payload.
Result<void> readPayload(StreamPlan& plan, const Packet& packet) {
  plan.payload.resize(packet.payload_size);
  std::size_t done = 0;
  while (done < plan.payload.size()) {
    const ssize_t got =
        ::pread(plan.fd.get(), plan.payload.data() + done, plan.payload.size() - done,
                static_cast<off_t>(packet.payload_offset + done));
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got <= 0) {
      return fail("spool shrank while rendering (pread failed)");
    }
    done += static_cast<std::size_t>(got);
  }
  return {};
}

/// Appends plan.scratch (interleaved, `channels`) as a mono segment starting at `start`.
void pushSegment(StreamPlan& plan, int64_t start, uint32_t channels) {
  Segment segment;
  segment.start = start;
  if (channels <= 1) {
    segment.pcm = plan.scratch;
  } else {
    segment.pcm.resize(plan.scratch.size() / channels);
    for (std::size_t i = 0; i < segment.pcm.size(); ++i) {
      int32_t sum = 0;
      for (uint32_t c = 0; c < channels; ++c) {
        sum += plan.scratch[i * channels + c];
      }
      segment.pcm[i] = static_cast<int16_t>(sum / static_cast<int32_t>(channels));
    }
  }
  plan.segments.push_back(std::move(segment));
}

/// Decodes the next packet (in position order) into segments. A gap of at most
/// kMaxConcealMs since the previous packet of the same SSRC, not announced as a new talk
/// spurt by the marker bit (RFC 3551 §4.1), is filled first by the codec's concealment.
/// An undecodable payload stays silence.
Result<void> decodePacket(StreamPlan& plan, const Packet& packet) {
  auto read = readPayload(plan, packet);
  if (!read) {
    return read;
  }
  media::codecs::Codec& codec = *plan.codec;
  const uint32_t channels = std::max(codec.info().channels, 1U);
  if (plan.decoded_end && plan.last_ssrc == packet.ssrc && !packet.marker) {
    const int64_t gap = packet.position - *plan.decoded_end;
    if (gap > 0 && gap <= kMaxConcealMs * plan.rate / 1000) {
      plan.scratch.clear();
      codec.conceal(static_cast<std::size_t>(gap), plan.scratch);
      pushSegment(plan, *plan.decoded_end, channels);
      ++plan.info.concealed_gaps;
    }
  }
  plan.last_ssrc = packet.ssrc;
  plan.scratch.clear();
  auto decoded = codec.decode(plan.payload, plan.scratch);
  if (!decoded) {
    ++plan.info.undecodable_packets;
    plan.decoded_end = packet.position + packet.samples;
    return {};
  }
  pushSegment(plan, packet.position, channels);
  plan.decoded_end = packet.position + static_cast<int64_t>(*decoded);
  return {};
}

/// Writes the stream's samples [from, to) (decoded rate; called with consecutive ranges)
/// to dest[0], dest[stride], ...; where no packet lies dest is left untouched (silence).
Result<void> renderNative(StreamPlan& plan, int64_t from, int64_t to, int16_t* dest,
                          std::size_t stride) {
  // Looks ahead by the concealment limit so that a gap's concealment exists before the
  // gap is rendered.
  const int64_t lookahead = kMaxConcealMs * plan.rate / 1000;
  while (plan.next_packet < plan.packets.size() &&
         plan.packets[plan.next_packet].position < to + lookahead) {
    auto decoded = decodePacket(plan, plan.packets[plan.next_packet]);
    if (!decoded) {
      return decoded;
    }
    ++plan.next_packet;
  }
  // In decoding order: of two segments at the same place the later one wins.
  for (const Segment& segment : plan.segments) {
    const int64_t begin = std::max(segment.start, from);
    const int64_t end = std::min(segment.end(), to);
    for (int64_t i = begin; i < end; ++i) {
      dest[static_cast<std::size_t>(i - from) * stride] =
          segment.pcm[static_cast<std::size_t>(i - segment.start)];
    }
  }
  std::erase_if(plan.segments, [to](const Segment& segment) { return segment.end() <= to; });
  return {};
}

/// Writes the output samples [from, to) of one stream to dest[0], dest[stride], ...
/// Streams decoded below the output rate are rendered at their rate and interpolated;
/// only the decoded samples the interpolation still needs are kept.
Result<void> renderChannel(StreamPlan& plan, int64_t from, int64_t to, int16_t* dest,
                           std::size_t stride) {
  if (!plan.codec) {
    return {};
  }
  if (!plan.interpolator) {
    return renderNative(plan, from, to, dest, stride);
  }
  const BandLimitedInterpolator& interpolator = *plan.interpolator;
  const int64_t native_end = plan.native_base + static_cast<int64_t>(plan.native.size());
  const int64_t needed_end = interpolator.endInputFor(to - 1);
  if (needed_end > native_end) {
    const std::size_t old_size = plan.native.size();
    plan.native.resize(old_size + static_cast<std::size_t>(needed_end - native_end), 0);
    auto rendered = renderNative(plan, native_end, needed_end, plan.native.data() + old_size, 1);
    if (!rendered) {
      return rendered;
    }
  }
  interpolator.interpolate(from, static_cast<std::size_t>(to - from), plan.native_base, plan.native,
                           dest, stride);
  const int64_t keep_from = interpolator.firstInputFor(to);
  if (keep_from > plan.native_base) {
    const auto drop =
        std::min(static_cast<std::size_t>(keep_from - plan.native_base), plan.native.size());
    plan.native.erase(plan.native.begin(), plan.native.begin() + static_cast<std::ptrdiff_t>(drop));
    plan.native_base += static_cast<int64_t>(drop);
  }
  return {};
}

struct SndfileCloser {
  void operator()(SNDFILE* file) const { sf_close(file); }
};
using SndfilePtr = std::unique_ptr<SNDFILE, SndfileCloser>;

/// Removes the temporary file unless disarmed.
class TempFileGuard {
 public:
  explicit TempFileGuard(std::filesystem::path path) : path_(std::move(path)) {}
  ~TempFileGuard() {
    if (armed_) {
      std::error_code ignored;
      std::filesystem::remove(path_, ignored);
    }
  }
  TempFileGuard(const TempFileGuard&) = delete;
  TempFileGuard& operator=(const TempFileGuard&) = delete;
  void disarm() { armed_ = false; }

 private:
  std::filesystem::path path_;
  bool armed_ = true;
};

/// Pass 2: writes the interleaved channels block by block.
Result<void> writeFrames(SNDFILE* file, std::vector<StreamPlan>& plans, int64_t total_samples) {
  const std::size_t channels = plans.size();
  std::vector<int16_t> frames(static_cast<std::size_t>(kBlockFrames) * channels);
  for (int64_t block_start = 0; block_start < total_samples; block_start += kBlockFrames) {
    const int64_t block_end = std::min(block_start + kBlockFrames, total_samples);
    std::fill(frames.begin(), frames.end(), int16_t{0});
    for (std::size_t channel = 0; channel < channels; ++channel) {
      auto rendered =
          renderChannel(plans[channel], block_start, block_end, frames.data() + channel, channels);
      if (!rendered) {
        return rendered;
      }
    }
    const sf_count_t count = block_end - block_start;
    if (sf_writef_short(file, frames.data(), count) != count) {
      return fail(std::string("cannot write WAV: ") + sf_strerror(file));
    }
  }
  return {};
}

/// Best effort: a failure only weakens durability, the file itself is complete.
void syncDirectory(const std::filesystem::path& directory) {
  media::UniqueFd directory_fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (directory_fd.valid()) {
    ::fsync(directory_fd.get());
  }
}

Result<void> writeWavAtomically(const std::filesystem::path& output, bool sync_to_disk,
                                uint32_t sample_rate, std::vector<StreamPlan>& plans,
                                int64_t total_samples) {
  const std::filesystem::path directory =
      output.has_parent_path() ? output.parent_path() : std::filesystem::path(".");
  std::error_code error;
  const bool created_directory = std::filesystem::create_directories(directory, error);
  if (error) {
    return fail("cannot create directory " + directory.string() + ": " + error.message());
  }
  std::filesystem::path temp = output;
  temp += ".tmp-" + randomToken(8);
  media::UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640));
  if (!fd.valid()) {
    return fail("cannot create " + temp.string() + ": " + errnoText());
  }
  TempFileGuard guard(temp);
  SF_INFO info{};
  info.samplerate = static_cast<int>(sample_rate);
  info.channels = static_cast<int>(plans.size());
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SndfilePtr file(sf_open_fd(fd.get(), SFM_WRITE, &info, SF_FALSE));
  if (!file) {
    return fail(std::string("cannot start WAV ") + temp.string() + ": " + sf_strerror(nullptr));
  }
  auto written = writeFrames(file.get(), plans, total_samples);
  if (!written) {
    return written;
  }
  if (sf_close(file.release()) != 0) {
    return fail("cannot finish WAV " + temp.string());
  }
  if (sync_to_disk && ::fsync(fd.get()) != 0) {
    return fail("cannot fsync " + temp.string() + ": " + errnoText());
  }
  fd.reset();
  std::filesystem::rename(temp, output, error);
  if (error) {
    return fail("cannot rename WAV to " + output.string() + ": " + error.message());
  }
  guard.disarm();
  if (!sync_to_disk) {
    return {};
  }
  syncDirectory(directory);
  if (created_directory && directory.has_parent_path()) {
    syncDirectory(directory.parent_path());  // makes the new directory's entry durable
  }
  return {};
}

}  // namespace

Result<RenderResult> renderWav(const RenderRequest& request) {
  if (request.streams.empty()) {
    return fail("render request has no streams");
  }
  std::vector<StreamPlan> plans;
  plans.reserve(request.streams.size());
  uint32_t output_rate = 0;
  for (std::size_t index = 0; index < request.streams.size(); ++index) {
    auto plan = planStream(request.streams[index], index);
    if (!plan) {
      return tl::unexpected(plan.error());
    }
    if (plan->codec) {
      output_rate = std::max(output_rate, plan->rate);
    }
    plans.push_back(std::move(*plan));
  }
  if (output_rate == 0) {
    output_rate = kDefaultOutputRateHz;
  }

  int64_t start_ms = 0;
  if (request.session_start_epoch_ms) {
    start_ms = *request.session_start_epoch_ms;
  } else {
    std::optional<int64_t> earliest_us;
    for (const StreamPlan& plan : plans) {
      if (plan.first_arrival_us && (!earliest_us || *plan.first_arrival_us < *earliest_us)) {
        earliest_us = plan.first_arrival_us;
      }
    }
    start_ms = earliest_us ? floorDiv(*earliest_us, kMicrosPerMilli) : 0;
  }
  if (start_ms < 0 || start_ms >= kMaxArrivalUs / kMicrosPerMilli) {
    return fail("session_start_epoch_ms out of range");
  }
  const int64_t start_us = start_ms * kMicrosPerMilli;

  // Packets are placed at their stream's decoded rate; the interpolation maps decoded
  // sample n to output time n / rate exactly, so streams of different rates stay aligned
  // (within half a decoded sample).
  int64_t total_samples = 0;
  for (StreamPlan& plan : plans) {
    if (!plan.codec) {
      if (plan.last_arrival_us) {
        total_samples = std::max(
            total_samples, (*plan.last_arrival_us - start_us) * output_rate / kMicrosPerSecond);
      }
      continue;
    }
    int64_t native_end = 0;
    for (Packet& packet : plan.packets) {
      packet.position = samplePosition(packet.placement, start_us, plan.clock_rate, plan.rate);
      native_end = std::max(native_end, packet.position + packet.samples);
    }
    total_samples = std::max(total_samples, (native_end * output_rate + plan.rate - 1) / plan.rate);
    // Stable: of two packets at the same position the later arrival is applied last.
    std::stable_sort(plan.packets.begin(), plan.packets.end(),
                     [](const Packet& a, const Packet& b) { return a.position < b.position; });
    if (plan.rate != output_rate) {
      plan.interpolator.emplace(plan.rate, output_rate);
    }
  }
  if (request.session_end_epoch_ms && *request.session_end_epoch_ms > start_ms) {
    total_samples =
        std::max(total_samples, (*request.session_end_epoch_ms - start_ms) * output_rate / 1000);
  }
  if (total_samples > kMaxRenderSeconds * output_rate) {
    return fail("recording timeline longer than 31 days; check session_start_epoch_ms");
  }

  auto written = writeWavAtomically(request.output_wav, request.sync_to_disk, output_rate, plans,
                                    total_samples);
  if (!written) {
    return tl::unexpected(written.error());
  }

  RenderResult result;
  result.start_epoch_ms = start_ms;
  result.duration_ms = total_samples * 1000 / output_rate;
  result.end_epoch_ms = start_ms + result.duration_ms;
  result.sample_rate = output_rate;
  result.channels = static_cast<uint32_t>(plans.size());
  for (StreamPlan& plan : plans) {
    result.streams.push_back(std::move(plan.info));
  }
  return result;
}

}  // namespace siprecd::recording
