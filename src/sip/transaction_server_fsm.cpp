#include "sip/transaction_server_fsm.hpp"

#include <algorithm>
#include <utility>

namespace siprecd::sip {

ServerTransactionFsm::ServerTransactionFsm(Kind kind, bool reliable, TransactionTimers timers,
                                           EventLoop& loop, Callbacks& callbacks)
    : kind_(kind),
      reliable_(reliable),
      timers_(timers),
      loop_(loop),
      callbacks_(callbacks),
      state_(kind == Kind::Invite ? State::Proceeding : State::Trying) {}

bool ServerTransactionFsm::hasFinalResponse() const {
  return last_response_ && last_response_->statusCode() >= 200;
}

void ServerTransactionFsm::receiveTuResponse(Message response) {
  if (!response.isResponse() || response.statusCode() < 100 || response.statusCode() > 699) {
    return;
  }
  if (state_ != State::Trying && state_ != State::Proceeding) {
    return;  // after a final response; 2xx retransmission is the FSM's own job (RFC 6026)
  }
  const int status = response.statusCode();
  last_response_ = std::move(response);
  callbacks_.fsmSendResponse(*last_response_);
  if (status < 200) {
    state_ = State::Proceeding;
    return;
  }
  const auto timer_64t1 = 64 * timers_.t1;
  if (kind_ == Kind::NonInvite) {
    // §17.2.2: Completed; Timer J = 64*T1 on unreliable transports, zero otherwise.
    state_ = State::Completed;
    end_timer_ = loop_.schedule(reliable_ ? std::chrono::milliseconds(0) : timer_64t1,
                                [this] { onTimerJ(); });
    return;
  }
  if (status < 300) {
    // RFC 6026 §7.1: Accepted; the 2xx is retransmitted (Timer G, unreliable transports)
    // until its ACK arrives; Timer L = 64*T1 ends the state.
    state_ = State::Accepted;
    if (!reliable_) {
      startTimerG(timers_.t1);
    }
    end_timer_ = loop_.schedule(timer_64t1, [this] { onTimerL(); });
    return;
  }
  // §17.2.1: Completed; Timer G (unreliable) and Timer H = 64*T1.
  state_ = State::Completed;
  if (!reliable_) {
    startTimerG(timers_.t1);
  }
  end_timer_ = loop_.schedule(timer_64t1, [this] { onTimerH(); });
}

bool ServerTransactionFsm::receiveRequestRetransmission() {
  switch (state_) {
    case State::Proceeding:
    case State::Completed:
    case State::Accepted:
      // §17.2.1/§17.2.2: answer with the most recent response. In Accepted, re-sending the
      // 2xx speeds up recovery from a lost 2xx (the role RFC 6026 gives the TU).
      if (last_response_) {
        callbacks_.fsmSendResponse(*last_response_);
        return true;
      }
      return false;
    case State::Trying:
    case State::Confirmed:
    case State::Terminated:
      return false;
  }
  return false;
}

ServerTransactionFsm::AckDisposition ServerTransactionFsm::receiveAck() {
  if (kind_ != Kind::Invite) {
    return AckDisposition::Absorbed;
  }
  switch (state_) {
    case State::Completed:
      // §17.2.1: Confirmed; stop Timer G and H; Timer I = T4 (unreliable) or zero.
      state_ = State::Confirmed;
      retransmit_timer_.reset();
      end_timer_ = loop_.schedule(reliable_ ? std::chrono::milliseconds(0) : timers_.t4,
                                  [this] { onTimerI(); });
      return AckDisposition::Absorbed;
    case State::Accepted:
      // RFC 6026 §7.1: the ACK is the TU's; stop retransmitting the 2xx, stay in Accepted
      // until Timer L so that retransmitted ACKs are recognised and absorbed.
      retransmit_timer_.reset();
      if (ack_received_) {
        return AckDisposition::Absorbed;
      }
      ack_received_ = true;
      return AckDisposition::PassUp;
    case State::Trying:
    case State::Proceeding:
    case State::Confirmed:
    case State::Terminated:
      return AckDisposition::Absorbed;
  }
  return AckDisposition::Absorbed;
}

void ServerTransactionFsm::receiveTransportError() {
  if (state_ == State::Terminated) {
    return;
  }
  terminate();
}

void ServerTransactionFsm::abandon() {
  retransmit_timer_.reset();
  end_timer_.reset();
  state_ = State::Terminated;
}

void ServerTransactionFsm::startTimerG(std::chrono::milliseconds interval) {
  timer_g_interval_ = interval;
  retransmit_timer_ = loop_.schedule(interval, [this] { onTimerG(); });
}

void ServerTransactionFsm::onTimerG() {
  if ((state_ != State::Completed && state_ != State::Accepted) || !last_response_) {
    return;
  }
  callbacks_.fsmSendResponse(*last_response_);
  // §17.2.1: G doubles each time, capped at T2 (RFC 6026 §7.1 likewise for the 2xx).
  startTimerG(std::min(2 * timer_g_interval_, timers_.t2));
}

void ServerTransactionFsm::onTimerH() {
  if (state_ == State::Completed) {
    terminate();  // no ACK ever arrived (§17.2.1)
  }
}

void ServerTransactionFsm::onTimerI() {
  if (state_ == State::Confirmed) {
    terminate();
  }
}

void ServerTransactionFsm::onTimerJ() {
  if (state_ == State::Completed) {
    terminate();
  }
}

void ServerTransactionFsm::onTimerL() {
  if (state_ != State::Accepted) {
    return;
  }
  if (!ack_received_) {
    callbacks_.fsmAckTimeout();
  }
  terminate();
}

void ServerTransactionFsm::terminate() {
  retransmit_timer_.reset();
  end_timer_.reset();
  state_ = State::Terminated;
  callbacks_.fsmTerminated();
}

}  // namespace siprecd::sip
