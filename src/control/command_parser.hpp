#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/result.hpp"
#include "control/command_handler.hpp"
#include "control/domain_settings.hpp"
#include "control/recording_jobs.hpp"

/// Validation of command envelopes and STORERECORDING fields (DESIGN.md §2 "Commands").
/// Pure functions: no I/O, any thread. Every failure has code 400 and a message that starts
/// with the JSON path of the faulty field ("modificationParams.mask[1].to: ...").
namespace siprecd::control {

enum class CommandMethod {
  StoreRecording,
  DeleteRecording,
  StopRecording,
  CancelRecording,
  PauseRecording,
  ResumeRecording,
};

/// "STORERECORDING", ... (the envelope's `method`).
std::string_view commandName(CommandMethod method);
/// The method for `name`, case-insensitive ("storerecording" from a REST path works too);
/// nullopt for anything else.
std::optional<CommandMethod> parseCommandMethod(std::string_view name);

/// The envelope every command shares: {"method", "recordingId", "replyId"}.
struct CommandEnvelope {
  CommandMethod method = CommandMethod::StoreRecording;
  std::string recording_id;
  std::optional<std::string> reply_id;
};

/// Checks the envelope of `request`: `request.method` names a command; the body is a JSON
/// object; its `method`, when present, is a string equal (case-insensitive) to
/// `request.method`; `recordingId` is a non-empty string of at most 128 characters;
/// `replyId`, when present and not null, is a non-empty string. Unknown top-level fields
/// are ignored (command fields of other methods, future fields).
Result<CommandEnvelope> parseCommandEnvelope(const CommandRequest& request);

/// The recording's timeline as the command sees it (epoch ms): relative times are offsets
/// from `start_ms`; an open trim end is `end_ms` (nullopt: the end of the recording, so the
/// renderer clamps it).
struct RecordingTimeline {
  int64_t start_ms = 0;
  std::optional<int64_t> end_ms;
};

/// Validates the STORERECORDING fields of `body` and builds the request with absolute
/// times (epoch ms). Fields:
/// - `destination`: a name configured for `domain`, or "http" (default "local");
/// - `key` or `path` (alternatives): a key template overriding the destination's, checked
///   with storage::expandKeyTemplate (it can never leave the destination's root);
/// - `url`: required with, and only allowed with, a destination of kind http (the built-in
///   "http" or a configured one): http:// or https://;
/// - `format` wav|flac|mp3|opus, `layout` stereo|mono|multitrack (case-insensitive);
/// - `modificationParams` {absoluteTimes: bool, trim: {from?, to?} (at least one),
///   mask: M | [M...]} with M = {from, to, type: "beep" | "silence" (default "beep")}.
///   Times are non-negative numbers of milliseconds (fractions are rounded), from < to.
///   Unknown keys inside modificationParams, trim and masks are rejected: a misspelt mask
///   must never be silently ignored.
Result<StoreRequest> parseStoreRequest(const nlohmann::json& body, const DomainSettings& domain,
                                       std::string recording_id, const RecordingTimeline& timeline);

}  // namespace siprecd::control
