#pragma once

#include <functional>
#include <string>

#include "base/result.hpp"

namespace siprecd::control {

/// Commands that act on a call still in progress (DESIGN.md §2 command table).
enum class SessionCommand {
  Stop,    ///< STOPRECORDING: BYE, keep what was recorded, → ready
  Cancel,  ///< CANCELRECORDING: BYE, discard everything, → cancelled
  Pause,   ///< PAUSERECORDING: silence from now on, → paused
  Resume,  ///< RESUMERECORDING: audio again, → recording
};

/// The live calls, as the command handler sees them (implemented by the wiring over the
/// SIP thread's SessionManager). Thread-safe.
class LiveSessions {
 public:
  virtual ~LiveSessions() = default;
  /// Applies `command` to the live session `recording_id` and calls `done` once (on any
  /// thread) with success, or an error whose code is the HTTP status to answer: 404 when
  /// the recording has no live session, 409 when its state does not allow the command
  /// (e.g. RESUME when not paused). Success means the change is decided; the state it
  /// leads to is persisted and announced by the session.
  virtual void apply(std::string recording_id, SessionCommand command,
                     std::function<void(Result<void>)> done) = 0;
};

}  // namespace siprecd::control
