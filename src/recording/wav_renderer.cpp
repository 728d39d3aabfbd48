#include "recording/wav_renderer.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <system_error>

#include <fcntl.h>
#include <sndfile.h>
#include <unistd.h>

#include "base/random.hpp"
#include "base/strings.hpp"
#include "media/unique_fd.hpp"
#include "recording/g711.hpp"
#include "recording/spool_reader.hpp"
#include "recording/stream_timeline.hpp"

namespace siprecd::recording {

namespace {

constexpr uint32_t kOutputRateHz = 8000;
constexpr int64_t kBlockFrames = 8000;
constexpr int64_t kMicrosPerMilli = 1000;
/// Arrival times outside [0, 2^53) µs cannot come from a sane clock; such records are
/// skipped so that timeline arithmetic cannot overflow.
constexpr int64_t kMaxArrivalUs = int64_t{1} << 53;
/// A guard against absurd timelines (e.g. a wrong session start): 31 days.
constexpr int64_t kMaxRenderSamples = int64_t{31} * 24 * 3600 * kOutputRateHz;

enum class Codec { MuLaw, ALaw };

struct Packet {
  TimelinePlacement placement;
  int64_t position = 0;  ///< first sample, output rate, from the session start
  uint64_t payload_offset = 0;
  uint32_t samples = 0;
};

struct StreamPlan {
  RenderedStream info;
  Codec codec = Codec::MuLaw;
  uint32_t clock_rate = kOutputRateHz;
  media::UniqueFd fd;
  std::vector<Packet> packets;
  std::optional<int64_t> first_arrival_us;
  std::size_t cursor = 0;
};

std::string errnoText() {
  return std::strerror(errno);
}

int64_t floorDiv(int64_t value, int64_t divisor) {
  const int64_t quotient = value / divisor;
  return (value % divisor != 0 && value < 0) ? quotient - 1 : quotient;
}

Result<Codec> codecFor(const std::string& name, std::size_t index) {
  if (iequals(name, "PCMU")) {
    return Codec::MuLaw;
  }
  if (iequals(name, "PCMA")) {
    return Codec::ALaw;
  }
  return fail("stream " + std::to_string(index) + " codec \"" + name +
              "\" cannot be rendered yet (PCMU and PCMA can)");
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
  auto codec = codecFor(header.codec_name, index);
  if (!codec) {
    return tl::unexpected(codec.error());
  }
  if (header.clock_rate == 0) {
    return fail("stream " + std::to_string(index) + " spool has clock rate 0");
  }
  plan.codec = *codec;
  plan.clock_rate = header.clock_rate;
  plan.fd.reset(::open(stream.spool_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!plan.fd.valid()) {
    return fail("cannot open spool " + stream.spool_path.string() + ": " + errnoText());
  }
  StreamTimeline timeline(header.clock_rate);
  while (auto record = reader.next()) {
    if (record->kind != media::SpoolRecordKind::Rtp ||
        record->payload_type != header.payload_type || record->payload.empty() ||
        record->arrival_epoch_us < 0 || record->arrival_epoch_us >= kMaxArrivalUs) {
      continue;
    }
    Packet packet;
    packet.placement = timeline.place(record->ssrc, record->timestamp, record->arrival_epoch_us);
    packet.payload_offset = reader.lastPayloadOffset();
    packet.samples = static_cast<uint32_t>(record->payload.size());
    plan.packets.push_back(packet);
    const int64_t arrival_ms = floorDiv(record->arrival_epoch_us, kMicrosPerMilli);
    if (!plan.first_arrival_us) {
      plan.first_arrival_us = record->arrival_epoch_us;
      plan.info.first_packet_ms = arrival_ms;
    }
    plan.info.last_packet_ms = arrival_ms;
  }
  if (reader.end() == SpoolEnd::ReadError) {
    return fail("cannot read spool " + stream.spool_path.string());
  }
  plan.info.packets = plan.packets.size();
  return plan;
}

/// Decodes the part [from, to) (output samples) of `packet` into channel `channel` of
/// the interleaved `frames` starting at sample `block_start`.
Result<void> decodeInto(StreamPlan& plan, const Packet& packet, int64_t from, int64_t to,
                        int64_t block_start, std::size_t channel, std::size_t channels,
                        std::vector<std::byte>& codes, std::vector<int16_t>& frames) {
  const auto skip = static_cast<uint64_t>(from - packet.position);
  const auto count = static_cast<std::size_t>(to - from);
  codes.resize(count);
  std::size_t done = 0;
  while (done < count) {
    const ssize_t got = ::pread(plan.fd.get(), codes.data() + done, count - done,
                                static_cast<off_t>(packet.payload_offset + skip + done));
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got <= 0) {
      return fail("spool shrank while rendering (pread failed)");
    }
    done += static_cast<std::size_t>(got);
  }
  std::size_t at = static_cast<std::size_t>(from - block_start) * channels + channel;
  for (const std::byte code : codes) {
    const auto value = static_cast<uint8_t>(code);
    frames[at] = plan.codec == Codec::MuLaw ? decodeMuLaw(value) : decodeALaw(value);
    at += channels;
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
  std::vector<std::byte> codes;
  for (int64_t block_start = 0; block_start < total_samples; block_start += kBlockFrames) {
    const int64_t block_end = std::min(block_start + kBlockFrames, total_samples);
    std::fill(frames.begin(), frames.end(), int16_t{0});
    for (std::size_t channel = 0; channel < channels; ++channel) {
      StreamPlan& plan = plans[channel];
      for (std::size_t i = plan.cursor;
           i < plan.packets.size() && plan.packets[i].position < block_end; ++i) {
        const Packet& packet = plan.packets[i];
        const int64_t from = std::max(packet.position, block_start);
        const int64_t to = std::min(packet.position + packet.samples, block_end);
        if (from >= to) {
          continue;
        }
        auto decoded =
            decodeInto(plan, packet, from, to, block_start, channel, channels, codes, frames);
        if (!decoded) {
          return decoded;
        }
      }
      while (plan.cursor < plan.packets.size() &&
             plan.packets[plan.cursor].position + plan.packets[plan.cursor].samples <= block_end) {
        ++plan.cursor;
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
                                std::vector<StreamPlan>& plans, int64_t total_samples) {
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
  info.samplerate = static_cast<int>(kOutputRateHz);
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
  for (std::size_t index = 0; index < request.streams.size(); ++index) {
    auto plan = planStream(request.streams[index], index);
    if (!plan) {
      return tl::unexpected(plan.error());
    }
    plans.push_back(std::move(*plan));
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

  int64_t total_samples = 0;
  for (StreamPlan& plan : plans) {
    for (Packet& packet : plan.packets) {
      packet.position = samplePosition(packet.placement, start_us, plan.clock_rate, kOutputRateHz);
      total_samples = std::max(total_samples, packet.position + packet.samples);
    }
    // Stable: of two packets at the same position the later arrival is applied last.
    std::stable_sort(plan.packets.begin(), plan.packets.end(),
                     [](const Packet& a, const Packet& b) { return a.position < b.position; });
  }
  if (request.session_end_epoch_ms && *request.session_end_epoch_ms > start_ms) {
    total_samples =
        std::max(total_samples, (*request.session_end_epoch_ms - start_ms) * kOutputRateHz / 1000);
  }
  if (total_samples > kMaxRenderSamples) {
    return fail("recording timeline longer than 31 days; check session_start_epoch_ms");
  }

  auto written = writeWavAtomically(request.output_wav, request.sync_to_disk, plans, total_samples);
  if (!written) {
    return tl::unexpected(written.error());
  }

  RenderResult result;
  result.start_epoch_ms = start_ms;
  result.duration_ms = total_samples * 1000 / kOutputRateHz;
  result.end_epoch_ms = start_ms + result.duration_ms;
  result.sample_rate = kOutputRateHz;
  result.channels = static_cast<uint32_t>(plans.size());
  for (StreamPlan& plan : plans) {
    result.streams.push_back(std::move(plan.info));
  }
  return result;
}

}  // namespace siprecd::recording
