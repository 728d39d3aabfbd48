#include "sip/transaction_layer.hpp"

#include <utility>

#include "base/random.hpp"
#include "base/strings.hpp"
#include "sip/message_helpers.hpp"
#include "sip/response_builder.hpp"

namespace siprecd::sip {
namespace {

constexpr std::string_view kWarningAgent = "siprecd";

/// §17.2.3: a request matches a transaction by top Via branch, sent-by and method (ACK
/// and CANCEL look for the INVITE by passing "INVITE").
std::string rfc3261Key(const Via& via, std::string_view method) {
  std::string key = via.branch();
  key += '\n';
  key += toLower(via.host);
  key += ':';
  key += std::to_string(via.port.value_or(0));
  key += '\n';
  key += method;
  return key;
}

/// §17.2.3's fallback for RFC 2543 peers (branch without the magic cookie): Request-URI,
/// From tag, Call-ID, CSeq number and the whole top Via. (The To tag is left out so that
/// the ACK of a non-2xx, which carries our tag, matches its INVITE.)
std::string rfc2543Key(const Message& request, std::string_view raw_top_via, uint32_t cseq,
                       std::string_view method) {
  std::string key = "2543\n";
  key += request.requestUri();
  key += '\n';
  key += headerTag(request, "From");
  key += '\n';
  key += request.header("Call-ID").value_or("");
  key += '\n';
  key += std::to_string(cseq);
  key += '\n';
  key += raw_top_via;
  key += '\n';
  key += method;
  return key;
}

std::string dialogKey(std::string_view call_id, uint32_t cseq) {
  std::string key(call_id);
  key += '\n';
  key += std::to_string(cseq);
  return key;
}

std::string freshTag() {
  return randomToken(12);
}

}  // namespace

TransactionLayer::TransactionLayer(EventLoop& loop, MessageSender& sender,
                                   SipStack::Listener& listener, TransactionTimers timers,
                                   std::string server_header)
    : loop_(loop),
      sender_(sender),
      listener_(listener),
      timers_(timers),
      server_header_(std::move(server_header)) {}

TransactionLayer::~TransactionLayer() {
  for (auto& [key, transaction] : server_) {
    transaction->detach();
  }
  for (auto& [key, transaction] : client_) {
    transaction->detach();
  }
}

bool TransactionLayer::stampReceived(Via& via, const PeerAddress& source) {
  bool changed = false;
  const bool has_rport = via.params.has("rport");
  const auto sent_by = normalizeIpLiteral(via.host);
  if (has_rport || !sent_by || *sent_by != source.remote_address) {
    if (via.params.get("received") != std::optional<std::string_view>(source.remote_address)) {
      via.params.set("received", source.remote_address);
      changed = true;
    }
  }
  if (has_rport && via.params.get("rport")->empty()) {
    via.params.set("rport", std::to_string(source.remote_port));
    changed = true;
  }
  return changed;
}

PeerAddress TransactionLayer::responseDestination(const Via& via, const PeerAddress& source) {
  PeerAddress destination = source;
  const auto received = via.params.get("received");
  std::optional<std::string> host;
  if (received) {
    host = normalizeIpLiteral(*received);
  }
  if (!host) {
    host = normalizeIpLiteral(via.host);
  }
  destination.remote_address = host ? *host : source.remote_address;
  const uint16_t sent_by_port = via.port.value_or(defaultPort(source.transport));
  if (isReliable(source.transport)) {
    // The connection is used while it is open; otherwise received + sent-by port.
    destination.remote_port = sent_by_port;
    return destination;
  }
  destination.connection_id = 0;
  destination.remote_port = sent_by_port;
  if (const auto rport = via.params.get("rport"); rport && !rport->empty()) {
    if (const auto port = parseUnsigned(*rport); port && *port > 0 && *port <= 65535) {
      destination.remote_port = static_cast<uint16_t>(*port);
    }
  }
  return destination;
}

void TransactionLayer::receiveRequest(Message request, const PeerAddress& source) {
  ++counters_.requests_in;
  const auto raw_values = request.headerValues("Via");
  if (raw_values.empty()) {
    ++counters_.invalid_requests;
    return;  // nowhere to send a response (§18.2.2)
  }
  auto via = parseVia(raw_values.front());
  if (!via) {
    ++counters_.invalid_requests;
    return;
  }
  const std::string raw_top_via(raw_values.front());
  if (stampReceived(*via, source)) {
    replaceTopVia(request, *via);
  }
  const PeerAddress destination = responseDestination(*via, source);

  // §8.1.1: the mandatory header fields; CSeq's method must be the request's.
  const auto cseq = cseqOf(request);
  std::string_view problem;
  if (!cseq) {
    problem = "missing or malformed CSeq";
  } else if (cseq->method != request.method()) {
    problem = "CSeq method does not match the request method";
  } else if (!request.hasHeader("Call-ID")) {
    problem = "missing Call-ID";
  } else if (!request.hasHeader("From")) {
    problem = "missing From";
  } else if (!request.hasHeader("To")) {
    problem = "missing To";
  }
  if (!problem.empty()) {
    ++counters_.invalid_requests;
    if (request.method() != "ACK") {
      reject(request, destination, 400, problem);
    }
    return;
  }

  const std::string& method = request.method();
  const bool rfc3261 = hasMagicCookie(via->branch());
  const auto key_for = [&](std::string_view key_method) {
    return rfc3261 ? rfc3261Key(*via, key_method)
                   : rfc2543Key(request, raw_top_via, cseq->number, key_method);
  };

  if (method == "ACK") {
    handleAck(request, key_for("INVITE"), source);
    return;
  }
  std::string key = key_for(method);
  if (auto existing = findServer(key)) {
    ++counters_.retransmissions_absorbed;
    existing->fsm().receiveRequestRetransmission();
    return;
  }
  if (method == "CANCEL") {
    handleCancel(std::move(request), key, key_for("INVITE"), source, destination);
    return;
  }

  const bool invite = method == "INVITE";
  std::string dialog_key = invite ? dialogKey(*request.header("Call-ID"), cseq->number) : "";
  auto transaction = std::make_shared<ServerTransaction>(std::move(request), source, destination,
                                                         key, timers_, loop_, serverOwner());
  server_.emplace(std::move(key), transaction);
  if (invite) {
    invites_by_dialog_[std::move(dialog_key)] = transaction.get();
    // §17.2.1: the INVITE server transaction answers 100 Trying by itself (no To tag).
    transaction->respond(makeResponse(transaction->request(), 100));
  }
  listener_.onSipRequest(std::move(transaction));
}

void TransactionLayer::handleAck(const Message& ack, const std::string& invite_key,
                                 const PeerAddress& source) {
  ServerTransaction* invite = nullptr;
  if (auto by_branch = findServer(invite_key)) {
    invite = by_branch.get();
  } else if (const auto cseq = cseqOf(ack)) {
    // RFC 6026 §7.1: the ACK of a 2xx is a new transaction (new branch); it is matched to
    // the Accepted INVITE by Call-ID, CSeq number and the To tag of the 2xx.
    const auto it = invites_by_dialog_.find(dialogKey(*ack.header("Call-ID"), cseq->number));
    if (it != invites_by_dialog_.end() &&
        it->second->fsm().state() == ServerTransactionFsm::State::Accepted &&
        it->second->lastToTag() == headerTag(ack, "To")) {
      invite = it->second;
    }
  }
  if (invite == nullptr) {
    listener_.onSipAck(ack, source);  // late or stray: the TU decides
    return;
  }
  if (invite->fsm().receiveAck() == ServerTransactionFsm::AckDisposition::PassUp) {
    listener_.onSipAck(ack, source);
  } else {
    ++counters_.retransmissions_absorbed;
  }
}

void TransactionLayer::handleCancel(Message cancel, const std::string& key,
                                    const std::string& invite_key, const PeerAddress& source,
                                    const PeerAddress& destination) {
  // §9.2: the CANCEL is its own non-INVITE transaction (so that its retransmissions get
  // the same answer); it is matched to the INVITE by the INVITE's §17.2.3 key.
  auto invite = findServer(invite_key);
  auto transaction = std::make_shared<ServerTransaction>(std::move(cancel), source, destination,
                                                         key, timers_, loop_, serverOwner());
  server_.emplace(key, transaction);
  if (!invite) {
    transaction->respond(makeResponse(transaction->request(), 481, freshTag()));
    return;
  }
  // The To tag of the CANCEL's 200 SHOULD be that of the INVITE's responses (§9.2).
  std::string tag = invite->lastToTag();
  transaction->respond(makeResponse(transaction->request(), 200, tag.empty() ? freshTag() : tag));
  if (!invite->hasFinalResponse()) {
    listener_.onSipCancel(*invite);
  }
}

void TransactionLayer::receiveResponse(Message response, const PeerAddress& /*source*/) {
  const auto via = topVia(response);
  const auto cseq = cseqOf(response);
  if (!via || !cseq) {
    ++counters_.stray_responses;
    return;
  }
  std::string key = via->branch();
  key += '\n';
  key += cseq->method;
  const auto it = client_.find(key);
  if (it == client_.end()) {
    ++counters_.stray_responses;
    return;
  }
  const auto transaction = it->second;  // kept alive through the callback
  transaction->fsm().receiveResponse(std::move(response));
}

void TransactionLayer::rejectMalformedRequest(Message salvaged, const PeerAddress& source,
                                              std::string_view problem) {
  if (!salvaged.isRequest() || salvaged.method() == "ACK") {
    return;
  }
  auto via = topVia(salvaged);
  if (!via) {
    ++counters_.invalid_requests;
    return;
  }
  if (stampReceived(*via, source)) {
    replaceTopVia(salvaged, *via);
  }
  ++counters_.invalid_requests;
  reject(salvaged, responseDestination(*via, source), 400, problem);
}

void TransactionLayer::reject(const Message& request, const PeerAddress& destination, int status,
                              std::string_view problem) {
  Message response = makeResponse(request, status, freshTag());
  addWarning(response, kWarningAgent, problem);
  if (!server_header_.empty()) {
    response.addHeader("Server", server_header_);
  }
  sendStateless(response, destination);
}

void TransactionLayer::sendStateless(const Message& response, const PeerAddress& destination) {
  ++counters_.responses_out;
  sender_.send(response, destination, {});
}

void TransactionLayer::sendRequest(Message request, const PeerAddress& target,
                                   ClientTransaction::FinalHandler on_final) {
  if (!request.isRequest() || request.method() == "INVITE" || request.method() == "ACK") {
    loop_.post([handler = std::move(on_final)] {
      if (handler) {
        handler(fail("sendRequest handles non-INVITE requests only"));
      }
    });
    return;
  }
  // §8.1.1.7: a fresh branch with the magic cookie; RFC 3581 rport asks for symmetric
  // response routing.
  std::string branch = "z9hG4bK" + randomToken(20);
  std::string via = "SIP/2.0/";
  via += viaTransportName(target.transport);
  via += ' ';
  via += sender_.sentBy(target);
  via += ";branch=";
  via += branch;
  via += ";rport";
  request.prependHeader("Via", std::move(via));
  if (!request.hasHeader("Max-Forwards")) {
    request.addHeader("Max-Forwards", "70");
  }
  std::string key = std::move(branch);
  key += '\n';
  key += request.method();
  auto transaction = std::make_shared<ClientTransaction>(
      std::move(request), target, key, std::move(on_final), timers_, loop_, clientOwner());
  client_.emplace(std::move(key), transaction);
  transaction->fsm().start();
}

void TransactionLayer::transactionSend(const Message& response, const PeerAddress& destination) {
  ++counters_.responses_out;
  sender_.send(response, destination, {});
}

void TransactionLayer::transactionAckTimeout(ServerTransaction& transaction) {
  listener_.onSipAckTimeout(transaction.request(), transaction.peer());
}

void TransactionLayer::transactionTerminated(ServerTransaction& transaction) {
  const auto it = server_.find(transaction.key());
  if (it == server_.end() || it->second.get() != &transaction) {
    return;
  }
  auto keep = std::move(it->second);
  server_.erase(it);
  if (keep->isInvite()) {
    if (const auto cseq = cseqOf(keep->request())) {
      const auto index =
          invites_by_dialog_.find(dialogKey(*keep->request().header("Call-ID"), cseq->number));
      if (index != invites_by_dialog_.end() && index->second == &transaction) {
        invites_by_dialog_.erase(index);
      }
    }
  }
  // Destroyed on a later turn: this call comes from inside the transaction's FSM.
  keep->detach();
  loop_.post([doomed = std::move(keep)] {});
}

void TransactionLayer::transactionSendRequest(ClientTransaction& transaction) {
  sender_.send(transaction.request(), transaction.target(),
               [this, key = transaction.key()](const Error& error) {
                 const auto it = client_.find(key);
                 if (it != client_.end()) {
                   const auto alive = it->second;
                   alive->fsm().receiveTransportError(error.message);
                 }
               });
}

void TransactionLayer::clientTransactionTerminated(ClientTransaction& transaction) {
  const auto it = client_.find(transaction.key());
  if (it == client_.end() || it->second.get() != &transaction) {
    return;
  }
  auto keep = std::move(it->second);
  client_.erase(it);
  keep->detach();
  loop_.post([doomed = std::move(keep)] {});
}

std::shared_ptr<ServerTransaction> TransactionLayer::findServer(const std::string& key) const {
  const auto it = server_.find(key);
  return it == server_.end() ? nullptr : it->second;
}

}  // namespace siprecd::sip
