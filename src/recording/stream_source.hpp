#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "media/codecs/codec.hpp"
#include "media/rtp_types.hpp"
#include "recording/speex_resampler.hpp"
#include "recording/stream_timeline.hpp"
#include "recording/wav_renderer.hpp"

namespace siprecd::recording {

/// The RMS level of consecutive 1-second windows of a sample sequence; keeps the loudest.
class LevelMeter {
 public:
  explicit LevelMeter(uint32_t rate_hz) : window_(std::max<uint32_t>(rate_hz, 1)) {}
  /// Adds the next samples.
  void add(std::span<const int16_t> samples);
  /// The loudest window's RMS in dBFS, counting the unfinished window; floor
  /// RenderedStream::kSilentDbfs.
  double loudestDbfs() const;

 private:
  uint32_t window_;
  uint32_t filled_ = 0;
  uint64_t sum_squares_ = 0;
  double loudest_mean_square_ = 0;
};

/// One stream of a recording being rendered (renderRecording's building block).
/// Pass 1 (open) reads the spool once and keeps, per audio packet of the stream's codec,
/// only its timeline point and payload offset, and feeds RTCP sender-report records to the
/// StreamTimeline; other record kinds and payload types (telephone-event, comfort noise)
/// are skipped. Pass 2 (prepare, then render block after block) decodes the packets in
/// timeline order through media::codecs (payloads read back in large sequential windows),
/// places them at the stream's decoded rate and converts to the output rate with
/// SpeexResampler. Gaps are silence, except: a hole of at most 1 ms between packets of one
/// talk spurt (clock-drift slip) repeats the last sample, and a gap of at most 100 ms inside
/// a talk spurt (same SSRC, no marker bit) is filled by the codec's loss concealment (Opus
/// / G.729 PLC). Of two packets at the same place the later-arriving one wins.
/// Memory: ~40 bytes per packet plus a few blocks. Worker pool; one thread; move-only.
class StreamSource {
 public:
  /// Longest gap inside a talk spurt filled by the codec's loss concealment.
  static constexpr int64_t kMaxConcealMs = 100;

  /// Pass 1 for the spool at `spool_path` (`index` names the stream in messages). A
  /// missing spool (the stream received no packet), one that ends inside its header or
  /// holds no packet gives a silent source; a codec this build cannot decode gives a silent
  /// source whose info().error says why; a torn or corrupt tail is ignored. Fails, naming
  /// the path, when the spool exists but cannot be opened or read, or its clock rate is 0.
  [[nodiscard]] static Result<StreamSource> open(const std::filesystem::path& spool_path,
                                                 std::size_t index);

  /// What is known of the stream (complete after the last render() and finishLevels()).
  const RenderedStream& info() const { return info_; }
  /// Rate of the decoded audio; 0 when nothing can be decoded.
  uint32_t decodedRate() const { return codec_ ? rate_ : 0; }
  /// Wall-clock time (epoch µs) of the stream's earliest sample: of its earliest placed
  /// packet, or its first arrival when not decodable; nullopt when it has no packet.
  std::optional<int64_t> earliestEpochUs() const;

  /// Pass 2 set-up: the timeline starts at `start_epoch_us` and is rendered at
  /// `output_rate_hz`. Returns the output samples the stream's audio reaches (the end of
  /// its last packet; of its last arrival when not decodable; 0 without packets). Once.
  [[nodiscard]] Result<int64_t> prepare(int64_t start_epoch_us, uint32_t output_rate_hz);

  /// Writes output samples [from, to) to `out` (to - from samples), silence where the
  /// stream has no audio. Call with consecutive ranges from 0. Fails when the spool cannot
  /// be read back.
  [[nodiscard]] Result<void> render(int64_t from, int64_t to, std::span<int16_t> out);

  /// Stores the level measured so far in info().loudest_rms_dbfs.
  void finishLevels();

 private:
  struct Packet {
    TimelinePoint point;
    int64_t position = 0;  ///< first sample, decoded rate, from the timeline start
    uint64_t payload_offset = 0;
    uint32_t payload_size = 0;
    uint32_t samples = 0;  ///< expected decoded samples per channel
    media::Ssrc ssrc;
    bool marker = false;
  };

  StreamSource() = default;

  /// Reads `size` payload bytes at `offset` through the read-ahead window.
  Result<std::span<const std::byte>> readPayload(uint64_t offset, uint32_t size);
  /// Decodes the next packet (in position order) into pending_.
  Result<void> decodePacket(const Packet& packet);
  /// Writes mono samples at decoded-rate position `position` into pending_.
  void writePending(int64_t position, std::span<const int16_t> samples);
  /// Down-mixes scratch_ (interleaved `channels`) to mono in place.
  void downmixScratch(uint32_t channels);
  /// Writes decoded-rate samples [from, to) (consecutive ranges) to `out`.
  Result<void> renderNative(int64_t from, int64_t to, std::span<int16_t> out);

  RenderedStream info_;
  std::unique_ptr<media::codecs::Codec> codec_;  ///< null: renders as silence
  uint32_t clock_rate_ = 8000;
  uint32_t rate_ = 8000;  ///< decoded sample rate
  uint32_t output_rate_ = 8000;
  std::optional<StreamTimeline> timeline_;
  std::vector<Packet> packets_;
  std::optional<int64_t> first_arrival_us_;
  std::optional<int64_t> last_arrival_us_;
  int64_t start_us_ = 0;

  // Pass 2: payloads.
  UniqueFd fd_;
  std::vector<std::byte> window_;
  uint64_t window_offset_ = 0;

  // Pass 2: decoding in position order into pending_ = samples [pending_base_, ...).
  std::size_t next_packet_ = 0;
  std::vector<int16_t> pending_;
  int64_t pending_base_ = 0;
  std::optional<int64_t> decoded_end_;
  std::optional<media::Ssrc> last_ssrc_;
  int16_t last_sample_ = 0;
  std::vector<int16_t> scratch_;
  std::optional<LevelMeter> level_;

  // Pass 2 when rate_ != output rate: decoded samples not yet consumed by the resampler.
  std::optional<SpeexResampler> resampler_;
  std::vector<int16_t> input_;
  std::size_t input_used_ = 0;
  int64_t native_next_ = 0;
};

}  // namespace siprecd::recording
