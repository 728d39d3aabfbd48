#pragma once

#include <memory>
#include <string>

#include "base/event_loop.hpp"
#include "sip/message.hpp"
#include "sip/transaction_server_fsm.hpp"
#include "sip/transport.hpp"

namespace siprecd::sip {

/// One server transaction (RFC 3261 §17.2): the request, where it came from, and its state
/// machine. Owned by the stack's transaction layer; the TU keeps a shared_ptr while it
/// needs it (a transaction whose stack is gone ignores respond()). SIP thread only.
class ServerTransaction : private ServerTransactionFsm::Callbacks {
 public:
  /// The transaction layer's side (implemented by TransactionLayer).
  class Owner {
   public:
    virtual ~Owner() = default;
    virtual void transactionSend(const Message& response, const PeerAddress& destination) = 0;
    virtual void transactionAckTimeout(ServerTransaction& transaction) = 0;
    virtual void transactionTerminated(ServerTransaction& transaction) = 0;
    /// The Server header value added to responses that carry none (empty: none added).
    virtual const std::string& serverHeader() const = 0;
  };

  /// `peer` is the request's source; `response_destination` where responses go
  /// (RFC 3261 §18.2.2); `key` the layer's matching key.
  ServerTransaction(Message request, PeerAddress peer, PeerAddress response_destination,
                    std::string key, TransactionTimers timers, EventLoop& loop, Owner& owner);
  ~ServerTransaction() override;
  ServerTransaction(const ServerTransaction&) = delete;
  ServerTransaction& operator=(const ServerTransaction&) = delete;

  /// The request as received, with received/rport added to its top Via (§18.2.1).
  const Message& request() const { return request_; }
  const PeerAddress& peer() const { return peer_; }
  bool isInvite() const { return fsm_.kind() == ServerTransactionFsm::Kind::Invite; }
  /// Sends a provisional or final response built by the TU (see makeResponse). Calls after
  /// a final response (other than 2xx retransmission, which the transaction does itself)
  /// are ignored, as are calls once the stack has dropped the transaction.
  void respond(const Message& response);
  bool hasFinalResponse() const { return fsm_.hasFinalResponse(); }

  // The transaction layer's interface.
  ServerTransactionFsm& fsm() { return fsm_; }
  const ServerTransactionFsm& fsm() const { return fsm_; }
  const std::string& key() const { return key_; }
  const PeerAddress& responseDestination() const { return response_destination_; }
  /// The To tag of the last response sent (empty if none or untagged).
  std::string lastToTag() const;
  /// The owner is going away: stop timers, ignore later calls.
  void detach();

 private:
  void fsmSendResponse(const Message& response) override;
  void fsmAckTimeout() override;
  void fsmTerminated() override;

  Message request_;
  PeerAddress peer_;
  PeerAddress response_destination_;
  std::string key_;
  Owner* owner_;
  ServerTransactionFsm fsm_;
};

}  // namespace siprecd::sip
