#include "sdp/session_description.hpp"

#include "base/strings.hpp"
#include "sdp/sdp_text.hpp"
#include "sdp/static_payload_types.hpp"

namespace siprecd::sdp {
namespace {

using detail::splitFirstWord;
using detail::splitWords;

const Attribute* findIn(const std::vector<Attribute>& attributes, std::string_view name) {
  for (const Attribute& attribute : attributes) {
    if (iequals(attribute.name, name)) {
      return &attribute;
    }
  }
  return nullptr;
}

std::optional<Direction> directionIn(const std::vector<Attribute>& attributes) {
  for (const Attribute& attribute : attributes) {
    if (auto direction = directionFromName(attribute.name)) {
      return direction;
    }
  }
  return std::nullopt;
}

// The value after "<pt> " of the first a=<name>:<pt> <value> line.
std::optional<std::string_view> payloadTypeParameter(const std::vector<Attribute>& attributes,
                                                     std::string_view name,
                                                     std::string_view payload_type) {
  for (const Attribute& attribute : attributes) {
    if (!attribute.value || !iequals(attribute.name, name)) {
      continue;
    }
    auto [pt, rest] = splitFirstWord(*attribute.value);
    if (pt == payload_type) {
      return rest;
    }
  }
  return std::nullopt;
}

// "encoding/clock[/channels]" (RFC 4566 §6 rtpmap).
std::optional<RtpMap> parseRtpMapEncoding(std::string_view text) {
  std::vector<std::string_view> parts = split(trim(text), '/');
  if (parts.size() < 2 || parts.size() > 3 || parts[0].empty()) {
    return std::nullopt;
  }
  auto clock_rate = parseUnsigned(parts[1]);
  if (!clock_rate || *clock_rate == 0 || *clock_rate > UINT32_MAX) {
    return std::nullopt;
  }
  RtpMap map{std::string(parts[0]), static_cast<uint32_t>(*clock_rate), 1};
  if (parts.size() == 3) {
    auto channels = parseUnsigned(parts[2]);
    if (!channels || *channels == 0 || *channels > 255) {
      return std::nullopt;
    }
    map.channels = static_cast<uint32_t>(*channels);
  }
  return map;
}

// Milliseconds of a=ptime/a=maxptime; a fraction ("20.0", seen in the wild) is truncated.
std::optional<uint32_t> parseMilliseconds(const Attribute* attribute) {
  if (attribute == nullptr || !attribute->value) {
    return std::nullopt;
  }
  std::string_view text = trim(*attribute->value);
  text = text.substr(0, text.find('.'));
  auto value = parseUnsigned(text);
  if (!value || *value > UINT32_MAX) {
    return std::nullopt;
  }
  return static_cast<uint32_t>(*value);
}

}  // namespace

std::string_view toString(Direction direction) {
  switch (direction) {
    case Direction::SendRecv:
      return "sendrecv";
    case Direction::SendOnly:
      return "sendonly";
    case Direction::RecvOnly:
      return "recvonly";
    case Direction::Inactive:
      return "inactive";
  }
  return "sendrecv";
}

std::optional<Direction> directionFromName(std::string_view name) {
  for (Direction direction :
       {Direction::SendRecv, Direction::SendOnly, Direction::RecvOnly, Direction::Inactive}) {
    if (iequals(name, toString(direction))) {
      return direction;
    }
  }
  return std::nullopt;
}

std::string_view Connection::host() const {
  std::string_view text = address;
  return text.substr(0, text.find('/'));
}

const Attribute* MediaDescription::findAttribute(std::string_view name) const {
  return findIn(attributes, name);
}

bool MediaDescription::isRtp() const {
  return toLower(proto).find("rtp/") != std::string::npos;
}

std::optional<RtpMap> MediaDescription::rtpmap(std::string_view payload_type) const {
  if (auto encoding = payloadTypeParameter(attributes, "rtpmap", payload_type)) {
    if (auto map = parseRtpMapEncoding(*encoding)) {
      return map;
    }
  }
  auto number = parseUnsigned(payload_type);
  if (!isRtp() || !number || *number > 127) {
    return std::nullopt;
  }
  return staticPayloadType(static_cast<unsigned>(*number));
}

std::optional<std::string> MediaDescription::fmtp(std::string_view payload_type) const {
  if (auto parameters = payloadTypeParameter(attributes, "fmtp", payload_type)) {
    return std::string(*parameters);
  }
  return std::nullopt;
}

std::optional<uint32_t> MediaDescription::ptime() const {
  return parseMilliseconds(findAttribute("ptime"));
}

std::optional<uint32_t> MediaDescription::maxptime() const {
  return parseMilliseconds(findAttribute("maxptime"));
}

std::optional<Direction> MediaDescription::direction() const {
  return directionIn(attributes);
}

std::optional<std::string> MediaDescription::label() const {
  const Attribute* attribute = findAttribute("label");
  if (attribute == nullptr || !attribute->value) {
    return std::nullopt;
  }
  return *attribute->value;
}

std::optional<RtcpAttribute> MediaDescription::rtcp() const {
  const Attribute* attribute = findAttribute("rtcp");
  if (attribute == nullptr || !attribute->value) {
    return std::nullopt;
  }
  std::vector<std::string_view> words = splitWords(*attribute->value);
  if (words.size() != 1 && words.size() != 4) {
    return std::nullopt;
  }
  auto rtcp_port = parseUnsigned(words[0]);
  if (!rtcp_port || *rtcp_port > 65535) {
    return std::nullopt;
  }
  RtcpAttribute result{static_cast<uint16_t>(*rtcp_port), std::nullopt};
  if (words.size() == 4) {
    result.connection =
        Connection{std::string(words[1]), std::string(words[2]), std::string(words[3])};
  }
  return result;
}

std::vector<Crypto> MediaDescription::cryptos() const {
  std::vector<Crypto> result;
  for (const Attribute& attribute : attributes) {
    if (attribute.value && iequals(attribute.name, "crypto")) {
      if (auto crypto = parseCrypto(*attribute.value)) {
        result.push_back(std::move(*crypto));
      }
    }
  }
  return result;
}

const Attribute* SessionDescription::findAttribute(std::string_view name) const {
  return findIn(attributes, name);
}

std::optional<Direction> SessionDescription::direction() const {
  return directionIn(attributes);
}

Direction SessionDescription::effectiveDirection(const MediaDescription& media_description) const {
  return media_description.direction().value_or(direction().value_or(Direction::SendRecv));
}

const Connection* SessionDescription::effectiveConnection(
    const MediaDescription& media_description) const {
  if (media_description.connection) {
    return &*media_description.connection;
  }
  return connection ? &*connection : nullptr;
}

}  // namespace siprecd::sdp
