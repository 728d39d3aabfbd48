#include "media/codecs/codec.hpp"

#include <algorithm>
#include <cctype>

#include "media/codecs/g711_codec.hpp"
#include "media/codecs/g722_codec.hpp"
#include "media/codecs/l16_codec.hpp"
#include "media/codecs/opus_codec.hpp"
#if SIPRECD_WITH_G729
#include "media/codecs/g729_codec.hpp"
#endif

namespace siprecd::media::codecs {

namespace {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

bool isNarrowbandMono(uint32_t clock_rate, uint32_t channels) {
  return clock_rate == 8000 && channels == 1;
}

}  // namespace

std::unique_ptr<Codec> createCodec(std::string_view name, uint32_t clock_rate, uint32_t channels) {
  if (equalsIgnoreCase(name, "PCMU") && isNarrowbandMono(clock_rate, channels)) {
    return std::make_unique<G711Codec>(G711Codec::Law::kMu);
  }
  if (equalsIgnoreCase(name, "PCMA") && isNarrowbandMono(clock_rate, channels)) {
    return std::make_unique<G711Codec>(G711Codec::Law::kA);
  }
  if (equalsIgnoreCase(name, "G722") && isNarrowbandMono(clock_rate, channels)) {
    return G722Codec::create();
  }
  if (equalsIgnoreCase(name, "opus") && clock_rate == 48000 && (channels == 1 || channels == 2)) {
    return OpusCodec::create();
  }
  if (equalsIgnoreCase(name, "L16") && L16Codec::supports(clock_rate, channels)) {
    return std::make_unique<L16Codec>(clock_rate, channels);
  }
#if SIPRECD_WITH_G729
  if (equalsIgnoreCase(name, "G729") && isNarrowbandMono(clock_rate, channels)) {
    return G729Codec::create();
  }
#endif
  return nullptr;
}

std::vector<std::string> supportedCodecNames() {
  std::vector<std::string> names = {"PCMU", "PCMA", "G722", "opus", "L16"};
#if SIPRECD_WITH_G729
  names.emplace_back("G729");
#endif
  return names;
}

}  // namespace siprecd::media::codecs
