#include "recording/channel_layout.hpp"

#include <algorithm>
#include <limits>

namespace siprecd::recording {

uint32_t channelCount(ChannelLayout layout, std::size_t streams) {
  switch (layout) {
    case ChannelLayout::Stereo:
      return 2;
    case ChannelLayout::Mono:
      return 1;
    case ChannelLayout::Multitrack:
      break;
  }
  return static_cast<uint32_t>(std::max<std::size_t>(streams, 1));
}

std::vector<uint32_t> assignChannels(ChannelLayout layout, std::span<const StreamSide> sides) {
  std::vector<uint32_t> channels(sides.size(), 0);
  if (layout == ChannelLayout::Mono) {
    return channels;
  }
  if (layout == ChannelLayout::Multitrack) {
    for (std::size_t i = 0; i < sides.size(); ++i) {
      channels[i] = static_cast<uint32_t>(i);
    }
    return channels;
  }
  std::size_t left = 0;
  std::size_t right = 0;
  for (const StreamSide side : sides) {
    left += side == StreamSide::Left ? 1 : 0;
    right += side == StreamSide::Right ? 1 : 0;
  }
  for (std::size_t i = 0; i < sides.size(); ++i) {
    StreamSide side = sides[i];
    if (side == StreamSide::Unknown) {
      side = left <= right ? StreamSide::Left : StreamSide::Right;
      (side == StreamSide::Left ? left : right) += 1;
    }
    channels[i] = side == StreamSide::Left ? 0 : 1;
  }
  return channels;
}

void mixBlock(std::span<const std::span<const int16_t>> streams,
              std::span<const uint32_t> assignment, uint32_t channels, std::span<int16_t> out) {
  if (channels == 0) {
    return;
  }
  const std::size_t frames = out.size() / channels;
  std::vector<uint32_t> per_channel(channels, 0);
  for (const uint32_t channel : assignment) {
    ++per_channel[channel];
  }
  // One stream per channel (the usual case): a plain interleave.
  const bool direct = std::all_of(per_channel.begin(), per_channel.end(),
                                  [](uint32_t count) { return count == 1; });
  if (direct) {
    for (std::size_t s = 0; s < streams.size(); ++s) {
      const std::span<const int16_t> samples = streams[s];
      const uint32_t channel = assignment[s];
      for (std::size_t i = 0; i < frames; ++i) {
        out[i * channels + channel] = samples[i];
      }
    }
    return;
  }
  std::vector<int32_t> sums(frames * channels, 0);
  for (std::size_t s = 0; s < streams.size(); ++s) {
    const std::span<const int16_t> samples = streams[s];
    const uint32_t channel = assignment[s];
    for (std::size_t i = 0; i < frames; ++i) {
      sums[i * channels + channel] += samples[i];
    }
  }
  constexpr int32_t kMin = std::numeric_limits<int16_t>::min();
  constexpr int32_t kMax = std::numeric_limits<int16_t>::max();
  for (std::size_t i = 0; i < sums.size(); ++i) {
    out[i] = static_cast<int16_t>(std::clamp(sums[i], kMin, kMax));
  }
}

}  // namespace siprecd::recording
