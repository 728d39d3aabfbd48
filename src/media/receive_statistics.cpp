#include "media/receive_statistics.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace siprecd::media {

void ReceiveStatistics::onPacket(const RtpPacket& packet, int64_t arrival_epoch_us) {
  accountGap(arrival_epoch_us);

  // RFC 3550 §8.2: a new SSRC is a new source with its own sequence and timestamp spaces.
  if (ssrc_ && *ssrc_ != packet.ssrc()) {
    ++ssrc_changes_;
    endSequenceEpoch();
  }
  ssrc_ = packet.ssrc();

  const bool in_order = accountSequence(packet.sequenceNumber(), arrival_epoch_us);
  if (format_.telephone_event_pt && packet.payloadType() == *format_.telephone_event_pt) {
    accountTelephoneEvent(packet);
  } else if (in_order) {
    accountJitter(packet, arrival_epoch_us);
  }
}

void ReceiveStatistics::accountGap(int64_t arrival_epoch_us) {
  if (last_arrival_us_) {
    const int64_t gap_us = arrival_epoch_us - *last_arrival_us_;
    longest_gap_us_ = std::max(longest_gap_us_, gap_us);
    if (gap_us > kLongGapUs) {
      ++gaps_over_200ms_;
      if (gaps_.size() < StreamStats::kMaxListedGaps) {
        if (gaps_.empty()) {
          gaps_.reserve(StreamStats::kMaxListedGaps);
        }
        gaps_.push_back(ArrivalGap{*last_arrival_us_ / 1000, gap_us / 1000});
      }
    }
  }
  last_arrival_us_ = arrival_epoch_us;
}

void ReceiveStatistics::endSequenceEpoch() {
  if (in_epoch_) {
    expected_done_ += static_cast<uint64_t>(highest_ext_ - base_ext_ + 1);
    received_done_ += received_;
  }
  in_epoch_ = false;
  received_ = 0;
  recent_.reset();
  bad_seq_.reset();
  seq_unwrapper_.reset();
  previous_arrival_units_.reset();
  event_timestamp_.reset();
  event_ended_ = true;
}

void ReceiveStatistics::startSequenceEpoch(SeqNum seq, int64_t count, int64_t arrival_epoch_us) {
  seq_unwrapper_.reset();
  highest_ext_ = seq_unwrapper_.unwrap(seq);
  highest_arrival_us_ = arrival_epoch_us;
  base_ext_ = highest_ext_ - (count - 1);
  received_ = static_cast<uint64_t>(count);
  recent_.reset();
  for (int64_t i = 0; i < count; ++i) {
    recent_.set(static_cast<std::size_t>(i));
  }
  bad_seq_.reset();
  in_epoch_ = true;
}

// RFC 3550 A.1 update_seq(), on extended sequence numbers: ahead by less than MAX_DROPOUT
// is in order (the skipped numbers are missing until they arrive late); up to MAX_MISORDER
// behind is late or a duplicate; anything else is a jump, taken as a restart of the
// sender's sequence when the next packet follows it.
bool ReceiveStatistics::accountSequence(SeqNum seq, int64_t arrival_epoch_us) {
  if (!in_epoch_) {
    startSequenceEpoch(seq, 1, arrival_epoch_us);
    return true;
  }
  const int64_t ext = seq_unwrapper_.unwrap(seq);
  const int64_t delta = ext - highest_ext_;
  if (delta > 0 && delta < kMaxDropout) {
    if (delta >= kRecentWindow) {
      recent_.reset();
    } else {
      recent_ <<= static_cast<std::size_t>(delta);
    }
    recent_.set(0);
    highest_ext_ = ext;
    highest_arrival_us_ = arrival_epoch_us;
    ++received_;
    bad_seq_.reset();
    return true;
  }
  if (delta <= 0 && delta >= -kMaxMisorder) {
    const auto behind = static_cast<std::size_t>(-delta);
    if (recent_.test(behind)) {
      ++duplicates_;
      return false;
    }
    recent_.set(behind);
    ++received_;
    ++reordered_;
    if (arrival_epoch_us - highest_arrival_us_ > kLateUs) {
      ++late_;
    }
    base_ext_ = std::min(base_ext_, ext);
    return false;
  }
  if (bad_seq_ && seq == *bad_seq_) {
    endSequenceEpoch();
    ++sequence_restarts_;
    startSequenceEpoch(seq, 2, arrival_epoch_us);
    return true;
  }
  bad_seq_ = seq.advancedBy(1);
  return false;
}

// RFC 3550 A.8: D = (arrival_i - arrival_j) - (ts_i - ts_j) in timestamp units between
// consecutive in-order packets; J += (|D| - J) / 16.
void ReceiveStatistics::accountJitter(const RtpPacket& packet, int64_t arrival_epoch_us) {
  if (format_.clock_rate_hz == 0) {
    return;
  }
  if (!first_arrival_us_) {
    first_arrival_us_ = arrival_epoch_us;
  }
  const int64_t arrival_units = (arrival_epoch_us - *first_arrival_us_) *
                                static_cast<int64_t>(format_.clock_rate_hz) / 1'000'000;
  if (previous_arrival_units_) {
    const int64_t transit_change = (arrival_units - *previous_arrival_units_) -
                                   packet.timestamp().distanceFrom(previous_timestamp_);
    jitter_ += (std::fabs(static_cast<double>(transit_change)) - jitter_) / 16.0;
    max_jitter_ = std::max(max_jitter_, jitter_);
  }
  previous_arrival_units_ = arrival_units;
  previous_timestamp_ = packet.timestamp();
}

// RFC 4733 §2.3: event (8 bits), E (end) bit, R, volume (6 bits), duration (16 bits). All
// packets of one event carry the event's start as RTP timestamp, and the final packet is
// sent three times (§2.5.1.4), so an event is a telephone-event packet with a newer
// timestamp. A long event is cut into segments with new timestamps but no marker bit
// (§2.5.1.3); such a segment, same event and the previous one not ended, is not a new one.
void ReceiveStatistics::accountTelephoneEvent(const RtpPacket& packet) {
  const auto payload = packet.payload();
  if (payload.size() < 4) {
    return;
  }
  const auto code = static_cast<uint8_t>(payload[0]);
  const bool ended = (static_cast<uint8_t>(payload[1]) & 0x80) != 0;
  const RtpTimestamp timestamp = packet.timestamp();
  if (event_timestamp_ && !timestamp.isNewerThan(*event_timestamp_)) {
    if (timestamp == *event_timestamp_ && ended) {
      event_ended_ = true;
    }
    return;
  }
  const bool segment = event_timestamp_ && !event_ended_ && code == event_code_ && !packet.marker();
  if (!segment) {
    ++dtmf_events_;
  }
  event_timestamp_ = timestamp;
  event_code_ = code;
  event_ended_ = ended;
}

void ReceiveStatistics::report(StreamStats& stats) const {
  uint64_t expected = expected_done_;
  uint64_t received = received_done_;
  if (in_epoch_) {
    expected += static_cast<uint64_t>(highest_ext_ - base_ext_ + 1);
    received += received_;
    stats.extended_highest_seq = static_cast<uint32_t>(highest_ext_);
  }
  stats.expected = expected;
  stats.lost = expected > received ? expected - received : 0;
  stats.duplicates = duplicates_;
  stats.reordered = reordered_;
  stats.late = late_;
  stats.sequence_restarts = sequence_restarts_;
  stats.ssrc_changes = ssrc_changes_;
  const double ms_per_unit =
      format_.clock_rate_hz == 0 ? 0.0 : 1000.0 / static_cast<double>(format_.clock_rate_hz);
  stats.jitter_ms = jitter_ * ms_per_unit;
  stats.max_jitter_ms = max_jitter_ * ms_per_unit;
  stats.gaps_over_200ms = gaps_over_200ms_;
  stats.longest_gap_ms = static_cast<uint64_t>(longest_gap_us_ / 1000);
  stats.gaps = gaps_;
  stats.dtmf_events = dtmf_events_;
}

}  // namespace siprecd::media
