#include "sdp/serializer.hpp"

#include "sdp/sdp_text.hpp"

namespace siprecd::sdp {
namespace {

class SdpWriter {
 public:
  void line(char type, std::string_view value) {
    out_ += type;
    out_ += '=';
    out_ += value;
    out_ += "\r\n";
  }

  void connection(const Connection& connection) {
    line('c', connection.net_type + " " + connection.addr_type + " " + connection.address);
  }

  void attributes(const std::vector<Attribute>& attributes) {
    for (const Attribute& attribute : attributes) {
      line('a', attribute.value ? attribute.name + ":" + *attribute.value : attribute.name);
    }
  }

  // Kept lines whose rank (see sdp_text.hpp) lies in [from, to).
  template <typename RankFn>
  void extraLines(const std::vector<Line>& lines, RankFn rank, int from, int to) {
    for (const Line& kept : lines) {
      int r = rank(kept.type);
      if (r >= from && r < to) {
        line(kept.type, kept.value);
      }
    }
  }

  void media(const MediaDescription& media) {
    std::string value = media.media + " " + std::to_string(media.port);
    if (media.port_count) {
      value += "/" + std::to_string(*media.port_count);
    }
    value += " " + media.proto;
    for (const std::string& format : media.formats) {
      value += " " + format;
    }
    line('m', value);
    extraLines(media.extra_lines, detail::mediaLineRank, 0, 1);
    if (media.connection) {
      connection(*media.connection);
    }
    for (const std::string& bandwidth : media.bandwidths) {
      line('b', bandwidth);
    }
    extraLines(media.extra_lines, detail::mediaLineRank, 1, detail::kMediaLineRanks);
    attributes(media.attributes);
  }

  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace

std::string serializeSdp(const SessionDescription& sdp) {
  SdpWriter writer;
  writer.line('v', std::to_string(sdp.version));
  const Origin& o = sdp.origin;
  writer.line('o', o.username + " " + o.session_id + " " + o.session_version + " " + o.net_type +
                       " " + o.addr_type + " " + o.address);
  writer.line('s', sdp.session_name.empty() ? "-" : sdp.session_name);
  writer.extraLines(sdp.extra_lines, detail::sessionLineRank, 0,
                    detail::kSessionLinesBeforeConnection);
  if (sdp.connection) {
    writer.connection(*sdp.connection);
  }
  for (const std::string& bandwidth : sdp.bandwidths) {
    writer.line('b', bandwidth);
  }
  if (sdp.timings.empty()) {
    writer.line('t', "0 0");
  }
  for (const Timing& timing : sdp.timings) {
    writer.line('t', std::to_string(timing.start) + " " + std::to_string(timing.stop));
    for (const std::string& repeat : timing.repeats) {
      writer.line('r', repeat);
    }
  }
  writer.extraLines(sdp.extra_lines, detail::sessionLineRank, detail::kSessionLinesBeforeConnection,
                    detail::kSessionLineRanks);
  writer.attributes(sdp.attributes);
  for (const MediaDescription& media : sdp.media) {
    writer.media(media);
  }
  return writer.take();
}

}  // namespace siprecd::sdp
