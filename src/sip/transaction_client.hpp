#pragma once

#include <functional>
#include <string>

#include "base/event_loop.hpp"
#include "base/result.hpp"
#include "sip/message.hpp"
#include "sip/transaction_client_fsm.hpp"
#include "sip/transport.hpp"

namespace siprecd::sip {

/// One non-INVITE client transaction (RFC 3261 §17.1.2): the request (top Via already
/// added), its destination, the TU's completion callback and the state machine. Owned by
/// the transaction layer. SIP thread only.
class ClientTransaction : private ClientTransactionFsm::Callbacks {
 public:
  using FinalHandler = std::function<void(Result<Message>)>;

  class Owner {
   public:
    virtual ~Owner() = default;
    /// Sends the request; transport failures come back through transportError().
    virtual void transactionSendRequest(ClientTransaction& transaction) = 0;
    virtual void clientTransactionTerminated(ClientTransaction& transaction) = 0;
  };

  ClientTransaction(Message request, PeerAddress target, std::string key, FinalHandler on_final,
                    TransactionTimers timers, EventLoop& loop, Owner& owner);
  ~ClientTransaction() override;
  ClientTransaction(const ClientTransaction&) = delete;
  ClientTransaction& operator=(const ClientTransaction&) = delete;

  const Message& request() const { return request_; }
  const PeerAddress& target() const { return target_; }
  const std::string& key() const { return key_; }
  ClientTransactionFsm& fsm() { return fsm_; }
  /// The connection the request went out on, once known (lets later retransmissions and
  /// the transport error path use it).
  void setConnectionId(uint64_t id) { target_.connection_id = id; }
  /// The owner is going away: stop timers, never call back.
  void detach();

 private:
  void fsmSendRequest() override;
  void fsmFinal(Result<Message> outcome) override;
  void fsmTerminated() override;

  Message request_;
  PeerAddress target_;
  std::string key_;
  FinalHandler on_final_;
  Owner* owner_;
  ClientTransactionFsm fsm_;
};

}  // namespace siprecd::sip
