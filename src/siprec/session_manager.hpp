#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "sip/sip_stack.hpp"
#include "siprec/domain_policy.hpp"
#include "siprec/recording_session.hpp"
#include "siprec/session_context.hpp"

namespace siprecd::siprec {

/// Chooses the domain of an out-of-dialog INVITE; nullptr when no domain takes it.
using DomainSelector = std::function<std::shared_ptr<const DomainPolicy>(
    const sip::Message& request, const sip::PeerAddress& peer)>;

/// The SIPREC user agent server: the transaction user of the SIP stack. Routes requests to
/// recording sessions (by dialog), answers what needs no session (OPTIONS, stray requests),
/// and drains on shutdown. Lives on the SIP loop; every method is called there.
class SessionManager final : public sip::SipStack::Listener {
 public:
  SessionManager(SessionContext& context, DomainSelector select_domain);
  ~SessionManager() override;

  void onSipRequest(std::shared_ptr<sip::ServerTransaction> transaction) override;
  void onSipAck(const sip::Message& ack, const sip::PeerAddress& peer) override;
  void onSipCancel(sip::ServerTransaction& invite) override;
  void onSipAckTimeout(const sip::Message& invite, const sip::PeerAddress& peer) override;

  /// Starts a graceful drain: new INVITEs get 503 + Retry-After, sessions in progress go on.
  /// `on_drained` runs (on the loop) once no session is left — at once if none is.
  void drain(std::function<void()> on_drained);
  /// Ends every session now (BYE), for a forced shutdown.
  void terminateAll(std::string reason);

  /// The live session recording `recording_id`, or nullptr (ended or unknown). Linear in the
  /// number of sessions: for application commands, which are rare.
  RecordingSession* findByRecordingId(std::string_view recording_id);

  std::size_t sessionCount() const { return sessions_.size(); }
  bool draining() const { return draining_; }

 private:
  void onInvite(std::shared_ptr<sip::ServerTransaction> transaction);
  void onOutOfDialogRequest(std::shared_ptr<sip::ServerTransaction> transaction);
  RecordingSession* findSession(const sip::Message& request);
  void removeSession(const std::string& key);
  void checkDrained();
  void reject(sip::ServerTransaction& transaction, int status, std::string_view warning = {});

  SessionContext& context_;
  DomainSelector select_domain_;
  /// Sessions by "Call-ID;local-tag" (the dialog id seen from our side).
  std::unordered_map<std::string, std::unique_ptr<RecordingSession>> sessions_;
  /// Pending INVITE transactions (no final response yet) → session key, for CANCEL.
  std::unordered_map<const sip::ServerTransaction*, std::string> pending_;
  bool draining_ = false;
  std::function<void()> on_drained_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace siprecd::siprec
