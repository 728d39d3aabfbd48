#include "sdp/parser.hpp"

#include <algorithm>
#include <string>

#include "base/strings.hpp"
#include "sdp/sdp_text.hpp"

namespace siprecd::sdp {
namespace {

using detail::splitWords;

bool isDigits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string_view trimRight(std::string_view line) {
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) {
    line.remove_suffix(1);
  }
  return line;
}

// One pass over the lines of a body; each handler fills `sdp_` or the current media section.
class SdpParser {
 public:
  explicit SdpParser(const SdpLimits& limits) : limits_(limits) {}

  Result<SessionDescription> run(std::string_view text) {
    if (text.size() > limits_.max_bytes) {
      return fail("SDP body of " + std::to_string(text.size()) + " bytes exceeds the limit of " +
                      std::to_string(limits_.max_bytes),
                  413);
    }
    std::size_t start = 0;
    while (start < text.size()) {
      std::size_t end = text.find('\n', start);
      if (end == std::string_view::npos) {
        end = text.size();
      }
      ++line_number_;
      if (auto ok = parseLine(trimRight(text.substr(start, end - start))); !ok) {
        return tl::unexpected(ok.error());
      }
      start = end + 1;
    }
    return finish();
  }

 private:
  using Status = Result<void>;

  tl::unexpected<Error> lineError(const std::string& message) const {
    return fail("SDP line " + std::to_string(line_number_) + ": " + message, 400);
  }

  bool inMedia() const { return !sdp_.media.empty(); }

  Status parseLine(std::string_view line) {
    if (line.empty()) {
      return {};
    }
    if (line.find('\0') != std::string_view::npos || line.find('\r') != std::string_view::npos) {
      return lineError("contains a NUL or bare CR character");
    }
    if (line.size() < 2 || line[0] < 'a' || line[0] > 'z' || line[1] != '=') {
      return lineError("expected <type>=<value>");
    }
    char type = line[0];
    std::string_view value = line.substr(2);
    if (!seen_version_ && type != 'v') {
      return lineError("the first line must be v=0");
    }
    if (inMedia() && std::string_view("vostrzuep").find(type) != std::string_view::npos) {
      return lineError(std::string(1, type) + "= is not allowed in a media section");
    }
    switch (type) {
      case 'v':
        return parseVersion(value);
      case 'o':
        return parseOrigin(value);
      case 's':
        return parseSessionName(value);
      case 'c':
        return parseConnection(value);
      case 'b':
        bandwidths().emplace_back(value);
        return {};
      case 't':
        return parseTiming(value);
      case 'r':
        if (sdp_.timings.empty()) {
          return lineError("r= without a preceding t=");
        }
        sdp_.timings.back().repeats.emplace_back(value);
        return {};
      case 'm':
        return parseMedia(value);
      case 'a':
        return parseAttribute(value);
      default:
        extraLines().push_back(Line{type, std::string(value)});
        return {};
    }
  }

  Status parseVersion(std::string_view value) {
    if (seen_version_) {
      return lineError("duplicate v=");
    }
    if (value != "0") {
      return lineError("v= must be 0");
    }
    seen_version_ = true;
    return {};
  }

  // o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address> (§5.2)
  Status parseOrigin(std::string_view value) {
    if (seen_origin_) {
      return lineError("duplicate o=");
    }
    std::vector<std::string_view> words = splitWords(value);
    if (words.size() != 6) {
      return lineError("o= needs 6 fields: username sess-id sess-version nettype addrtype address");
    }
    if (!isDigits(words[1])) {
      return lineError("o= sess-id is not a number");
    }
    if (!isDigits(words[2])) {
      return lineError("o= sess-version is not a number");
    }
    sdp_.origin = Origin{std::string(words[0]), std::string(words[1]), std::string(words[2]),
                         std::string(words[3]), std::string(words[4]), std::string(words[5])};
    seen_origin_ = true;
    return {};
  }

  Status parseSessionName(std::string_view value) {
    if (seen_session_name_) {
      return lineError("duplicate s=");
    }
    seen_session_name_ = true;
    if (!value.empty()) {
      sdp_.session_name = std::string(value);
    }
    return {};
  }

  // c=<nettype> <addrtype> <connection-address> (§5.7)
  Status parseConnection(std::string_view value) {
    std::optional<Connection>& connection =
        inMedia() ? sdp_.media.back().connection : sdp_.connection;
    if (connection) {
      return lineError("duplicate c= in one section");
    }
    std::vector<std::string_view> words = splitWords(value);
    if (words.size() != 3) {
      return lineError("c= needs 3 fields: nettype addrtype address");
    }
    connection = Connection{std::string(words[0]), std::string(words[1]), std::string(words[2])};
    return {};
  }

  // t=<start-time> <stop-time> (§5.9)
  Status parseTiming(std::string_view value) {
    std::vector<std::string_view> words = splitWords(value);
    if (words.size() != 2) {
      return lineError("t= needs 2 fields: start stop");
    }
    auto start = parseUnsigned(words[0]);
    auto stop = parseUnsigned(words[1]);
    if (!start || !stop) {
      return lineError("t= times are not numbers");
    }
    sdp_.timings.push_back(Timing{*start, *stop, {}});
    return {};
  }

  // m=<media> <port>[/<number of ports>] <proto> <fmt> ... (§5.14)
  Status parseMedia(std::string_view value) {
    if (sdp_.media.size() >= limits_.max_media) {
      return lineError("more than " + std::to_string(limits_.max_media) + " m-lines");
    }
    std::vector<std::string_view> words = splitWords(value);
    if (words.size() < 4) {
      return lineError("m= needs <media> <port> <proto> <fmt> ...");
    }
    if (words.size() - 3 > limits_.max_formats) {
      return lineError("m= has more than " + std::to_string(limits_.max_formats) + " formats");
    }
    MediaDescription media;
    media.media = std::string(words[0]);
    std::string_view port_text = words[1];
    std::size_t slash = port_text.find('/');
    auto port = parseUnsigned(port_text.substr(0, slash));
    if (!port || *port > 65535) {
      return lineError("m= port is not a number");
    }
    media.port = static_cast<uint16_t>(*port);
    if (slash != std::string_view::npos) {
      auto count = parseUnsigned(port_text.substr(slash + 1));
      if (!count || *count == 0 || *count > 65535) {
        return lineError("m= port count is not a number");
      }
      media.port_count = static_cast<uint16_t>(*count);
    }
    media.proto = std::string(words[2]);
    for (std::size_t i = 3; i < words.size(); ++i) {
      media.formats.emplace_back(words[i]);
    }
    sdp_.media.push_back(std::move(media));
    return {};
  }

  // a=<attribute> / a=<attribute>:<value> (§5.13)
  Status parseAttribute(std::string_view value) {
    std::vector<Attribute>& attributes = inMedia() ? sdp_.media.back().attributes : sdp_.attributes;
    if (attributes.size() >= limits_.max_attributes) {
      return lineError("more than " + std::to_string(limits_.max_attributes) +
                       " attributes in one section");
    }
    std::size_t colon = value.find(':');
    std::string_view name = value.substr(0, colon);
    if (name.empty()) {
      return lineError("a= without an attribute name");
    }
    Attribute attribute{std::string(name), std::nullopt};
    if (colon != std::string_view::npos) {
      attribute.value = std::string(value.substr(colon + 1));
    }
    attributes.push_back(std::move(attribute));
    return {};
  }

  std::vector<std::string>& bandwidths() {
    return inMedia() ? sdp_.media.back().bandwidths : sdp_.bandwidths;
  }

  std::vector<Line>& extraLines() {
    return inMedia() ? sdp_.media.back().extra_lines : sdp_.extra_lines;
  }

  Result<SessionDescription> finish() {
    if (!seen_version_) {
      return fail("SDP is empty: expected v=0", 400);
    }
    if (!seen_origin_) {
      return fail("SDP has no o= line", 400);
    }
    if (sdp_.timings.empty()) {
      sdp_.timings.push_back(Timing{});
    }
    // Kept lines in canonical order, so that parse(serialize(x)) == x.
    std::stable_sort(sdp_.extra_lines.begin(), sdp_.extra_lines.end(),
                     [](const Line& a, const Line& b) {
                       return detail::sessionLineRank(a.type) < detail::sessionLineRank(b.type);
                     });
    for (MediaDescription& media : sdp_.media) {
      std::stable_sort(media.extra_lines.begin(), media.extra_lines.end(),
                       [](const Line& a, const Line& b) {
                         return detail::mediaLineRank(a.type) < detail::mediaLineRank(b.type);
                       });
    }
    return std::move(sdp_);
  }

  const SdpLimits& limits_;
  SessionDescription sdp_;
  std::size_t line_number_ = 0;
  bool seen_version_ = false;
  bool seen_origin_ = false;
  bool seen_session_name_ = false;
};

}  // namespace

Result<SessionDescription> parseSdp(std::string_view text, const SdpLimits& limits) {
  return SdpParser(limits).run(text);
}

}  // namespace siprecd::sdp
