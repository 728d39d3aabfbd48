#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "recording/renderer.hpp"

namespace siprecd::recording {

/// Output channels of `layout` for `streams` streams: stereo 2, mono 1, multitrack one per
/// stream (at least 1).
uint32_t channelCount(ChannelLayout layout, std::size_t streams);

/// The output channel of each stream (DESIGN.md §2 "Formats"):
/// - stereo: Left → 0, Right → 1; Unknown streams are dealt in SDP (request) order onto
///   the side holding fewer streams so far, counting the known ones first, left on a tie:
///   with no side known the first stream goes left, the second right and further ones
///   alternate; with one side known the unknown stream takes the other side;
/// - mono: every stream → 0;
/// - multitrack: stream i → i.
std::vector<uint32_t> assignChannels(ChannelLayout layout, std::span<const StreamSide> sides);

/// Mixes one block: `out` (interleaved, `channels` per frame, frames = out.size() /
/// channels) gets, per channel, the sum of the streams assigned to it, saturated to
/// 16 bits (silence for a channel without stream). Each `streams[i]` holds at least the
/// block's frames. `assignment` as from assignChannels.
void mixBlock(std::span<const std::span<const int16_t>> streams,
              std::span<const uint32_t> assignment, uint32_t channels, std::span<int16_t> out);

}  // namespace siprecd::recording
