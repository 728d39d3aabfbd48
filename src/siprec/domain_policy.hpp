#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace siprecd::siprec {

/// What the recording session needs to know of the domain (tenant) an INVITE belongs to.
/// Built by the app layer from the configuration; immutable and shared.
struct DomainPolicy {
  std::string name;
  /// Refuse INVITEs that are not SIPREC (no `siprec` option tag and no +sip.src) with 488.
  bool require_siprec = false;
  /// Codec preference for SDP answers, e.g. {"PCMU", "PCMA"}.
  std::vector<std::string> codecs{"PCMU", "PCMA"};
  /// Base URL of the application's callbacks; empty: every call is recorded.
  std::string callback_base;
  /// SDES-SRTP policy: "optional", "required" or "refused".
  std::string srtp = "optional";
  /// Test and operations hook: the record decision is delayed this long (0: immediate).
  std::chrono::milliseconds decision_delay{0};
};

}  // namespace siprecd::siprec
