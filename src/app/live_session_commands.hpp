#pragma once

#include "base/event_loop.hpp"
#include "control/live_sessions.hpp"
#include "siprec/session_manager.hpp"

namespace siprecd::app {

/// control::LiveSessions over the SIP thread's SessionManager: each command is posted to the
/// SIP loop and applied there, where the sessions live.
class LiveSessionCommands final : public control::LiveSessions {
 public:
  /// Both must outlive this object; commands arriving after the manager is gone are
  /// answered 503 (see detach()).
  LiveSessionCommands(EventLoop& sip_loop, siprec::SessionManager& sessions)
      : loop_(sip_loop), sessions_(&sessions) {}

  void apply(std::string recording_id, control::SessionCommand command,
             std::function<void(Result<void>)> done) override;

  /// Called on the SIP loop before the manager is destroyed.
  void detach() { sessions_ = nullptr; }

 private:
  EventLoop& loop_;
  siprec::SessionManager* sessions_;  // SIP loop only
};

}  // namespace siprecd::app
