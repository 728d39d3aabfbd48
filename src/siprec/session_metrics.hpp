#pragma once

#include "base/metrics.hpp"

namespace siprecd::siprec {

/// Counters of the SIPREC layer, registered once in the process registry.
struct SessionMetrics {
  Counter& calls_recorded;
  Counter& calls_declined;
  Counter& calls_cancelled;
  Counter& calls_rejected;
  Counter& recordings_ready;
  Counter& recordings_failed;
  Counter& metadata_errors;
  Gauge& sessions_active;
};

inline SessionMetrics& sessionMetrics() {
  static SessionMetrics instance{
      metrics().counter("siprecd_calls_total", "INVITEs by outcome", {{"result", "recorded"}}),
      metrics().counter("siprecd_calls_total", "INVITEs by outcome", {{"result", "declined"}}),
      metrics().counter("siprecd_calls_total", "INVITEs by outcome", {{"result", "cancelled"}}),
      metrics().counter("siprecd_calls_total", "INVITEs by outcome", {{"result", "rejected"}}),
      metrics().counter("siprecd_recordings_total", "Finalised recordings by outcome",
                        {{"result", "ready"}}),
      metrics().counter("siprecd_recordings_total", "Finalised recordings by outcome",
                        {{"result", "failed"}}),
      metrics().counter("siprecd_metadata_errors_total",
                        "RFC 7865 metadata documents that could not be parsed"),
      metrics().gauge("siprecd_sessions_active",
                      "Recording sessions in progress (offered, recording or finalising)"),
  };
  return instance;
}

}  // namespace siprecd::siprec
