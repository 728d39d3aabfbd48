#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "base/event_loop.hpp"
#include "base/result.hpp"
#include "sip/message.hpp"
#include "sip/transaction_server_fsm.hpp"

namespace siprecd::sip {

/// The non-INVITE client transaction of RFC 3261 §17.1.2: Trying → Proceeding →
/// Completed → Terminated, with Timer E (retransmission, unreliable transports only),
/// Timer F (transaction timeout, 64*T1) and Timer K (T4 unreliable, zero reliable).
/// Inputs are the RFC's events; outputs go to Callbacks. SIP thread only; `loop` and
/// `callbacks` must outlive it. Destroying it cancels its timers.
class ClientTransactionFsm {
 public:
  enum class State { Calling, Trying, Proceeding, Completed, Terminated };

  class Callbacks {
   public:
    virtual ~Callbacks() = default;
    /// Send (or re-send) the request.
    virtual void fsmSendRequest() = 0;
    /// The outcome, exactly once: the final response, or an Error with code 408 (Timer F)
    /// or 503 (transport error).
    virtual void fsmFinal(Result<Message> outcome) = 0;
    /// Entered Terminated; the owner may drop the transaction (not from inside this call).
    virtual void fsmTerminated() = 0;
  };

  ClientTransactionFsm(bool reliable, TransactionTimers timers, EventLoop& loop,
                       Callbacks& callbacks);
  ClientTransactionFsm(const ClientTransactionFsm&) = delete;
  ClientTransactionFsm& operator=(const ClientTransactionFsm&) = delete;

  /// Sends the request and starts Timers E and F (state Trying).
  void start();
  /// A response matched this transaction. 1xx → Proceeding (retransmissions continue at
  /// T2); a final response → Completed (reported once; later copies absorbed).
  void receiveResponse(Message response);
  /// The transport could not deliver the request (§17.1.4): 503 and Terminated.
  void receiveTransportError(const std::string& reason);
  /// Stops everything without calling back (the owner is going away).
  void abandon();

  State state() const { return state_; }

 private:
  void onTimerE();
  void onTimerF();
  void onTimerK();
  void finish(Result<Message> outcome);
  void terminate();

  bool reliable_;
  TransactionTimers timers_;
  EventLoop& loop_;
  Callbacks& callbacks_;
  State state_ = State::Calling;
  std::chrono::milliseconds timer_e_interval_{0};
  std::unique_ptr<Timer> timer_e_;
  std::unique_ptr<Timer> timer_f_;
  std::unique_ptr<Timer> timer_k_;
};

}  // namespace siprecd::sip
