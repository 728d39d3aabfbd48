#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <netinet/in.h>

namespace siprecd::bench {

/// A minimal SIPREC client (SRC) over UDP for the load generator: per call an INVITE with a
/// multipart body (SDP offer of two sendonly PCMU streams + RFC 7865 metadata), ACK of the
/// 200, later a BYE; RFC 3261 retransmission (T1 = 500 ms doubling, 32 s give-up). Requests
/// from the server (BYE, OPTIONS) get a 200. Single-threaded: the caller drives it.
class SipUac {
 public:
  using Clock = std::chrono::steady_clock;
  /// Called when call `index` is answered, with its two RTP destinations from the SDP answer.
  using OnAnswered = std::function<void(std::size_t index, const std::vector<sockaddr_in>& media)>;

  /// `rtp_ports`: the SRC's announced RTP ports of the two streams (our sending sockets).
  SipUac(const std::string& local_ip, const sockaddr_in& server, std::size_t calls,
         std::array<uint16_t, 2> rtp_ports, OnAnswered on_answered);
  ~SipUac();
  SipUac(const SipUac&) = delete;
  SipUac& operator=(const SipUac&) = delete;

  int fd() const { return fd_; }
  void invite(std::size_t index, Clock::time_point now);
  /// Sends BYE for an answered call (others are skipped).
  void bye(std::size_t index, Clock::time_point now);
  /// Reads every datagram waiting on fd().
  void receive(Clock::time_point now);
  /// Retransmits what is due, gives up on what timed out.
  void tick(Clock::time_point now);

  std::size_t answered() const { return answered_; }
  std::size_t failed() const { return failed_; }
  std::size_t pendingInvites() const { return pending_invites_; }
  std::size_t byesDone() const { return byes_done_; }
  std::size_t byesFailed() const { return byes_failed_; }
  std::size_t pendingByes() const { return pending_byes_; }
  std::size_t remoteByes() const { return remote_byes_; }
  /// Time from INVITE to 200 of the slowest answered call.
  std::chrono::milliseconds slowestAnswer() const { return slowest_answer_; }

 private:
  enum class State { Idle, Inviting, Answered, Failed, Byeing, Done, RemoteEnded };
  struct Call {
    State state = State::Idle;
    std::string to_tag;
    std::string request;  ///< the INVITE or BYE being retransmitted
    Clock::time_point started{};
    Clock::time_point next_retransmit{};
    std::chrono::milliseconds interval{500};
    int transmissions = 0;
  };

  std::string callId(std::size_t index) const;
  std::string headers(std::size_t index, const std::string& method, int cseq,
                      const std::string& to_tag, const std::string& branch) const;
  void send(const std::string& message);
  void sendTo(const std::string& message, const sockaddr_in& to);
  void onResponse(const std::string& message, Clock::time_point now);
  void onRequest(const std::string& message, const sockaddr_in& from);
  void ack(std::size_t index, const std::string& to_tag);

  int fd_ = -1;
  std::string local_ip_;
  uint16_t local_port_ = 0;
  sockaddr_in server_{};
  std::string server_text_;
  std::array<uint16_t, 2> rtp_ports_;
  OnAnswered on_answered_;
  std::vector<Call> calls_;
  uint64_t branch_counter_ = 0;
  std::size_t answered_ = 0;
  std::size_t failed_ = 0;
  std::size_t pending_invites_ = 0;
  std::size_t byes_done_ = 0;
  std::size_t byes_failed_ = 0;
  std::size_t pending_byes_ = 0;
  std::size_t remote_byes_ = 0;
  std::chrono::milliseconds slowest_answer_{0};
};

}  // namespace siprecd::bench
