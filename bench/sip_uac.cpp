#include "sip_uac.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_support.hpp"

namespace siprecd::bench {

namespace {

constexpr auto kTimerB = std::chrono::seconds(32);  // RFC 3261 §17.1.1.2: 64 * T1
constexpr auto kT2 = std::chrono::milliseconds(4000);

/// The value of header `name` (or its compact form) in `message`, "" when absent.
std::string headerValue(const std::string& message, std::string_view name,
                        std::string_view compact) {
  std::istringstream lines(message);
  std::string line;
  std::getline(lines, line);  // start line
  while (std::getline(lines, line) && line != "\r" && !line.empty()) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) {
      continue;
    }
    std::string key = line.substr(0, colon);
    while (!key.empty() && key.back() == ' ') {
      key.pop_back();
    }
    const bool match = (key.size() == name.size() &&
                        std::equal(key.begin(), key.end(), name.begin(),
                                   [](char a, char b) {
                                     return std::tolower(static_cast<unsigned char>(a)) ==
                                            std::tolower(static_cast<unsigned char>(b));
                                   })) ||
                       (!compact.empty() && key == compact);
    if (match) {
      std::string value = line.substr(colon + 1);
      const auto first = value.find_first_not_of(' ');
      value = first == std::string::npos ? "" : value.substr(first);
      if (!value.empty() && value.back() == '\r') {
        value.pop_back();
      }
      return value;
    }
  }
  return "";
}

/// Every Via header line of `message`, as written.
std::vector<std::string> viaLines(const std::string& message) {
  std::vector<std::string> vias;
  std::istringstream lines(message);
  std::string line;
  std::getline(lines, line);
  while (std::getline(lines, line) && line != "\r" && !line.empty()) {
    if (line.starts_with("Via:") || line.starts_with("v:") || line.starts_with("VIA:") ||
        line.starts_with("via:")) {
      if (line.back() == '\r') {
        line.pop_back();
      }
      vias.push_back(line);
    }
  }
  return vias;
}

std::string tagOf(const std::string& header) {
  const auto at = header.find(";tag=");
  if (at == std::string::npos) {
    return "";
  }
  const auto end = header.find_first_of(";> \r", at + 5);
  return header.substr(at + 5, end == std::string::npos ? std::string::npos : end - at - 5);
}

std::string bodyOf(const std::string& message) {
  const auto at = message.find("\r\n\r\n");
  return at == std::string::npos ? "" : message.substr(at + 4);
}

const char* kMetadata =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
    "<recording xmlns=\"urn:ietf:params:xml:ns:recording:1\">\r\n"
    "  <datamode>complete</datamode>\r\n"
    "  <session session_id=\"hVpd7YQgRW2nD22h7q60JQ==\">\r\n"
    "    <sipSessionID>CALLID;remote=47755a9de7794ba387653f2099600ef2</sipSessionID>\r\n"
    "  </session>\r\n"
    "  <participant participant_id=\"srfBElmCRp2QB23b7Mpk0w==\">\r\n"
    "    <nameID aor=\"sip:alice@example.com\"><name xml:lang=\"en\">Alice</name></nameID>\r\n"
    "  </participant>\r\n"
    "  <participant participant_id=\"zSfPoSvdSDCmU3A3TRDxAw==\">\r\n"
    "    <nameID aor=\"sip:bob@example.com\"><name xml:lang=\"en\">Bob</name></nameID>\r\n"
    "  </participant>\r\n"
    "  <stream stream_id=\"UAAMm5GRQKSCMVvLyl4rFw==\" "
    "session_id=\"hVpd7YQgRW2nD22h7q60JQ==\"><label>1</label></stream>\r\n"
    "  <stream stream_id=\"i1Pz3to5hGk8fuXl+PbwCw==\" "
    "session_id=\"hVpd7YQgRW2nD22h7q60JQ==\"><label>2</label></stream>\r\n"
    "  <participantstreamassoc participant_id=\"srfBElmCRp2QB23b7Mpk0w==\">\r\n"
    "    <send>UAAMm5GRQKSCMVvLyl4rFw==</send><recv>i1Pz3to5hGk8fuXl+PbwCw==</recv>\r\n"
    "  </participantstreamassoc>\r\n"
    "  <participantstreamassoc participant_id=\"zSfPoSvdSDCmU3A3TRDxAw==\">\r\n"
    "    <send>i1Pz3to5hGk8fuXl+PbwCw==</send><recv>UAAMm5GRQKSCMVvLyl4rFw==</recv>\r\n"
    "  </participantstreamassoc>\r\n"
    "</recording>\r\n";

}  // namespace

SipUac::SipUac(const std::string& local_ip, const sockaddr_in& server, std::size_t calls,
               std::array<uint16_t, 2> rtp_ports, OnAnswered on_answered)
    : local_ip_(local_ip),
      server_(server),
      rtp_ports_(rtp_ports),
      on_answered_(std::move(on_answered)),
      calls_(calls) {
  fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  ::inet_pton(AF_INET, local_ip.c_str(), &local.sin_addr);
  socklen_t length = sizeof(local);
  const int buffer = 8 << 20;
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof(buffer));
  if (fd_ < 0 || ::bind(fd_, reinterpret_cast<const sockaddr*>(&local), sizeof(local)) != 0 ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &length) != 0) {
    die(std::string("sip socket: ") + std::strerror(errno));
  }
  local_port_ = ntohs(local.sin_port);
  char text[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &server.sin_addr, text, sizeof(text));
  server_text_ = std::string(text) + ":" + std::to_string(ntohs(server.sin_port));
}

SipUac::~SipUac() {
  ::close(fd_);
}

std::string SipUac::callId(std::size_t index) const {
  return "bench-" + std::to_string(::getpid()) + "-" + std::to_string(index) + "@" + local_ip_;
}

std::string SipUac::headers(std::size_t index, const std::string& method, int cseq,
                            const std::string& to_tag, const std::string& branch) const {
  const std::string local = local_ip_ + ":" + std::to_string(local_port_);
  std::string out = method + " sip:srs@" + server_text_ + " SIP/2.0\r\n";
  out += "Via: SIP/2.0/UDP " + local + ";branch=" + branch + ";rport\r\n";
  out += "From: <sip:src@" + local + ">;tag=f" + std::to_string(index) + "\r\n";
  out += "To: <sip:srs@" + server_text_ + ">" + (to_tag.empty() ? "" : ";tag=" + to_tag) + "\r\n";
  out += "Call-ID: " + callId(index) + "\r\n";
  out += "CSeq: " + std::to_string(cseq) + " " + method + "\r\n";
  out += "Max-Forwards: 70\r\n";
  return out;
}

void SipUac::invite(std::size_t index, Clock::time_point now) {
  Call& call = calls_[index];
  const std::string local = local_ip_ + ":" + std::to_string(local_port_);
  std::string sdp = "v=0\r\no=src " + std::to_string(index + 1) + " 1 IN IP4 " + local_ip_ +
                    "\r\ns=siprecd bench\r\nc=IN IP4 " + local_ip_ + "\r\nt=0 0\r\n";
  for (int stream = 0; stream < 2; ++stream) {
    sdp += "m=audio " + std::to_string(rtp_ports_[static_cast<std::size_t>(stream)]) +
           " RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
           "a=fmtp:101 0-15\r\na=ptime:20\r\na=sendonly\r\na=label:" +
           std::to_string(stream + 1) + "\r\n";
  }
  std::string metadata = kMetadata;
  metadata.replace(metadata.find("CALLID"), 6, "c" + std::to_string(index));
  const std::string body = "--bench-boundary\r\nContent-Type: application/sdp\r\n\r\n" + sdp +
                           "--bench-boundary\r\nContent-Type: application/rs-metadata+xml\r\n"
                           "Content-Disposition: recording-session\r\n\r\n" +
                           metadata + "--bench-boundary--\r\n";
  std::string message = headers(index, "INVITE", 1, "", "z9hG4bK-i" + std::to_string(index));
  message += "Contact: <sip:src@" + local + ">;+sip.src\r\n";
  message += "Require: siprec\r\nAccept: application/sdp, application/rs-metadata+xml\r\n";
  message += "Content-Type: multipart/mixed;boundary=bench-boundary\r\n";
  message += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  call.state = State::Inviting;
  call.request = std::move(message);
  call.started = now;
  call.interval = std::chrono::milliseconds(500);
  call.next_retransmit = now + call.interval;
  call.transmissions = 1;
  ++pending_invites_;
  send(call.request);
}

void SipUac::bye(std::size_t index, Clock::time_point now) {
  Call& call = calls_[index];
  if (call.state != State::Answered) {
    return;
  }
  call.state = State::Byeing;
  call.request = headers(index, "BYE", 2, call.to_tag, "z9hG4bK-b" + std::to_string(index)) +
                 "Content-Length: 0\r\n\r\n";
  call.started = now;
  call.interval = std::chrono::milliseconds(500);
  call.next_retransmit = now + call.interval;
  call.transmissions = 1;
  ++pending_byes_;
  send(call.request);
}

void SipUac::ack(std::size_t index, const std::string& to_tag) {
  send(headers(index, "ACK", 1, to_tag,
               "z9hG4bK-a" + std::to_string(index) + "-" + std::to_string(++branch_counter_)) +
       "Content-Length: 0\r\n\r\n");
}

void SipUac::send(const std::string& message) {
  sendTo(message, server_);
}

void SipUac::sendTo(const std::string& message, const sockaddr_in& to) {
  ::sendto(fd_, message.data(), message.size(), 0, reinterpret_cast<const sockaddr*>(&to),
           sizeof(to));
}

void SipUac::receive(Clock::time_point now) {
  char buffer[65536];
  for (;;) {
    sockaddr_in from{};
    socklen_t from_length = sizeof(from);
    const ssize_t got = ::recvfrom(fd_, buffer, sizeof(buffer), 0,
                                   reinterpret_cast<sockaddr*>(&from), &from_length);
    if (got <= 0) {
      return;
    }
    const std::string message(buffer, static_cast<std::size_t>(got));
    if (message.starts_with("SIP/2.0 ")) {
      onResponse(message, now);
    } else if (!message.empty() && message != "\r\n\r\n") {
      onRequest(message, from);
    }
  }
}

void SipUac::onResponse(const std::string& message, Clock::time_point now) {
  const int status = std::atoi(message.c_str() + 8);
  const std::string call_id = headerValue(message, "Call-ID", "i");
  const std::string prefix = "bench-" + std::to_string(::getpid()) + "-";
  if (!call_id.starts_with(prefix)) {
    return;
  }
  const std::size_t index = std::strtoull(call_id.c_str() + prefix.size(), nullptr, 10);
  if (index >= calls_.size() || status < 200) {
    return;
  }
  Call& call = calls_[index];
  const std::string cseq = headerValue(message, "CSeq", "");
  const std::string to_tag = tagOf(headerValue(message, "To", "t"));
  if (cseq.find("INVITE") != std::string::npos) {
    if (call.state != State::Inviting) {
      if (status < 300) {
        ack(index, to_tag);  // a retransmitted 200
      }
      return;
    }
    --pending_invites_;
    if (status >= 300) {
      call.state = State::Failed;
      ++failed_;
      ack(index, to_tag);
      return;
    }
    call.state = State::Answered;
    call.to_tag = to_tag;
    ack(index, to_tag);
    ++answered_;
    slowest_answer_ = std::max(
        slowest_answer_, std::chrono::duration_cast<std::chrono::milliseconds>(now - call.started));
    std::vector<sockaddr_in> media;
    std::string address = local_ip_;
    std::istringstream sdp(bodyOf(message));
    std::string line;
    while (std::getline(sdp, line)) {
      if (line.starts_with("c=IN IP4 ")) {
        address = line.substr(9, line.find_first_of("\r ", 9) - 9);
      } else if (line.starts_with("m=audio ")) {
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(static_cast<uint16_t>(std::atoi(line.c_str() + 8)));
        media.push_back(to);
      }
    }
    for (sockaddr_in& to : media) {
      ::inet_pton(AF_INET, address.c_str(), &to.sin_addr);
    }
    on_answered_(index, media);
  } else if (cseq.find("BYE") != std::string::npos && call.state == State::Byeing) {
    --pending_byes_;
    call.state = State::Done;
    ++(status < 300 ? byes_done_ : byes_failed_);
  }
}

void SipUac::onRequest(const std::string& message, const sockaddr_in& from) {
  const std::string method = message.substr(0, message.find(' '));
  if (method == "ACK") {
    return;
  }
  std::string response = "SIP/2.0 200 OK\r\n";
  for (const std::string& via : viaLines(message)) {
    response += via + "\r\n";
  }
  response += "From: " + headerValue(message, "From", "f") + "\r\n";
  response += "To: " + headerValue(message, "To", "t") + "\r\n";
  response += "Call-ID: " + headerValue(message, "Call-ID", "i") + "\r\n";
  response += "CSeq: " + headerValue(message, "CSeq", "") + "\r\nContent-Length: 0\r\n\r\n";
  sendTo(response, from);
  if (method == "BYE") {
    ++remote_byes_;
    const std::string call_id = headerValue(message, "Call-ID", "i");
    const std::string prefix = "bench-" + std::to_string(::getpid()) + "-";
    if (call_id.starts_with(prefix)) {
      const std::size_t index = std::strtoull(call_id.c_str() + prefix.size(), nullptr, 10);
      if (index < calls_.size() && calls_[index].state == State::Answered) {
        calls_[index].state = State::RemoteEnded;
      }
    }
  }
}

void SipUac::tick(Clock::time_point now) {
  for (Call& call : calls_) {
    if (call.state != State::Inviting && call.state != State::Byeing) {
      continue;
    }
    if (now - call.started >= kTimerB) {
      if (call.state == State::Inviting) {
        --pending_invites_;
        ++failed_;
        call.state = State::Failed;
      } else {
        --pending_byes_;
        ++byes_failed_;
        call.state = State::Done;
      }
      continue;
    }
    if (now >= call.next_retransmit) {
      send(call.request);
      ++call.transmissions;
      call.interval = std::min<std::chrono::milliseconds>(call.interval * 2, kT2);
      call.next_retransmit = now + call.interval;
    }
  }
}

}  // namespace siprecd::bench
