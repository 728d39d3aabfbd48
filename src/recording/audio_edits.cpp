#include "recording/audio_edits.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <numeric>
#include <string>

namespace siprecd::recording {

namespace {

/// Offsets beyond ±2^40 ms (35 years) are clamped there: far outside any timeline, and
/// the product with a sample rate cannot overflow.
constexpr int64_t kMaxOffsetMs = int64_t{1} << 40;

int64_t floorDiv(int64_t value, int64_t divisor) {
  const int64_t quotient = value / divisor;
  return (value % divisor != 0 && value < 0) ? quotient - 1 : quotient;
}

Result<void> checkSpan(const TimeSpan& span, const std::string& field) {
  if (span.from_ms < 0) {
    return fail(field + ".from must not be negative", 400);
  }
  if (span.to_ms < 0) {
    return fail(field + ".to must not be negative", 400);
  }
  if (span.from_ms >= span.to_ms) {
    return fail(field + ".from must be before " + field + ".to", 400);
  }
  return {};
}

}  // namespace

int64_t sampleIndex(int64_t t_ms, int64_t start_ms, uint32_t rate_hz) {
  const int64_t offset = t_ms >= 0 && start_ms >= 0
                             ? std::clamp(t_ms - start_ms, -kMaxOffsetMs, kMaxOffsetMs)
                             : std::clamp(t_ms, -kMaxOffsetMs, kMaxOffsetMs) -
                                   std::clamp(start_ms, -kMaxOffsetMs, kMaxOffsetMs);
  return floorDiv(offset * static_cast<int64_t>(rate_hz), 1000);
}

SampleRange sampleRange(const TimeSpan& span, int64_t start_ms, uint32_t rate_hz,
                        int64_t total_samples) {
  SampleRange range;
  range.begin = std::clamp<int64_t>(sampleIndex(span.from_ms, start_ms, rate_hz), 0, total_samples);
  range.end = std::clamp<int64_t>(sampleIndex(span.to_ms, start_ms, rate_hz), 0, total_samples);
  if (range.end < range.begin) {
    range.end = range.begin;
  }
  return range;
}

Result<void> validateSpans(const RecordingRenderRequest& request) {
  for (std::size_t i = 0; i < request.pauses.size(); ++i) {
    if (auto checked = checkSpan(request.pauses[i], "pauses[" + std::to_string(i) + "]");
        !checked) {
      return checked;
    }
  }
  for (std::size_t i = 0; i < request.masks.size(); ++i) {
    if (auto checked = checkSpan(request.masks[i].span, "masks[" + std::to_string(i) + "]");
        !checked) {
      return checked;
    }
  }
  if (request.trim) {
    return checkSpan(*request.trim, "trim");
  }
  return {};
}

EditPlan::EditPlan(const RecordingRenderRequest& request, int64_t start_ms, uint32_t rate_hz,
                   int64_t total_samples) {
  for (const TimeSpan& pause : request.pauses) {
    const SampleRange range = sampleRange(pause, start_ms, rate_hz, total_samples);
    if (!range.empty()) {
      edits_.push_back(Edit{range, MaskKind::Silence});
    }
  }
  bool beeps = false;
  for (const Mask& mask : request.masks) {
    const SampleRange range = sampleRange(mask.span, start_ms, rate_hz, total_samples);
    if (!range.empty()) {
      edits_.push_back(Edit{range, mask.kind});
      beeps = beeps || mask.kind == MaskKind::Beep;
    }
  }
  if (beeps && rate_hz > 0) {
    // sin(2π f n / rate) repeats after rate / gcd(rate, f) samples.
    const auto frequency = static_cast<uint32_t>(kBeepFrequencyHz);
    const uint32_t period = rate_hz / std::gcd(rate_hz, frequency);
    beep_period_.resize(period);
    for (uint32_t n = 0; n < period; ++n) {
      beep_period_[n] = static_cast<int16_t>(
          std::lround(kBeepAmplitude * std::sin(2.0 * std::numbers::pi * kBeepFrequencyHz * n /
                                                static_cast<double>(rate_hz))));
    }
  }
}

void EditPlan::apply(int64_t first_sample, std::span<int16_t> frames, uint32_t channels) const {
  if (channels == 0) {
    return;
  }
  const auto count = static_cast<int64_t>(frames.size() / channels);
  const int64_t last = first_sample + count;
  for (const Edit& edit : edits_) {
    const int64_t begin = std::max(edit.range.begin, first_sample);
    const int64_t end = std::min(edit.range.end, last);
    if (begin >= end) {
      continue;
    }
    auto frame = frames.begin() + static_cast<std::ptrdiff_t>((begin - first_sample) * channels);
    if (edit.kind == MaskKind::Silence) {
      std::fill_n(frame, (end - begin) * channels, int16_t{0});
      continue;
    }
    const auto period = static_cast<int64_t>(beep_period_.size());
    for (int64_t n = begin; n < end; ++n) {
      const int16_t value = beep_period_[static_cast<std::size_t>((n - edit.range.begin) % period)];
      std::fill_n(frame, channels, value);
      frame += channels;
    }
  }
}

}  // namespace siprecd::recording
