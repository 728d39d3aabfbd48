#include "recording/stream_timeline.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <utility>

namespace siprecd::recording {

namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;

/// a * b / c rounded to nearest (ties away from zero). Callers keep |a| below ~2^42 and
/// b, c below 2^20, so the product fits.
int64_t scaleRounded(int64_t a, int64_t b, int64_t c) {
  const int64_t product = a * b;
  const int64_t half = c / 2;
  return product >= 0 ? (product + half) / c : (product - half) / c;
}

struct Point {
  double x = 0;  ///< timestamp time, µs since the segment's first timestamp
  double y = 0;  ///< arrival minus timestamp time, µs (relative to a reference)
};

/// Cross product of (b - a) and (c - a): > 0 when a, b, c turn counter-clockwise.
double cross(const Point& a, const Point& b, const Point& c) {
  return (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x);
}

/// The lower convex hull of `points` sorted by x (then y), left to right; of points with
/// the same x only the lowest counts (monotone chain).
std::vector<Point> lowerHull(const std::vector<Point>& points) {
  std::vector<Point> hull;
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (i > 0 && points[i].x == points[i - 1].x) {
      continue;
    }
    while (hull.size() >= 2 && cross(hull[hull.size() - 2], hull.back(), points[i]) <= 0) {
      hull.pop_back();
    }
    hull.push_back(points[i]);
  }
  return hull;
}

}  // namespace

int64_t ntpToMicros(uint64_t ntp_timestamp) {
  const auto seconds = static_cast<int64_t>(ntp_timestamp >> 32U);
  const uint64_t fraction = ntp_timestamp & 0xFFFFFFFFU;
  return seconds * kMicrosPerSecond +
         static_cast<int64_t>((fraction * static_cast<uint64_t>(kMicrosPerSecond)) >> 32U);
}

StreamTimeline::StreamTimeline(uint32_t clock_rate_hz)
    : clock_rate_hz_(std::max<uint32_t>(clock_rate_hz, 1)) {}

StreamTimeline::Source* StreamTimeline::findSource(media::Ssrc ssrc) {
  for (Source& source : sources_) {
    if (source.ssrc == ssrc) {
      return &source;
    }
  }
  return nullptr;
}

StreamTimeline::Source& StreamTimeline::newSource(media::Ssrc ssrc) {
  Source fresh;
  fresh.ssrc = ssrc;
  fresh.last_used = use_counter_;
  if (sources_.size() < kMaxSources) {
    sources_.push_back(fresh);
    return sources_.back();
  }
  Source& oldest =
      *std::min_element(sources_.begin(), sources_.end(),
                        [](const Source& a, const Source& b) { return a.last_used < b.last_used; });
  oldest = fresh;
  return oldest;
}

void StreamTimeline::startSegment(Source& source, int64_t ticks) {
  source.segment = static_cast<uint32_t>(segments_.size());
  source.base_ticks = ticks;
  TimelineSegment segment;
  segment.ssrc = source.ssrc;
  segments_.push_back(segment);
  data_.emplace_back();
}

int64_t StreamTimeline::offsetUs(int64_t ticks, int64_t arrival_epoch_us) const {
  return arrival_epoch_us - scaleRounded(ticks, kMicrosPerSecond, clock_rate_hz_);
}

TimelinePoint StreamTimeline::add(media::Ssrc ssrc, media::RtpTimestamp timestamp,
                                  int64_t arrival_epoch_us) {
  ++use_counter_;
  Source* found = findSource(ssrc);
  const bool is_new = found == nullptr;
  Source& source = is_new ? newSource(ssrc) : *found;
  source.last_used = use_counter_;
  const int64_t ticks = source.unwrapper.unwrap(timestamp);
  bool split = is_new;
  if (!is_new) {
    const int64_t timestamp_step_us =
        scaleRounded(ticks - source.last_ticks, kMicrosPerSecond, clock_rate_hz_);
    const int64_t arrival_step_us = arrival_epoch_us - source.last_arrival_us;
    split = std::llabs(timestamp_step_us - arrival_step_us) > kMaxStepDeviation.count();
    if (!split) {
      const SegmentData& data = data_[source.segment];
      const int64_t offset = offsetUs(ticks - source.base_ticks, arrival_epoch_us);
      split = std::max(data.max_offset_us, offset) - std::min(data.min_offset_us, offset) >
              kMaxDeviation.count();
    }
  }
  if (split) {
    startSegment(source, ticks);
  }
  source.last_ticks = ticks;
  source.last_arrival_us = arrival_epoch_us;

  const int64_t relative = ticks - source.base_ticks;
  const int64_t offset = offsetUs(relative, arrival_epoch_us);
  SegmentData& data = data_[source.segment];
  if (data.ticks.empty()) {
    data.min_offset_us = offset;
    data.max_offset_us = offset;
  } else {
    data.min_offset_us = std::min(data.min_offset_us, offset);
    data.max_offset_us = std::max(data.max_offset_us, offset);
  }
  data.ticks.push_back(relative);
  data.arrivals_us.push_back(arrival_epoch_us);
  ++segments_[source.segment].packets;
  return TimelinePoint{source.segment, relative};
}

void StreamTimeline::addSenderReport(media::Ssrc ssrc, media::RtpTimestamp rtp_timestamp,
                                     uint64_t ntp_timestamp) {
  Source* source = findSource(ssrc);
  if (source == nullptr || ntp_timestamp == 0) {
    return;
  }
  // Unwrapped against the source's last packet without moving its unwrapper.
  const int64_t ticks =
      source->last_ticks +
      rtp_timestamp.distanceFrom(media::RtpTimestamp(static_cast<uint32_t>(source->last_ticks)));
  SegmentData& data = data_[source->segment];
  data.report_ticks.push_back(ticks - source->base_ticks);
  data.report_ntp_us.push_back(ntpToMicros(ntp_timestamp));
  ++segments_[source->segment].sender_reports;
}

void StreamTimeline::finish() {
  for (std::size_t i = 0; i < segments_.size(); ++i) {
    fit(segments_[i], data_[i]);
    data_[i] = SegmentData{};
  }
}

void StreamTimeline::fit(TimelineSegment& segment, SegmentData& data) const {
  if (data.ticks.empty()) {
    return;
  }
  if (!fitFromSenderReports(segment, data)) {
    fitFromArrivals(segment, data);
  }
}

bool StreamTimeline::fitFromSenderReports(TimelineSegment& segment, const SegmentData& data) const {
  if (data.report_ticks.size() < 2) {
    return false;
  }
  const auto [first, last] =
      std::minmax_element(data.report_ticks.begin(), data.report_ticks.end());
  const auto first_index = static_cast<std::size_t>(first - data.report_ticks.begin());
  const auto last_index = static_cast<std::size_t>(last - data.report_ticks.begin());
  const double tick_us = static_cast<double>(kMicrosPerSecond) / clock_rate_hz_;
  const double report_span_us = static_cast<double>(*last - *first) * tick_us;
  const auto [min_ticks, max_ticks] = std::minmax_element(data.ticks.begin(), data.ticks.end());
  const double packet_span_us = static_cast<double>(*max_ticks - *min_ticks) * tick_us;
  if (report_span_us < static_cast<double>(kMinDriftSpan.count()) ||
      report_span_us < packet_span_us / 2) {
    return false;
  }
  const auto ntp_span_us =
      static_cast<double>(data.report_ntp_us[last_index] - data.report_ntp_us[first_index]);
  const double ratio = ntp_span_us / report_span_us;
  if (!(std::fabs(ratio - 1.0) <= kMaxDrift)) {
    return false;
  }
  for (std::size_t i = 0; i < data.report_ticks.size(); ++i) {
    const double expected = static_cast<double>(data.report_ticks[i] - *first) * tick_us * ratio;
    const auto actual =
        static_cast<double>(data.report_ntp_us[i] - data.report_ntp_us[first_index]);
    if (std::fabs(actual - expected) > static_cast<double>(kSenderReportTolerance.count())) {
      return false;
    }
  }
  // The anchor: the line of this slope under every arrival.
  const int64_t reference = data.arrivals_us.front();
  double lowest = std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < data.ticks.size(); ++i) {
    const double x = static_cast<double>(data.ticks[i]) * tick_us;
    lowest = std::min(lowest, static_cast<double>(data.arrivals_us[i] - reference) - x * ratio);
  }
  segment.anchor_epoch_us = reference + std::llround(lowest);
  segment.rate_ratio = ratio;
  segment.drift_source = DriftSource::SenderReports;
  return true;
}

void StreamTimeline::fitFromArrivals(TimelineSegment& segment, const SegmentData& data) const {
  const double tick_us = static_cast<double>(kMicrosPerSecond) / clock_rate_hz_;
  const int64_t reference = data.arrivals_us.front();
  std::vector<Point> points(data.ticks.size());
  double mean_x = 0;
  double min_x = std::numeric_limits<double>::infinity();
  double max_x = -min_x;
  for (std::size_t i = 0; i < points.size(); ++i) {
    points[i].x = static_cast<double>(data.ticks[i]) * tick_us;
    points[i].y = static_cast<double>(data.arrivals_us[i] - reference) - points[i].x;
    mean_x += points[i].x;
    min_x = std::min(min_x, points[i].x);
    max_x = std::max(max_x, points[i].x);
  }
  mean_x /= static_cast<double>(points.size());
  double slope = 0;
  segment.drift_source = DriftSource::None;
  if (max_x - min_x >= static_cast<double>(kMinDriftSpan.count())) {
    std::sort(points.begin(), points.end(), [](const Point& a, const Point& b) {
      return a.x < b.x || (a.x == b.x && a.y < b.y);
    });
    const std::vector<Point> hull = lowerHull(points);
    for (std::size_t i = 0; i + 1 < hull.size(); ++i) {
      if (hull[i].x <= mean_x && mean_x <= hull[i + 1].x) {
        slope = (hull[i + 1].y - hull[i].y) / (hull[i + 1].x - hull[i].x);
        break;
      }
    }
    slope = std::clamp(slope, -kMaxDrift, kMaxDrift);
    segment.drift_source = DriftSource::Arrivals;
  }
  // The line of this slope under every point (on the hull, exactly its edge).
  double lowest = std::numeric_limits<double>::infinity();
  for (const Point& point : points) {
    lowest = std::min(lowest, point.y - slope * point.x);
  }
  segment.anchor_epoch_us = reference + std::llround(lowest);
  segment.rate_ratio = 1.0 + slope;
}

TimelinePlacement StreamTimeline::placement(TimelinePoint point) const {
  const TimelineSegment& segment = segments_[point.segment];
  return TimelinePlacement{segment.anchor_epoch_us, point.ticks, segment.rate_ratio};
}

int64_t samplePosition(const TimelinePlacement& placement, int64_t start_epoch_us,
                       uint32_t clock_rate_hz, uint32_t output_rate_hz) {
  const uint32_t clock = std::max<uint32_t>(clock_rate_hz, 1);
  const int64_t anchor_samples =
      scaleRounded(placement.anchor_epoch_us - start_epoch_us, output_rate_hz, kMicrosPerSecond);
  int64_t tick_samples = 0;
  if (placement.rate_ratio == 1.0) {
    tick_samples = output_rate_hz == clock ? placement.ticks
                                           : scaleRounded(placement.ticks, output_rate_hz, clock);
  } else {
    tick_samples =
        std::llround(static_cast<double>(placement.ticks) *
                     (static_cast<double>(output_rate_hz) / clock) * placement.rate_ratio);
  }
  return anchor_samples + tick_samples;
}

}  // namespace siprecd::recording
