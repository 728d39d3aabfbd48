#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "sip/header_fields.hpp"
#include "sip/message.hpp"
#include "sip/transport.hpp"

namespace siprecd::sip {

/// UAS dialog state (RFC 3261 §12.1.1, §12.2). A value type owned by the TU's session; SIP
/// thread only.
class Dialog {
 public:
  /// Builds the dialog a 2xx to `invite` establishes: Call-ID, remote tag (From), local tag
  /// (ours, put in To), remote target (Contact), route set (Record-Route, in order), remote
  /// CSeq, secure flag (sips Request-URI over TLS). `peer` is where the INVITE came from.
  /// Failure (code 400) names the missing or malformed header (Call-ID, From, To, CSeq,
  /// Contact); an empty `local_tag` fails with code 500.
  static Result<Dialog> createUas(const Message& invite, const PeerAddress& peer,
                                  std::string local_tag);

  const std::string& callId() const { return call_id_; }
  const std::string& localTag() const { return local_tag_; }
  /// The peer's From tag; empty for an RFC 2543 peer that sent none.
  const std::string& remoteTag() const { return remote_tag_; }
  /// The Contact URI of the last target-refresh request (the INVITE, re-INVITE, UPDATE).
  const std::string& remoteTarget() const { return remote_target_; }
  /// The Record-Route values of the INVITE, in order (name-addr text as received).
  const std::vector<std::string>& routeSet() const { return route_set_; }
  uint32_t localCseq() const { return local_cseq_; }
  uint32_t remoteCseq() const { return remote_cseq_; }
  bool secure() const { return secure_; }

  /// Checks an in-dialog request (§12.2.2): Call-ID and tags must be this dialog's (else
  /// code 481); CSeq must be higher than the last one (else code 500) — ACK and CANCEL,
  /// which repeat their INVITE's number, are exempt. A target refresh (re-INVITE, UPDATE)
  /// with a Contact updates the remote target (a malformed Contact: code 400).
  Result<void> acceptRemoteRequest(const Message& request);
  /// A new in-dialog request (§12.2.1.1), e.g. BYE: Request-URI = remote target, Route =
  /// route set (loose routing; a strict-routing first hop becomes the Request-URI), From =
  /// our side with the local tag, To = their side with the remote tag, Call-ID, CSeq =
  /// ++local, Max-Forwards: 70. The Via is added by the stack.
  Message makeRequest(std::string_view method);
  /// Where to send in-dialog requests: the first Route (or the remote target) when it is
  /// an IP literal with an explicit port or transport (sips → TLS; no transport parameter
  /// → UDP, or the peer's transport when the hop is the peer's IP; default port 5060/5061);
  /// otherwise the peer the dialog was created from (no DNS here). When the hop has the
  /// peer's transport and IP address, the peer's connection id is kept so that a reliable
  /// transport reuses that connection while it is open.
  PeerAddress nextHop() const;
  const PeerAddress& peer() const { return peer_; }
  /// The peer changed (e.g., a re-INVITE over a new connection).
  void setPeer(PeerAddress peer) { peer_ = std::move(peer); }

 private:
  Dialog() = default;

  std::string call_id_;
  std::string local_tag_;
  std::string remote_tag_;
  NameAddr local_party_;   ///< To of the INVITE, with our tag
  NameAddr remote_party_;  ///< From of the INVITE
  std::string remote_target_;
  std::vector<std::string> route_set_;
  uint32_t local_cseq_ = 0;
  uint32_t remote_cseq_ = 0;
  bool secure_ = false;
  PeerAddress peer_;
};

/// Whether `request` belongs to `dialog` (§12.2.2): same Call-ID, From tag = remote tag,
/// To tag = local tag.
bool isSameDialog(const Message& request, const Dialog& dialog);

}  // namespace siprecd::sip
