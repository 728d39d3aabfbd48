#include "sdp/static_payload_types.hpp"

#include <array>
#include <string_view>

namespace siprecd::sdp {
namespace {

struct StaticEntry {
  unsigned payload_type;
  std::string_view name;
  uint32_t clock_rate;
  uint32_t channels;
};

// RFC 3551 §6, Table 4 (audio) and Table 5 (video).
constexpr std::array<StaticEntry, 24> kStaticPayloadTypes{{
    {0, "PCMU", 8000, 1},   {3, "GSM", 8000, 1},    {4, "G723", 8000, 1},   {5, "DVI4", 8000, 1},
    {6, "DVI4", 16000, 1},  {7, "LPC", 8000, 1},    {8, "PCMA", 8000, 1},   {9, "G722", 8000, 1},
    {10, "L16", 44100, 2},  {11, "L16", 44100, 1},  {12, "QCELP", 8000, 1}, {13, "CN", 8000, 1},
    {14, "MPA", 90000, 1},  {15, "G728", 8000, 1},  {16, "DVI4", 11025, 1}, {17, "DVI4", 22050, 1},
    {18, "G729", 8000, 1},  {25, "CelB", 90000, 1}, {26, "JPEG", 90000, 1}, {28, "nv", 90000, 1},
    {31, "H261", 90000, 1}, {32, "MPV", 90000, 1},  {33, "MP2T", 90000, 1}, {34, "H263", 90000, 1},
}};

}  // namespace

std::optional<RtpMap> staticPayloadType(unsigned payload_type) {
  for (const StaticEntry& entry : kStaticPayloadTypes) {
    if (entry.payload_type == payload_type) {
      return RtpMap{std::string(entry.name), entry.clock_rate, entry.channels};
    }
  }
  return std::nullopt;
}

}  // namespace siprecd::sdp
