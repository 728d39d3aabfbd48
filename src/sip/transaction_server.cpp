#include "sip/transaction_server.hpp"

#include <utility>

#include "base/strings.hpp"
#include "sip/message_helpers.hpp"

namespace siprecd::sip {

ServerTransaction::ServerTransaction(Message request, PeerAddress peer,
                                     PeerAddress response_destination, std::string key,
                                     TransactionTimers timers, EventLoop& loop, Owner& owner)
    : request_(std::move(request)),
      peer_(std::move(peer)),
      response_destination_(std::move(response_destination)),
      key_(std::move(key)),
      owner_(&owner),
      fsm_(request_.method() == "INVITE" ? ServerTransactionFsm::Kind::Invite
                                         : ServerTransactionFsm::Kind::NonInvite,
           isReliable(peer_.transport), timers, loop, *this) {}

ServerTransaction::~ServerTransaction() {
  fsm_.abandon();
}

void ServerTransaction::respond(const Message& response) {
  if (owner_ == nullptr || fsm_.hasFinalResponse()) {
    return;
  }
  Message copy = response;
  if (!owner_->serverHeader().empty() && !copy.hasHeader("Server")) {
    copy.addHeader("Server", owner_->serverHeader());
  }
  fsm_.receiveTuResponse(std::move(copy));
}

std::string ServerTransaction::lastToTag() const {
  const Message* last = fsm_.lastResponse();
  return last ? headerTag(*last, "To") : std::string();
}

void ServerTransaction::detach() {
  owner_ = nullptr;
  fsm_.abandon();
}

void ServerTransaction::fsmSendResponse(const Message& response) {
  if (owner_ != nullptr) {
    owner_->transactionSend(response, response_destination_);
  }
}

void ServerTransaction::fsmAckTimeout() {
  if (owner_ != nullptr) {
    owner_->transactionAckTimeout(*this);
  }
}

void ServerTransaction::fsmTerminated() {
  if (owner_ != nullptr) {
    owner_->transactionTerminated(*this);
  }
}

}  // namespace siprecd::sip
