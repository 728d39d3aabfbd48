#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/event_loop.hpp"
#include "sip/header_fields.hpp"
#include "sip/message.hpp"
#include "sip/sip_stack.hpp"
#include "sip/transaction_client.hpp"
#include "sip/transaction_server.hpp"
#include "sip/transport.hpp"

namespace siprecd::sip {

/// The transaction layer (RFC 3261 §17) between the transports and the TU: matches
/// incoming requests to server transactions (§17.2.3), absorbs retransmissions, answers
/// CANCEL (§9.2), routes ACKs (RFC 6026), runs non-INVITE client transactions and matches
/// their responses (§17.1.3). Transport-independent: it sends through a MessageSender and
/// schedules on an EventLoop, so tests drive it with ManualEventLoop and a capturing
/// sender. SIP thread only; loop, sender and listener must outlive it.
class TransactionLayer final : private ServerTransaction::Owner, private ClientTransaction::Owner {
 public:
  struct Counters {
    uint64_t requests_in = 0;
    uint64_t responses_out = 0;
    uint64_t retransmissions_absorbed = 0;
    uint64_t invalid_requests = 0;  ///< refused with 400 or dropped (no usable Via)
    uint64_t stray_responses = 0;   ///< responses matching no client transaction
  };

  TransactionLayer(EventLoop& loop, MessageSender& sender, SipStack::Listener& listener,
                   TransactionTimers timers, std::string server_header);
  ~TransactionLayer() override;
  TransactionLayer(const TransactionLayer&) = delete;
  TransactionLayer& operator=(const TransactionLayer&) = delete;

  /// A request parsed from the network. Applies §18.2.1 (received, rport) to its top Via,
  /// then dispatches: retransmission, ACK, CANCEL or a new transaction for the Listener.
  /// A request missing a mandatory header (§8.1.1) is answered 400; without a usable Via
  /// it is dropped.
  void receiveRequest(Message request, const PeerAddress& source);
  /// A response parsed from the network: to its client transaction, else dropped.
  void receiveResponse(Message response, const PeerAddress& source);
  /// Answers 400 to a request the parser refused (salvaged by
  /// salvageRequestForErrorResponse), with a Warning naming `problem`. ACKs are dropped.
  void rejectMalformedRequest(Message salvaged, const PeerAddress& source,
                              std::string_view problem);
  /// Starts a non-INVITE client transaction (see SipStack::sendRequest). INVITE and ACK are
  /// refused through on_final (code 0).
  void sendRequest(Message request, const PeerAddress& target,
                   ClientTransaction::FinalHandler on_final);

  std::size_t serverTransactionCount() const { return server_.size(); }
  std::size_t clientTransactionCount() const { return client_.size(); }
  const Counters& counters() const { return counters_; }

  /// RFC 3261 §18.2.1 and RFC 3581 §4: adds received= when the sent-by host differs from
  /// the source address (or rport is present) and fills an empty rport with the source
  /// port. Returns whether `via` changed.
  static bool stampReceived(Via& via, const PeerAddress& source);
  /// RFC 3261 §18.2.2 / RFC 3581 §4: where responses to a request go, given its (stamped)
  /// top Via and its source. Reliable: the same connection, else received:sent-by port.
  /// UDP: received (or sent-by host) and the rport value, else the sent-by port (default
  /// 5060); maddr is ignored. The local side is the one the request arrived on.
  static PeerAddress responseDestination(const Via& via, const PeerAddress& source);

 private:
  void transactionSend(const Message& response, const PeerAddress& destination) override;
  void transactionAckTimeout(ServerTransaction& transaction) override;
  void transactionTerminated(ServerTransaction& transaction) override;
  const std::string& serverHeader() const override { return server_header_; }
  void transactionSendRequest(ClientTransaction& transaction) override;
  void clientTransactionTerminated(ClientTransaction& transaction) override;

  ServerTransaction::Owner& serverOwner() { return *this; }
  ClientTransaction::Owner& clientOwner() { return *this; }
  void handleAck(const Message& ack, const std::string& invite_key, const PeerAddress& source);
  void handleCancel(Message cancel, const std::string& key, const std::string& invite_key,
                    const PeerAddress& source, const PeerAddress& destination);
  void reject(const Message& request, const PeerAddress& destination, int status,
              std::string_view problem);
  void sendStateless(const Message& response, const PeerAddress& destination);
  std::shared_ptr<ServerTransaction> findServer(const std::string& key) const;

  EventLoop& loop_;
  MessageSender& sender_;
  SipStack::Listener& listener_;
  TransactionTimers timers_;
  std::string server_header_;
  Counters counters_;
  /// Server transactions by §17.2.3 key (branch, sent-by, method; ACK → INVITE).
  std::unordered_map<std::string, std::shared_ptr<ServerTransaction>> server_;
  /// INVITE server transactions by Call-ID + CSeq number, to match 2xx ACKs (new branch).
  std::unordered_map<std::string, ServerTransaction*> invites_by_dialog_;
  /// Client transactions by branch + CSeq method (§17.1.3).
  std::unordered_map<std::string, std::shared_ptr<ClientTransaction>> client_;
};

}  // namespace siprecd::sip
