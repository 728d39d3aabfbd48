#include "app/live_session_commands.hpp"

namespace siprecd::app {

void LiveSessionCommands::apply(std::string recording_id, control::SessionCommand command,
                                std::function<void(Result<void>)> done) {
  loop_.post([this, recording_id = std::move(recording_id), command, done = std::move(done)] {
    if (sessions_ == nullptr) {
      done(fail("siprecd is shutting down", 503));
      return;
    }
    auto* session = sessions_->findByRecordingId(recording_id);
    if (session == nullptr) {
      done(fail("recording " + recording_id + " has no call in progress", 404));
      return;
    }
    switch (command) {
      case control::SessionCommand::Stop:
        done(session->stopRecording());
        return;
      case control::SessionCommand::Cancel:
        done(session->cancelRecording());
        return;
      case control::SessionCommand::Pause:
        done(session->pauseRecording());
        return;
      case control::SessionCommand::Resume:
        done(session->resumeRecording());
        return;
    }
  });
}

}  // namespace siprecd::app
