#pragma once

#include <chrono>
#include <memory>
#include <optional>

#include "base/event_loop.hpp"
#include "sip/message.hpp"

namespace siprecd::sip {

/// RFC 3261 §17.1.1.1 timer base values.
struct TransactionTimers {
  std::chrono::milliseconds t1{500};   ///< RTT estimate
  std::chrono::milliseconds t2{4000};  ///< maximum retransmit interval (non-INVITE, 2xx)
  std::chrono::milliseconds t4{5000};  ///< maximum time a message stays in the network
};

/// The server transaction state machines of RFC 3261 §17.2.1 (INVITE, with RFC 6026's
/// Accepted state) and §17.2.2 (non-INVITE). It knows nothing of matching or of the
/// request itself: inputs are the RFC's events (a response from the TU, a retransmitted
/// request, an ACK, a transport error) and its timers G, H, I, J, L, scheduled on the
/// EventLoop. Outputs go to Callbacks. SIP thread only; `loop` and `callbacks` must
/// outlive it. Destroying it cancels its timers.
class ServerTransactionFsm {
 public:
  enum class Kind { Invite, NonInvite };
  enum class State { Trying, Proceeding, Completed, Confirmed, Accepted, Terminated };
  /// What to do with an ACK that matched this transaction.
  enum class AckDisposition {
    Absorbed,  ///< an ACK for a non-2xx final response, or a retransmitted 2xx ACK
    PassUp,    ///< the first ACK for a 2xx: the TU should see it (§17.1.1.3)
  };

  class Callbacks {
   public:
    virtual ~Callbacks() = default;
    /// Send (or re-send) this response to the transaction's response destination.
    virtual void fsmSendResponse(const Message& response) = 0;
    /// Timer L fired in Accepted and no ACK had arrived (RFC 6026 §7.1).
    virtual void fsmAckTimeout() = 0;
    /// Entered Terminated from a timer or a transport error; the owner may now drop the
    /// transaction (not from inside this call: it is made from the FSM's own stack).
    virtual void fsmTerminated() = 0;
  };

  /// INVITE transactions start in Proceeding (the owner sends 100 Trying with
  /// receiveTuResponse right away), non-INVITE ones in Trying. `reliable` selects the
  /// TCP/TLS timer values (no retransmissions, Timers I and J zero).
  ServerTransactionFsm(Kind kind, bool reliable, TransactionTimers timers, EventLoop& loop,
                       Callbacks& callbacks);
  ServerTransactionFsm(const ServerTransactionFsm&) = delete;
  ServerTransactionFsm& operator=(const ServerTransactionFsm&) = delete;

  /// The TU passes a response (§17.2.1 / §17.2.2). 1xx sent and kept for retransmission
  /// answers; a final response moves to Completed or (2xx to INVITE) Accepted. Ignored
  /// after a final response, or when `response` is not a response.
  void receiveTuResponse(Message response);
  /// The same request arrived again: re-send the last response (if any). Returns whether
  /// a response was re-sent.
  bool receiveRequestRetransmission();
  /// An ACK matched this INVITE transaction (by branch for a non-2xx, or by dialog for a
  /// 2xx). Non-INVITE transactions absorb it.
  AckDisposition receiveAck();
  /// The transport failed to deliver a response: Terminated (§17.2.4).
  void receiveTransportError();
  /// Stops everything without calling back (the owner is going away).
  void abandon();

  State state() const { return state_; }
  Kind kind() const { return kind_; }
  bool hasFinalResponse() const;
  /// The last response sent, if any.
  const Message* lastResponse() const { return last_response_ ? &*last_response_ : nullptr; }
  /// Whether an ACK for the 2xx arrived (Accepted state).
  bool ackReceived() const { return ack_received_; }

 private:
  void onTimerG();
  void onTimerH();
  void onTimerI();
  void onTimerJ();
  void onTimerL();
  void terminate();
  void startTimerG(std::chrono::milliseconds interval);

  Kind kind_;
  bool reliable_;
  TransactionTimers timers_;
  EventLoop& loop_;
  Callbacks& callbacks_;
  State state_;
  std::optional<Message> last_response_;
  bool ack_received_ = false;
  std::chrono::milliseconds timer_g_interval_{0};
  std::unique_ptr<Timer> retransmit_timer_;  ///< Timer G
  std::unique_ptr<Timer> end_timer_;         ///< Timer H, I, J or L
};

}  // namespace siprecd::sip
