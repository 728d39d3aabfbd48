#pragma once

// Test doubles shared by the SIP stack tests: a MessageSender that records what would go
// on the wire, a Listener that records what the TU was told, and a request builder that
// does not depend on the parser.

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sip/message.hpp"
#include "sip/sip_stack.hpp"
#include "sip/transport.hpp"

namespace siprecd::sip::testing {

struct SentMessage {
  Message message;
  PeerAddress destination;
};

class CapturingSender : public MessageSender {
 public:
  void send(const Message& message, const PeerAddress& destination,
            SendErrorHandler on_error) override {
    sent.push_back({message, destination});
    error_handlers.push_back(std::move(on_error));
  }
  std::string sentBy(const PeerAddress& /*destination*/) override { return sent_by; }

  /// Messages sent with this status code (responses) or method (requests).
  std::vector<const SentMessage*> withStatus(int status) const {
    std::vector<const SentMessage*> out;
    for (const auto& entry : sent) {
      if (entry.message.statusCode() == status) {
        out.push_back(&entry);
      }
    }
    return out;
  }

  std::vector<SentMessage> sent;
  std::vector<SendErrorHandler> error_handlers;
  std::string sent_by = "192.0.2.10:5060";
};

class RecordingListener : public SipStack::Listener {
 public:
  void onSipRequest(std::shared_ptr<ServerTransaction> transaction) override {
    requests.push_back(transaction);
    if (on_request) {
      on_request(transaction);
    }
  }
  void onSipAck(const Message& ack, const PeerAddress& peer) override {
    acks.push_back({ack, peer});
  }
  void onSipCancel(ServerTransaction& invite) override {
    cancels.push_back(&invite);
    if (on_cancel) {
      on_cancel(invite);
    }
  }
  void onSipAckTimeout(const Message& invite, const PeerAddress& peer) override {
    ack_timeouts.push_back({invite, peer});
  }

  std::vector<std::shared_ptr<ServerTransaction>> requests;
  std::vector<SentMessage> acks;
  std::vector<ServerTransaction*> cancels;
  std::vector<SentMessage> ack_timeouts;
  std::function<void(const std::shared_ptr<ServerTransaction>&)> on_request;
  std::function<void(ServerTransaction&)> on_cancel;
};

/// The fields of a test request; build() turns them into a Message.
struct RequestSpec {
  std::string method = "INVITE";
  std::string request_uri = "sip:srs@192.0.2.10:5060";
  std::string via = "SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bKinvite1";
  std::string from = "<sip:src@example.com>;tag=src-tag";
  std::string to = "<sip:srs@example.com>";
  std::string call_id = "call-1@192.0.2.20";
  std::string cseq;  ///< "1 INVITE" when empty
  std::vector<Header> extra;

  Message build() const {
    Message message = Message::request(method, request_uri);
    if (!via.empty()) {
      message.addHeader("Via", via);
    }
    message.addHeader("Max-Forwards", "70");
    if (!from.empty()) {
      message.addHeader("From", from);
    }
    if (!to.empty()) {
      message.addHeader("To", to);
    }
    if (!call_id.empty()) {
      message.addHeader("Call-ID", call_id);
    }
    message.addHeader("CSeq", cseq.empty() ? "1 " + method : cseq);
    for (const auto& header : extra) {
      message.addHeader(header.name, header.value);
    }
    return message;
  }
};

inline PeerAddress udpPeer(std::string remote = "192.0.2.20", uint16_t port = 5060) {
  return PeerAddress{TransportKind::Udp, std::move(remote), port, "192.0.2.10", 5060, 0};
}

}  // namespace siprecd::sip::testing
