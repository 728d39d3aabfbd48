#include "sip/transaction_client.hpp"

#include <utility>

namespace siprecd::sip {

ClientTransaction::ClientTransaction(Message request, PeerAddress target, std::string key,
                                     FinalHandler on_final, TransactionTimers timers,
                                     EventLoop& loop, Owner& owner)
    : request_(std::move(request)),
      target_(std::move(target)),
      key_(std::move(key)),
      on_final_(std::move(on_final)),
      owner_(&owner),
      fsm_(isReliable(target_.transport), timers, loop, *this) {}

ClientTransaction::~ClientTransaction() {
  fsm_.abandon();
}

void ClientTransaction::detach() {
  owner_ = nullptr;
  fsm_.abandon();
}

void ClientTransaction::fsmSendRequest() {
  if (owner_ != nullptr) {
    owner_->transactionSendRequest(*this);
  }
}

void ClientTransaction::fsmFinal(Result<Message> outcome) {
  if (on_final_) {
    // Moved out: the outcome is reported exactly once.
    auto handler = std::move(on_final_);
    on_final_ = nullptr;
    handler(std::move(outcome));
  }
}

void ClientTransaction::fsmTerminated() {
  if (owner_ != nullptr) {
    owner_->clientTransactionTerminated(*this);
  }
}

}  // namespace siprecd::sip
