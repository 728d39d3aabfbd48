#include "recording/stream_source.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <unistd.h>

#include "base/strings.hpp"
#include "recording/spool_reader.hpp"

namespace siprecd::recording {

namespace {

constexpr int64_t kMicrosPerMilli = 1000;
constexpr int64_t kMicrosPerSecond = 1'000'000;
/// Arrival times outside [0, 2^53) µs cannot come from a sane clock; such records are
/// skipped so that timeline arithmetic cannot overflow.
constexpr int64_t kMaxArrivalUs = int64_t{1} << 53;
/// Payloads are read back in windows of this size, starting a little before the payload
/// asked for (packets decoded in timeline order are almost in file order).
constexpr std::size_t kWindowBytes = std::size_t{1} << 20;
constexpr uint64_t kWindowBackBytes = 64 * 1024;
/// Decoded-rate samples rendered at a time for the resampler.
constexpr std::size_t kResamplerChunk = 2048;
/// The RTCP sender report's NTP timestamp, the payload of a SenderReport spool record.
constexpr std::size_t kNtpBytes = 8;

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

uint64_t loadBe64(std::span<const std::byte> bytes) {
  uint64_t value = 0;
  for (std::size_t i = 0; i < kNtpBytes; ++i) {
    value = (value << 8U) | static_cast<uint8_t>(bytes[i]);
  }
  return value;
}

}  // namespace

void LevelMeter::add(std::span<const int16_t> samples) {
  for (const int16_t sample : samples) {
    sum_squares_ += static_cast<uint64_t>(int64_t{sample} * sample);
    if (++filled_ == window_) {
      loudest_mean_square_ = std::max(
          loudest_mean_square_, static_cast<double>(sum_squares_) / static_cast<double>(window_));
      filled_ = 0;
      sum_squares_ = 0;
    }
  }
}

double LevelMeter::loudestDbfs() const {
  double loudest = loudest_mean_square_;
  if (filled_ > 0) {
    loudest = std::max(loudest, static_cast<double>(sum_squares_) / filled_);
  }
  if (loudest <= 0) {
    return RenderedStream::kSilentDbfs;
  }
  constexpr double kFullScale = 32768.0 * 32768.0;
  return std::max(10.0 * std::log10(loudest / kFullScale), RenderedStream::kSilentDbfs);
}

Result<StreamSource> StreamSource::open(const std::filesystem::path& spool_path,
                                        std::size_t index) {
  auto opened = SpoolReader::openIfPresent(spool_path);
  if (!opened) {
    return tl::unexpected(opened.error());
  }
  StreamSource source;
  if (!*opened || !(*opened)->header()) {
    // Missing: the writer creates the spool with the first packet, so none was received.
    // Ended inside its header: a crash right after the first write began.
    return source;
  }
  SpoolReader& reader = **opened;
  const media::SpoolHeader& header = *reader.header();
  source.info_.codec = header.codec_name;
  if (header.clock_rate == 0) {
    return fail("stream " + std::to_string(index) + " spool " + spool_path.string() +
                " has clock rate 0");
  }
  source.clock_rate_ = header.clock_rate;
  // The spool header carries no channel count: RFC 7587 §7 makes opus always "/2".
  const uint32_t channels = iequals(header.codec_name, "opus") ? 2 : 1;
  source.codec_ = media::codecs::createCodec(header.codec_name, header.clock_rate, channels);
  if (source.codec_) {
    source.rate_ = source.codec_->info().sample_rate_hz;
    source.info_.sample_rate = source.rate_;
    source.fd_.reset(::open(spool_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!source.fd_.valid()) {
      return fail("cannot open spool " + spool_path.string() + ": " + std::strerror(errno));
    }
  } else {
    source.info_.error = "codec " + header.codec_name + "/" + std::to_string(header.clock_rate) +
                         " cannot be decoded; rendered as silence";
  }
  StreamTimeline& timeline = source.timeline_.emplace(header.clock_rate);
  while (auto record = reader.next()) {
    if (record->kind == media::SpoolRecordKind::SenderReport) {
      if (record->payload.size() == kNtpBytes) {
        timeline.addSenderReport(record->ssrc, record->timestamp, loadBe64(record->payload));
        ++source.info_.sender_reports;
      }
      continue;
    }
    if (record->kind != media::SpoolRecordKind::Rtp ||
        record->payload_type != header.payload_type || record->payload.empty() ||
        record->arrival_epoch_us < 0 || record->arrival_epoch_us >= kMaxArrivalUs) {
      continue;
    }
    const int64_t arrival_ms = floorDiv(record->arrival_epoch_us, kMicrosPerMilli);
    if (!source.first_arrival_us_) {
      source.first_arrival_us_ = record->arrival_epoch_us;
      source.info_.first_packet_ms = arrival_ms;
    }
    source.last_arrival_us_ = record->arrival_epoch_us;
    source.info_.last_packet_ms = arrival_ms;
    if (!source.codec_) {
      continue;
    }
    Packet packet;
    packet.point = timeline.add(record->ssrc, record->timestamp, record->arrival_epoch_us);
    packet.payload_offset = reader.lastPayloadOffset();
    packet.payload_size = static_cast<uint32_t>(record->payload.size());
    packet.samples = expectedSamples(source.codec_->info(), record->payload);
    packet.ssrc = record->ssrc;
    packet.marker = record->marker;
    source.packets_.push_back(packet);
  }
  if (reader.end() == SpoolEnd::ReadError) {
    return fail("cannot read spool " + spool_path.string());
  }
  timeline.finish();
  source.info_.packets = source.packets_.size();
  source.info_.timeline_segments = static_cast<uint32_t>(timeline.segments().size());
  const TimelineSegment* longest = nullptr;
  for (const TimelineSegment& segment : timeline.segments()) {
    if (longest == nullptr || segment.packets > longest->packets) {
      longest = &segment;
    }
  }
  if (longest != nullptr) {
    source.info_.drift_ppm = (longest->rate_ratio - 1.0) * 1e6;
  }
  return source;
}

std::optional<int64_t> StreamSource::earliestEpochUs() const {
  if (!codec_ || packets_.empty()) {
    return first_arrival_us_;
  }
  const double tick_us = static_cast<double>(kMicrosPerSecond) / clock_rate_;
  std::optional<int64_t> earliest;
  for (const Packet& packet : packets_) {
    const TimelinePlacement placement = timeline_->placement(packet.point);
    const int64_t at =
        placement.anchor_epoch_us +
        std::llround(static_cast<double>(placement.ticks) * tick_us * placement.rate_ratio);
    if (!earliest || at < *earliest) {
      earliest = at;
    }
  }
  return earliest;
}

Result<int64_t> StreamSource::prepare(int64_t start_epoch_us, uint32_t output_rate_hz) {
  start_us_ = start_epoch_us;
  output_rate_ = output_rate_hz;
  if (!codec_) {
    if (!last_arrival_us_) {
      return int64_t{0};
    }
    return std::max<int64_t>(
        0, floorDiv((*last_arrival_us_ - start_epoch_us) * output_rate_hz, kMicrosPerSecond));
  }
  int64_t native_end = 0;
  for (Packet& packet : packets_) {
    packet.position =
        samplePosition(timeline_->placement(packet.point), start_epoch_us, clock_rate_, rate_);
    native_end = std::max(native_end, packet.position + packet.samples);
  }
  // Stable: of two packets at the same position the later arrival is applied last.
  std::stable_sort(packets_.begin(), packets_.end(),
                   [](const Packet& a, const Packet& b) { return a.position < b.position; });
  level_.emplace(rate_);
  if (rate_ != output_rate_hz) {
    auto resampler = SpeexResampler::create(rate_, output_rate_hz);
    if (!resampler) {
      return tl::unexpected(resampler.error());
    }
    resampler_.emplace(std::move(*resampler));
  }
  const int64_t rate = rate_;
  return (native_end * output_rate_hz + rate - 1) / rate;
}

Result<std::span<const std::byte>> StreamSource::readPayload(uint64_t offset, uint32_t size) {
  if (offset >= window_offset_ && offset + size <= window_offset_ + window_.size()) {
    return std::span<const std::byte>(window_).subspan(offset - window_offset_, size);
  }
  const uint64_t start = offset > kWindowBackBytes ? offset - kWindowBackBytes : 0;
  window_.resize(std::max<std::size_t>(kWindowBytes, offset + size - start));
  std::size_t done = 0;
  while (done < window_.size()) {
    const ssize_t got = ::pread(fd_.get(), window_.data() + done, window_.size() - done,
                                static_cast<off_t>(start + done));
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got < 0) {
      window_.clear();
      return fail(std::string("cannot read spool payload: ") + std::strerror(errno));
    }
    if (got == 0) {
      break;
    }
    done += static_cast<std::size_t>(got);
  }
  window_.resize(done);
  window_offset_ = start;
  if (offset + size > start + done) {
    return fail("spool shrank while rendering");
  }
  return std::span<const std::byte>(window_).subspan(offset - start, size);
}

void StreamSource::writePending(int64_t position, std::span<const int16_t> samples) {
  if (position < pending_base_) {
    const auto skip = static_cast<std::size_t>(
        std::min<int64_t>(pending_base_ - position, static_cast<int64_t>(samples.size())));
    samples = samples.subspan(skip);
    position += static_cast<int64_t>(skip);
  }
  if (samples.empty()) {
    return;
  }
  const auto offset = static_cast<std::size_t>(position - pending_base_);
  if (pending_.size() < offset + samples.size()) {
    pending_.resize(offset + samples.size(), 0);
  }
  std::copy(samples.begin(), samples.end(), pending_.begin() + static_cast<std::ptrdiff_t>(offset));
}

void StreamSource::downmixScratch(uint32_t channels) {
  if (channels <= 1) {
    return;
  }
  const std::size_t frames = scratch_.size() / channels;
  for (std::size_t i = 0; i < frames; ++i) {
    int32_t sum = 0;
    for (uint32_t c = 0; c < channels; ++c) {
      sum += scratch_[i * channels + c];
    }
    scratch_[i] = static_cast<int16_t>(sum / static_cast<int32_t>(channels));
  }
  scratch_.resize(frames);
}

Result<void> StreamSource::decodePacket(const Packet& packet) {
  auto payload = readPayload(packet.payload_offset, packet.payload_size);
  if (!payload) {
    return tl::unexpected(payload.error());
  }
  media::codecs::Codec& codec = *codec_;
  const uint32_t channels = std::max(codec.info().channels, 1U);
  if (decoded_end_ && last_ssrc_ == packet.ssrc && !packet.marker) {
    const int64_t gap = packet.position - *decoded_end_;
    const int64_t slip = std::max<int64_t>(rate_ / 1000, 1);
    if (gap > 0 && gap <= slip) {
      scratch_.assign(static_cast<std::size_t>(gap), last_sample_);
      writePending(*decoded_end_, scratch_);
    } else if (gap > 0 && gap <= kMaxConcealMs * rate_ / 1000) {
      scratch_.clear();
      codec.conceal(static_cast<std::size_t>(gap), scratch_);
      downmixScratch(channels);
      writePending(*decoded_end_, scratch_);
      ++info_.concealed_gaps;
    }
  }
  last_ssrc_ = packet.ssrc;
  scratch_.clear();
  auto decoded = codec.decode(*payload, scratch_);
  if (!decoded) {
    ++info_.undecodable_packets;
    decoded_end_ = packet.position + packet.samples;
    return {};
  }
  downmixScratch(channels);
  writePending(packet.position, scratch_);
  decoded_end_ = packet.position + static_cast<int64_t>(*decoded);
  if (!scratch_.empty()) {
    last_sample_ = scratch_.back();
  }
  return {};
}

Result<void> StreamSource::renderNative(int64_t from, int64_t to, std::span<int16_t> out) {
  // Decodes ahead by the concealment limit so that a gap's concealment exists before the
  // gap is rendered.
  const int64_t lookahead = kMaxConcealMs * rate_ / 1000;
  while (next_packet_ < packets_.size() && packets_[next_packet_].position < to + lookahead) {
    auto decoded = decodePacket(packets_[next_packet_]);
    if (!decoded) {
      return decoded;
    }
    ++next_packet_;
  }
  if (from > pending_base_) {
    const auto drop = static_cast<std::size_t>(
        std::min<int64_t>(from - pending_base_, static_cast<int64_t>(pending_.size())));
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(drop));
    pending_base_ = from;
  }
  const auto count = static_cast<std::size_t>(to - from);
  const std::size_t available = std::min(count, pending_.size());
  std::copy_n(pending_.begin(), available, out.begin());
  std::fill(out.begin() + static_cast<std::ptrdiff_t>(available),
            out.begin() + static_cast<std::ptrdiff_t>(count), int16_t{0});
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(available));
  pending_base_ = to;
  level_->add(out.first(count));
  return {};
}

Result<void> StreamSource::render(int64_t from, int64_t to, std::span<int16_t> out) {
  const auto count = static_cast<std::size_t>(to - from);
  if (!codec_) {
    std::fill_n(out.begin(), count, int16_t{0});
    return {};
  }
  if (!resampler_) {
    return renderNative(from, to, out);
  }
  std::size_t produced = 0;
  while (produced < count) {
    if (input_used_ == input_.size()) {
      input_.resize(kResamplerChunk);
      const auto chunk = static_cast<int64_t>(kResamplerChunk);
      auto rendered = renderNative(native_next_, native_next_ + chunk, input_);
      if (!rendered) {
        return rendered;
      }
      native_next_ += chunk;
      input_used_ = 0;
    }
    const ResampleStep step =
        resampler_->process(std::span<const int16_t>(input_).subspan(input_used_),
                            out.subspan(produced, count - produced));
    if (step.consumed == 0 && step.produced == 0) {
      return fail("resampler made no progress");
    }
    input_used_ += step.consumed;
    produced += step.produced;
  }
  return {};
}

void StreamSource::finishLevels() {
  if (level_) {
    info_.loudest_rms_dbfs = level_->loudestDbfs();
  }
}

}  // namespace siprecd::recording
