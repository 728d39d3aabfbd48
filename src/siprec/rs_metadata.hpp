#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.hpp"

namespace siprecd::siprec {

// The recording metadata model of RFC 7865 as an SRS needs it: who (participants)
// sends and receives which media (streams) in which communication sessions (sessions,
// groups). Plain value types, not thread-safe; every string is valid UTF-8 (the parser
// replaces invalid sequences by U+FFFD). Times are milliseconds since the Unix epoch, UTC.

/// RFC 7865 `<datamode>`: a complete snapshot, or a partial update to merge.
enum class DataMode { Complete, Partial };

/// An RFC 7865 `<participant>` with the times of its `<participantsessionassoc>` and the
/// send/recv stream ids of its `<participantstreamassoc>`.
struct RsParticipant {
  std::string id;                 ///< participant_id (usually base64 of a UUID)
  std::vector<std::string> aors;  ///< nameID aor="..." values (and legacy <aor>), deduplicated
  std::string name;               ///< first non-empty <name> (xml:lang ignored)
  std::vector<std::string> send;  ///< stream ids this participant sends
  std::vector<std::string> recv;  ///< stream ids this participant receives
  /// True when the document carried a participantstreamassoc (or legacy <send>/<recv>)
  /// for this participant: `send`/`recv` are then authoritative, even when empty.
  bool streams_known = false;
  std::optional<int64_t> associate_time_ms;     ///< joined the session
  std::optional<int64_t> disassociate_time_ms;  ///< left the session (set: participant left)
  std::string extension_xml;                    ///< unknown child elements, raw XML, concatenated

  bool operator==(const RsParticipant&) const = default;
};

/// An RFC 7865 media `<stream>`; `label` matches the SDP a=label (RFC 4574) of the
/// m-line that carries it.
struct RsStream {
  std::string id;          ///< stream_id
  std::string session_id;  ///< the communication session it belongs to
  std::string label;       ///< SDP a=label value
  std::string extension_xml;

  bool operator==(const RsStream&) const = default;
};

/// An RFC 7865 communication `<session>` and its `<sessionrecordingassoc>`.
struct RsSession {
  std::string id;                            ///< session_id
  std::string group_id;                      ///< <group-ref>
  std::vector<std::string> sip_session_ids;  ///< <sipSessionID> (RFC 7989 Session-ID values)
  /// <start-time>, else sessionrecordingassoc <associate-time>.
  std::optional<int64_t> start_time_ms;
  /// <stop-time>, else sessionrecordingassoc <disassociate-time>.
  std::optional<int64_t> stop_time_ms;
  std::string reason;  ///< <reason> text, if any
  std::string extension_xml;

  bool operator==(const RsSession&) const = default;
};

/// An RFC 7865 communication session `<group>`.
struct RsGroup {
  std::string id;  ///< group_id
  std::optional<int64_t> associate_time_ms;
  std::optional<int64_t> disassociate_time_ms;
  std::string extension_xml;

  bool operator==(const RsGroup&) const = default;
};

/// One RFC 7865 `<recording>` metadata document, or the merged state of several.
/// Vectors keep document order; ids are unique within each vector.
struct RsMetadata {
  DataMode data_mode = DataMode::Complete;
  std::vector<RsGroup> groups;
  std::vector<RsSession> sessions;
  std::vector<RsParticipant> participants;
  std::vector<RsStream> streams;
  std::string extension_xml;  ///< unknown top-level elements, raw XML, concatenated

  bool operator==(const RsMetadata&) const = default;
};

/// Bounds on what parseRsMetadata() accepts (metadata is network input).
struct RsMetadataLimits {
  std::size_t max_bytes = 256 * 1024;
  std::size_t max_elements = 10000;
  std::size_t max_depth = 32;
};

/// Parses an `application/rs-metadata+xml` body (RFC 7865 XML format; RFC 7866 carries it).
/// Tolerant of real SRCs: elements in any order; namespace
/// `urn:ietf:params:xml:ns:recording:1`, the draft `urn:ietf:params:xml:ns:recording`,
/// the early-draft `urn:ietf:params:xml:ns:siprec` (BroadWorks, root <recording_metadata>,
/// <send><id>..</id></send>) or none, with or without a prefix; element and attribute
/// names matched on their local name case-insensitively with '-' and '_' ignored
/// (`dataMode`, `participant-id`); legacy draft forms (`id`/`session` attributes, <aor>,
/// <send>/<recv>/<start-time> inside <participant>, <extensiondata parent="id">).
/// Elements in other namespaces, and unknown ones, are kept as raw XML in the nearest
/// `extension_xml` (with the xmlns declarations they need), up to `limits.max_bytes` in
/// total per document; beyond that they are dropped. Associations may name participants
/// not declared in the document (partial updates); such participants are created with
/// just their id. Elements without an id, unparseable times and unknown datamode values
/// are ignored (skipped / field absent / Complete).
/// Failure (never throws): code 413 when the input exceeds `limits.max_bytes`,
/// `limits.max_elements`, or 64 attributes on one element; code 400 when the XML is not
/// well-formed, nests deeper than `limits.max_depth`, or the root is not a `recording`
/// element in one of the namespaces above. Any thread; no shared state.
[[nodiscard]] Result<RsMetadata> parseRsMetadata(std::string_view xml,
                                                 const RsMetadataLimits& limits = {});

/// Applies `update` to `current` (RFC 7865 datamode semantics): a Complete update
/// replaces `current`; a Partial one merges by id (groups, sessions, participants,
/// streams): new ids are appended, fields present in the update (non-empty strings and
/// lists, set times) override, a participant's send/recv are replaced when the update
/// has `streams_known` for it, a disassociate time marks it as left, and a later
/// associate time without one clears an earlier departure (re-join); `current.data_mode`
/// is kept by a Partial merge. `update` may alias `current`. Never throws (except std::bad_alloc).
void mergeRsMetadata(RsMetadata& current, const RsMetadata& update);

/// The JSON view used in events and by the REST API:
/// {"participants":[{"participantId","aors":[..],"name","send":[..],"recv":[..],
///   "associateTime","disassociateTime"}],
///  "streams":[{"streamId","label","sessionId"}],
///  "sessions":[{"sessionId","groupId","sipSessionIds":[..],"startTime","stopTime",
///   "reason"}],
///  "groups":[{"groupId","associateTime","disassociateTime"}]}.
/// Ids and arrays are always present; other strings are omitted when empty and times
/// (epoch ms numbers) when unknown. Extension XML is not included.
nlohmann::json rsMetadataToJson(const RsMetadata& metadata);

/// The id of the participant that SENDS the stream whose label is `label` (the SDP
/// a=label of an m-line), used to put each side of the call on its own channel. When
/// several participants send it, one still associated (no disassociate time) is
/// preferred, then document order. nullopt when no stream has that label or nobody
/// sends it.
std::optional<std::string> participantForLabel(const RsMetadata& metadata, std::string_view label);

/// Parses an xs:dateTime (ISO 8601, RFC 3339 profile) as SRCs send it:
/// `YYYY-MM-DDThh:mm:ss[.fraction][Z|±hh:mm|±hhmm|±hh]`; a space may replace 'T', and
/// a missing zone means UTC (legacy SRCs). Fractions beyond milliseconds are truncated.
/// nullopt on anything else or out-of-range fields.
std::optional<int64_t> parseRsDateTimeMs(std::string_view text);

}  // namespace siprecd::siprec
