#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "media/media_engine.hpp"
#include "sdp/offer_answer.hpp"
#include "sdp/session_description.hpp"
#include "sip/dialog.hpp"
#include "sip/sip_stack.hpp"
#include "siprec/domain_policy.hpp"
#include "siprec/recording_finalizer.hpp"
#include "siprec/rs_metadata.hpp"
#include "siprec/session_context.hpp"

namespace siprecd::siprec {

/// Life of one SIPREC recording session as seen by the SIP side (DESIGN.md §1).
enum class SessionState {
  Offered,     ///< INVITE received, waiting for the record decision
  Recording,   ///< answered; media flowing
  Ending,      ///< dialog over; waiting for the media streams to close
  Finalizing,  ///< rendering the recording on the worker pool
  Done,        ///< ready (or declined / cancelled / failed): nothing left to do
};

/// One recorded stream: an accepted audio m-line and its spool. A stream removed by a
/// re-INVITE stays here (closed) so that its audio is still rendered.
struct RecordedStream {
  std::size_t mline_index = 0;
  std::string label;
  sdp::NegotiatedStream negotiated;
  std::filesystem::path spool_path;
  uint16_t port = 0;                          ///< our RTP port, kept after close
  int64_t media_expected_since_us = 0;        ///< epoch µs since when the SRC should send media
  std::optional<media::StreamHandle> handle;  ///< set while open
  std::optional<media::StreamStats> stats;    ///< set once closed
};

/// The SIPREC UAS for one recording (RFC 7866 §6–8): offer/answer, dialog, media streams,
/// metadata updates, session timer, end and finalisation. Lives on the SIP loop; every
/// method is called there. The manager owns it and removes it once isDone().
class RecordingSession {
 public:
  RecordingSession(SessionContext& context, std::shared_ptr<const DomainPolicy> domain,
                   std::string recording_id);
  ~RecordingSession();
  RecordingSession(const RecordingSession&) = delete;
  RecordingSession& operator=(const RecordingSession&) = delete;

  const std::string& recordingId() const { return recording_id_; }
  const std::string& localTag() const { return local_tag_; }
  SessionState state() const { return state_; }
  bool isDone() const { return state_ == SessionState::Done; }

  /// Starts with the initial INVITE (100 Trying already sent). Validates the offer, asks for
  /// the record decision and answers when it arrives. Returns false when the INVITE was
  /// refused at once (the session is then Done).
  bool start(std::shared_ptr<sip::ServerTransaction> invite, const sdp::SessionDescription& offer,
             std::optional<std::string> metadata_xml);
  /// A CANCEL matched the pending INVITE.
  void onCancel();
  /// ACK for our 2xx.
  void onAck();
  /// The 2xx was never acknowledged (RFC 6026 Timer L): end with BYE.
  void onAckTimeout();
  /// An in-dialog request (re-INVITE, UPDATE, BYE, INFO, OPTIONS, ...).
  void onInDialogRequest(std::shared_ptr<sip::ServerTransaction> transaction);
  /// Ends the recording from our side (e.g. shutdown): sends BYE.
  void terminate(std::string reason);

  /// Application commands on a live call (DESIGN.md §2). Each returns an error whose code
  /// is the HTTP status (409) when the session's state does not allow it.
  /// STOPRECORDING: BYE, keep what was recorded (→ ready).
  Result<void> stopRecording();
  /// CANCELRECORDING: BYE, discard everything (→ cancelled, RECORDINGDELETED).
  Result<void> cancelRecording();
  /// PAUSERECORDING / RESUMERECORDING: silence from now until resumed (→ paused ⇄ recording).
  Result<void> pauseRecording();
  Result<void> resumeRecording();

  /// Called once the session reaches Done (for the manager to remove it).
  void setOnDone(std::function<void()> on_done) { on_done_ = std::move(on_done); }

 private:
  void onDecision(bool record);
  Result<void> applyOffer(const sdp::SessionDescription& offer);
  /// Our SDP answer for the current offer: the open streams' ports, the rest port 0.
  std::string answerSdp() const;
  void respondWithAnswer(sip::ServerTransaction& transaction, int status);
  void respond(sip::ServerTransaction& transaction, int status, std::string_view warning = {});
  void handleReInvite(std::shared_ptr<sip::ServerTransaction> transaction, bool is_update);
  void handleBye(std::shared_ptr<sip::ServerTransaction> transaction);
  void mergeMetadata(const std::string& xml, std::string_view origin);
  void armSessionTimer();
  void armRtpTimer();
  /// RTP inactivity check (DESIGN.md §3): ends a dead session with BYE.
  void checkRtpActivity();
  std::optional<std::chrono::seconds> negotiateSessionTimer(const sip::Message& request,
                                                            sip::Message& response);
  void end(std::string reason, bool send_bye);
  void onStreamClosed(std::size_t stream, media::StreamStats stats);
  /// Closes every open stream without waiting for it (the call was refused after all).
  void releaseStreams();
  void finalize();
  void onFinalized(Result<FinalizeOutcome> outcome);
  void finishWithoutRecording(std::string state, std::string reason);
  /// "paused" or "recording": the state persisted while the call is live.
  std::string_view liveState() const { return paused_ ? "paused" : "recording"; }
  /// Paused audio is not captured (DESIGN.md §2): the media engine stops spooling the open
  /// streams' RTP while paused (it is still received and counted).
  void setCapturePaused(bool paused);
  /// The event fields every event of this call carries (call identity, participants, streams).
  nlohmann::json eventData() const;
  /// Pauses as JSON [{"from": ms, "to": ms}], an open pause ending at `open_end_ms`.
  nlohmann::json pausesJson(std::optional<int64_t> open_end_ms = std::nullopt) const;
  /// Per recorded stream, its side of the call ("left", "right", "") from the metadata: the
  /// first sending participant (document order) is left, the next right.
  std::vector<std::string> streamSides() const;
  /// Writes the recording's row and a state transition (asynchronously, in order).
  /// `outcome` adds what rendering produced (state "ready").
  void persist(std::string_view state, std::string detail,
               const FinalizeOutcome* outcome = nullptr);
  std::filesystem::path directory() const;

  SessionContext& context_;
  std::shared_ptr<const DomainPolicy> domain_;
  std::string recording_id_;
  std::string local_tag_;
  SessionState state_ = SessionState::Offered;
  std::string end_reason_;

  std::shared_ptr<sip::ServerTransaction> pending_invite_;
  std::optional<sip::Dialog> dialog_;
  sip::Message initial_invite_;
  sip::PeerAddress peer_;
  CallIdentity identity_;
  std::string answer_address_;
  uint64_t sdp_session_id_ = 0;
  uint64_t sdp_version_ = 0;
  sdp::SessionDescription current_offer_;
  std::vector<sdp::NegotiatedStream> negotiated_;
  std::vector<RecordedStream> streams_;
  std::size_t streams_open_ = 0;

  std::optional<RsMetadata> metadata_;
  std::string metadata_xml_;

  std::unique_ptr<Timer> decision_;
  std::unique_ptr<Timer> session_timer_;
  std::unique_ptr<Timer> rtp_timer_;
  std::chrono::seconds session_expires_{0};
  int64_t created_ms_ = 0;
  std::optional<int64_t> answered_ms_;
  std::optional<int64_t> ended_ms_;
  bool paused_ = false;
  bool cancelled_ = false;
  struct Pause {
    int64_t from_ms = 0;
    std::optional<int64_t> to_ms;
  };
  std::vector<Pause> pauses_;
  std::function<void()> on_done_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace siprecd::siprec
