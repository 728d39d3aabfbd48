#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <vector>

#include "media/rtp_packet.hpp"
#include "media/rtp_types.hpp"
#include "media/stream_stats.hpp"

namespace siprecd::media {

/// What the receive statistics need to know about a stream's media format (from the SDP).
struct ReceiveFormat {
  /// RTP clock rate of the stream's audio, Hz (RFC 3550 §5.1); 0 when unknown, which
  /// disables the jitter estimate.
  uint32_t clock_rate_hz = 0;
  /// Payload type of RFC 4733 telephone-event, when negotiated: its packets are counted as
  /// DTMF events and left out of the jitter estimate.
  std::optional<uint8_t> telephone_event_pt;
};

/// Per-stream RTP receive quality, fed with every packet the stream accepts (after the
/// source latch), in arrival order:
/// - sequence accounting after RFC 3550 A.1 and A.3: extended highest sequence number,
///   expected and lost packets, with duplicates (a 128-entry window of recent sequence
///   numbers) and reordered packets (arrived after a higher one; "late" when more than
///   kLateUs after the highest one's arrival) counted apart; a jump of
///   MAX_DROPOUT ahead or more than MAX_MISORDER behind is a restart once the next packet
///   follows it (A.1 `bad_seq`), otherwise that stray packet is left out of the accounting.
///   Deviation from A.1: there is no probation for a new source, since the source is
///   already latched and every accepted packet is recorded, so every packet counts;
/// - interarrival jitter per RFC 3550 A.8 (RTP timestamp units internally), over in-order
///   packets that are not telephone events;
/// - SSRC changes: each restarts the sequence, jitter-transit and DTMF state (the totals
///   carry on, summed over every SSRC and sequence restart);
/// - arrival gaps between consecutive packets (the first StreamStats::kMaxListedGaps over
///   kLongGapUs listed with their start), and RFC 4733 telephone events.
/// Lives on the stream's media thread; no allocation per packet (the gap list allocates
/// once, at the first long gap).
class ReceiveStatistics {
 public:
  /// RFC 3550 A.1: the largest forward jump taken as loss rather than a restart.
  static constexpr int64_t kMaxDropout = 3000;
  /// RFC 3550 A.1: how far behind the highest a packet may arrive and still be late.
  static constexpr int64_t kMaxMisorder = 100;
  /// Sequence numbers remembered for duplicate detection (>= kMaxMisorder + 1).
  static constexpr int kRecentWindow = 128;
  /// An arrival gap longer than this is counted in gaps_over_200ms (and listed).
  static constexpr int64_t kLongGapUs = 200'000;
  /// A reordered packet arriving more than this after the highest sequence number's
  /// packet is late (StreamStats::late): a 60 ms playout buffer would have dropped it.
  static constexpr int64_t kLateUs = 60'000;

  explicit ReceiveStatistics(ReceiveFormat format = {}) : format_(format) {}

  /// Changes the format for the packets to come (e.g. before the first packet).
  void setFormat(ReceiveFormat format) { format_ = format; }
  /// Accounts one accepted RTP packet that arrived at `arrival_epoch_us` (wall clock,
  /// microseconds; a clock stepping back only makes one gap not count).
  void onPacket(const RtpPacket& packet, int64_t arrival_epoch_us);
  /// Writes the quality fields of `stats` (see StreamStats) from the counts so far.
  void report(StreamStats& stats) const;

 private:
  /// Closes the current sequence epoch into the totals and forgets sequence state.
  void endSequenceEpoch();
  /// Starts a sequence epoch whose first packets are `count` packets ending at `seq`, the
  /// last of them arrived at `arrival_epoch_us`.
  void startSequenceEpoch(SeqNum seq, int64_t count, int64_t arrival_epoch_us);
  /// Sequence accounting; returns whether the packet came in order (a new highest).
  bool accountSequence(SeqNum seq, int64_t arrival_epoch_us);
  void accountGap(int64_t arrival_epoch_us);
  void accountJitter(const RtpPacket& packet, int64_t arrival_epoch_us);
  void accountTelephoneEvent(const RtpPacket& packet);

  ReceiveFormat format_;

  // Totals over every finished sequence epoch.
  uint64_t expected_done_ = 0;
  uint64_t received_done_ = 0;

  // Current sequence epoch (one SSRC, no restart).
  std::optional<Ssrc> ssrc_;
  SeqNumUnwrapper seq_unwrapper_;
  bool in_epoch_ = false;
  int64_t base_ext_ = 0;               ///< lowest extended seq of the epoch
  int64_t highest_ext_ = 0;            ///< highest extended seq of the epoch
  uint64_t received_ = 0;              ///< distinct sequence numbers received in the epoch
  std::bitset<kRecentWindow> recent_;  ///< bit i: highest_ext_ - i was received
  std::optional<SeqNum> bad_seq_;      ///< A.1: the seq that would confirm a restart
  int64_t highest_arrival_us_ = 0;     ///< arrival of the highest_ext_ packet

  // Counters.
  uint64_t duplicates_ = 0;
  uint64_t reordered_ = 0;
  uint64_t late_ = 0;
  uint64_t sequence_restarts_ = 0;
  uint64_t ssrc_changes_ = 0;
  uint64_t gaps_over_200ms_ = 0;
  int64_t longest_gap_us_ = 0;
  std::vector<ArrivalGap> gaps_;
  uint64_t dtmf_events_ = 0;

  // Jitter (RFC 3550 A.8), in RTP timestamp units. Arrival times are converted to those
  // units from the stream's first arrival; the previous in-order packet's arrival and RTP
  // timestamp give the transit difference D without unwrapping either.
  std::optional<int64_t> first_arrival_us_;
  std::optional<int64_t> previous_arrival_units_;
  RtpTimestamp previous_timestamp_;
  double jitter_ = 0;
  double max_jitter_ = 0;

  std::optional<int64_t> last_arrival_us_;

  // RFC 4733 event state of the current SSRC.
  std::optional<RtpTimestamp> event_timestamp_;
  uint8_t event_code_ = 0;
  bool event_ended_ = true;
};

}  // namespace siprecd::media
