#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>

#include "base/clock.hpp"
#include "base/worker_pool.hpp"
#include "control/event_sink.hpp"
#include "db/repository.hpp"

namespace siprecd::siprec {

/// Finalises the sessions a previous process left unfinished (crash, kill -9, power loss),
/// so that no recording is silently lost (DESIGN.md §3):
///  - `recording` or `paused`: rendered from the spools that reached the disk (a torn tail is
///  ignored)
///    into recording.wav/recording.json with `"interrupted": true`, then `ready` (or
///    `failed` with the render error), announced with RECORDINGREADY (or RECORDINGFAILED);
///  - `offered` (never answered, so no media): `failed`, its directory removed.
/// Call once at start-up, before SIP listens. Reads the store synchronously; renders run on
/// `workers`, each persisting its outcome. Returns the number of sessions found.
/// Called (on a worker thread) for each recovered recording once its `ready` state is
/// queued: auto-store. Arguments: domain, recording id.
using RecoveredCallback = std::function<void(const std::string&, const std::string&)>;

std::size_t recoverInterruptedSessions(db::Repository& repository, control::EventSink& events,
                                       WorkerPool& workers, const std::filesystem::path& data_dir,
                                       const Clock& clock, RecoveredCallback on_ready = {});

}  // namespace siprecd::siprec
