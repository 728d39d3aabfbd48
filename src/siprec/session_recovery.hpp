#pragma once

#include <cstddef>
#include <filesystem>

#include "base/clock.hpp"
#include "base/worker_pool.hpp"
#include "db/repository.hpp"

namespace siprecd::siprec {

/// Finalises the sessions a previous process left unfinished (crash, kill -9, power loss),
/// so that no recording is silently lost (DESIGN.md §3):
///  - `recording`: rendered from the spools that reached the disk (a torn tail is ignored)
///    into recording.wav/recording.json with `"interrupted": true`, then `ready` (or
///    `failed` with the render error);
///  - `offered` (never answered, so no media): `failed`, its directory removed.
/// Call once at start-up, before SIP listens. Reads the store synchronously; renders run on
/// `workers`, each persisting its outcome. Returns the number of sessions found.
std::size_t recoverInterruptedSessions(db::Repository& repository, WorkerPool& workers,
                                       const std::filesystem::path& data_dir, const Clock& clock);

}  // namespace siprecd::siprec
