#include "recording/channel_layout.hpp"

#include <gtest/gtest.h>

namespace siprecd::recording {
namespace {

using Sides = std::vector<StreamSide>;
using Channels = std::vector<uint32_t>;
constexpr auto kUnknown = StreamSide::Unknown;
constexpr auto kLeft = StreamSide::Left;
constexpr auto kRight = StreamSide::Right;

TEST(ChannelLayout, CountsChannels) {
  EXPECT_EQ(channelCount(ChannelLayout::Stereo, 1), 2U);
  EXPECT_EQ(channelCount(ChannelLayout::Stereo, 5), 2U);
  EXPECT_EQ(channelCount(ChannelLayout::Mono, 3), 1U);
  EXPECT_EQ(channelCount(ChannelLayout::Multitrack, 3), 3U);
}

TEST(ChannelLayout, StereoFallsBackToSdpOrderWhenNoSideIsKnown) {
  EXPECT_EQ(assignChannels(ChannelLayout::Stereo, Sides{kUnknown}), (Channels{0}));
  EXPECT_EQ(assignChannels(ChannelLayout::Stereo, Sides{kUnknown, kUnknown}), (Channels{0, 1}));
  EXPECT_EQ(assignChannels(ChannelLayout::Stereo, Sides(5, kUnknown)), (Channels{0, 1, 0, 1, 0}));
}

TEST(ChannelLayout, StereoHonoursKnownSidesAndBalancesUnknownOnes) {
  EXPECT_EQ(assignChannels(ChannelLayout::Stereo, Sides{kRight, kLeft}), (Channels{1, 0}));
  EXPECT_EQ(assignChannels(ChannelLayout::Stereo, Sides{kRight, kUnknown}), (Channels{1, 0}));
  EXPECT_EQ(assignChannels(ChannelLayout::Stereo, Sides{kUnknown, kLeft}), (Channels{1, 0}));
  EXPECT_EQ(assignChannels(ChannelLayout::Stereo, Sides{kLeft, kLeft, kUnknown, kUnknown}),
            (Channels{0, 0, 1, 1}));
  EXPECT_EQ(assignChannels(ChannelLayout::Stereo, Sides{kRight, kRight, kRight}),
            (Channels{1, 1, 1}));
}

TEST(ChannelLayout, MonoAndMultitrack) {
  EXPECT_EQ(assignChannels(ChannelLayout::Mono, Sides{kLeft, kRight, kUnknown}),
            (Channels{0, 0, 0}));
  EXPECT_EQ(assignChannels(ChannelLayout::Multitrack, Sides{kRight, kLeft, kUnknown}),
            (Channels{0, 1, 2}));
}

TEST(MixBlock, InterleavesOneStreamPerChannel) {
  const std::vector<int16_t> a{1, 2, 3};
  const std::vector<int16_t> b{-1, -2, -3};
  const std::vector<std::span<const int16_t>> streams{a, b};
  std::vector<int16_t> out(6, 99);
  mixBlock(streams, Channels{1, 0}, 2, out);
  EXPECT_EQ(out, (std::vector<int16_t>{-1, 1, -2, 2, -3, 3}));
}

TEST(MixBlock, SumsStreamsOfAChannelWithSaturationAndSilencesEmptyChannels) {
  const std::vector<int16_t> a{30000, -30000, 100};
  const std::vector<int16_t> b{30000, -30000, -50};
  const std::vector<std::span<const int16_t>> streams{a, b};
  std::vector<int16_t> out(6, 99);
  mixBlock(streams, Channels{0, 0}, 2, out);
  EXPECT_EQ(out, (std::vector<int16_t>{32767, 0, -32768, 0, 50, 0}));
}

}  // namespace
}  // namespace siprecd::recording
