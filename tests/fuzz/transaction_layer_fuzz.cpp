// Feeds sequences of network messages to the SIP transaction layer (matching, CANCEL, ACK
// routing, received/rport stamping, 400 answers) with a manual clock, and checks that every
// transaction ends once its timers have run: a TU that always answers must leave nothing.
//
// Input: messages separated by a NUL byte. The first byte of each chunk is a control byte:
//   bit 0   transport (UDP / TCP)
//   bit 1   the TU answers INVITEs with 200 (else 486)
//   bit 2   after this message, send a BYE to its source (client transaction)
//   bits 3-7 milliseconds to advance afterwards, times 250

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "base/manual_event_loop.hpp"
#include "sip/parser.hpp"
#include "sip/response_builder.hpp"
#include "sip/transaction_layer.hpp"

namespace {

using namespace siprecd;
using namespace siprecd::sip;

class NullSender : public MessageSender {
 public:
  void send(const Message&, const PeerAddress&, SendErrorHandler) override { ++sent; }
  std::string sentBy(const PeerAddress&) override { return "192.0.2.10:5060"; }
  std::size_t sent = 0;
};

class AnsweringTu : public SipStack::Listener {
 public:
  void onSipRequest(std::shared_ptr<ServerTransaction> transaction) override {
    const int status = transaction->isInvite() && !accept_invites ? 486 : 200;
    transaction->respond(makeResponse(transaction->request(), status, "fuzz-tag"));
  }
  void onSipAck(const Message&, const PeerAddress&) override {}
  void onSipCancel(ServerTransaction& invite) override {
    invite.respond(makeResponse(invite.request(), 487, "fuzz-tag"));
  }
  void onSipAckTimeout(const Message&, const PeerAddress&) override {}
  bool accept_invites = true;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  ManualEventLoop loop;
  NullSender sender;
  AnsweringTu tu;
  const ParseLimits limits;
  {
    TransactionLayer layer(loop, sender, tu, TransactionTimers{}, "fuzz");
    std::size_t start = 0;
    while (start < input.size()) {
      std::size_t end = input.find('\0', start);
      if (end == std::string_view::npos) {
        end = input.size();
      }
      const std::string_view chunk = input.substr(start, end - start);
      start = end + 1;
      if (chunk.empty()) {
        continue;
      }
      const auto control = static_cast<uint8_t>(chunk.front());
      const std::string_view bytes = chunk.substr(1);
      const PeerAddress source{(control & 1) != 0 ? TransportKind::Tcp : TransportKind::Udp,
                               "192.0.2.20",
                               5060,
                               "192.0.2.10",
                               5060,
                               (control & 1) != 0 ? 1U : 0U};
      tu.accept_invites = (control & 2) != 0;
      auto parsed = parseMessage(bytes, Framing::Datagram, limits);
      if (parsed) {
        if (parsed->isRequest()) {
          layer.receiveRequest(std::move(*parsed), source);
        } else {
          layer.receiveResponse(std::move(*parsed), source);
        }
      } else if (auto salvaged = salvageRequestForErrorResponse(bytes)) {
        layer.rejectMalformedRequest(std::move(*salvaged), source, parsed.error().message);
      }
      if ((control & 4) != 0) {
        Message bye = Message::request("BYE", "sip:src@192.0.2.20");
        bye.addHeader("From", "<sip:srs@example.com>;tag=fuzz-tag");
        bye.addHeader("To", "<sip:src@example.com>;tag=x");
        bye.addHeader("Call-ID", "fuzz");
        bye.addHeader("CSeq", "1 BYE");
        layer.sendRequest(std::move(bye), source, [](Result<Message>) {});
      }
      loop.advance(std::chrono::milliseconds(250 * (control >> 3)));
    }
    // 64*T1 + T4 later every transaction has ended (Timers B/F/H/J/L, then I/K).
    loop.advance(std::chrono::milliseconds(40000));
    loop.runReady();
    if (layer.serverTransactionCount() != 0 || layer.clientTransactionCount() != 0) {
      std::abort();
    }
  }
  loop.runReady();
  return 0;
}
