#include "sip/transaction_client_fsm.hpp"

#include <algorithm>
#include <utility>

namespace siprecd::sip {

ClientTransactionFsm::ClientTransactionFsm(bool reliable, TransactionTimers timers, EventLoop& loop,
                                           Callbacks& callbacks)
    : reliable_(reliable), timers_(timers), loop_(loop), callbacks_(callbacks) {}

void ClientTransactionFsm::start() {
  if (state_ != State::Calling) {
    return;
  }
  state_ = State::Trying;
  callbacks_.fsmSendRequest();
  if (state_ != State::Trying) {
    return;  // the send failed synchronously and terminated us
  }
  if (!reliable_) {
    timer_e_interval_ = timers_.t1;
    timer_e_ = loop_.schedule(timer_e_interval_, [this] { onTimerE(); });
  }
  timer_f_ = loop_.schedule(64 * timers_.t1, [this] { onTimerF(); });
}

void ClientTransactionFsm::receiveResponse(Message response) {
  if (state_ != State::Trying && state_ != State::Proceeding) {
    return;  // Completed absorbs retransmitted final responses (§17.1.2.2)
  }
  if (response.statusCode() < 200) {
    state_ = State::Proceeding;
    return;
  }
  // §17.1.2.2: Completed; Timer K = T4 on unreliable transports, zero on reliable ones.
  state_ = State::Completed;
  timer_e_.reset();
  timer_f_.reset();
  timer_k_ =
      loop_.schedule(reliable_ ? std::chrono::milliseconds(0) : timers_.t4, [this] { onTimerK(); });
  callbacks_.fsmFinal(std::move(response));
}

void ClientTransactionFsm::receiveTransportError(const std::string& reason) {
  if (state_ != State::Trying && state_ != State::Proceeding) {
    return;
  }
  finish(fail("transport error: " + reason, 503));
}

void ClientTransactionFsm::abandon() {
  timer_e_.reset();
  timer_f_.reset();
  timer_k_.reset();
  state_ = State::Terminated;
}

void ClientTransactionFsm::onTimerE() {
  if (state_ != State::Trying && state_ != State::Proceeding) {
    return;
  }
  callbacks_.fsmSendRequest();
  // §17.1.2.2: in Trying E doubles up to T2; in Proceeding it fires every T2.
  timer_e_interval_ =
      state_ == State::Proceeding ? timers_.t2 : std::min(2 * timer_e_interval_, timers_.t2);
  timer_e_ = loop_.schedule(timer_e_interval_, [this] { onTimerE(); });
}

void ClientTransactionFsm::onTimerF() {
  if (state_ == State::Trying || state_ == State::Proceeding) {
    finish(fail("transaction timeout (Timer F)", 408));
  }
}

void ClientTransactionFsm::onTimerK() {
  if (state_ == State::Completed) {
    terminate();
  }
}

void ClientTransactionFsm::finish(Result<Message> outcome) {
  timer_e_.reset();
  timer_f_.reset();
  state_ = State::Terminated;
  callbacks_.fsmFinal(std::move(outcome));
  callbacks_.fsmTerminated();
}

void ClientTransactionFsm::terminate() {
  timer_e_.reset();
  timer_f_.reset();
  timer_k_.reset();
  state_ = State::Terminated;
  callbacks_.fsmTerminated();
}

}  // namespace siprecd::sip
