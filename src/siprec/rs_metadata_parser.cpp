// parseRsMetadata(): RFC 7865 recording metadata XML → RsMetadata.
//
// pugixml builds the tree (it neither resolves namespaces nor expands external
// entities); this file resolves namespace prefixes itself, matches element and attribute
// names tolerantly, and collects everything into RsMetadata keyed by id, so that the
// document's element order does not matter.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <pugixml.hpp>

#include "base/strings.hpp"
#include "siprec/rs_metadata.hpp"

namespace siprecd::siprec {
namespace {

constexpr std::string_view kRecordingNamespace = "urn:ietf:params:xml:ns:recording:1";
constexpr std::string_view kDraftRecordingNamespace = "urn:ietf:params:xml:ns:recording";
// Early drafts (draft-ram-siprec-metadata-format), still sent by BroadWorks: root
// <recording_metadata>, <send><id>stream</id></send>.
constexpr std::string_view kEarlyDraftNamespace = "urn:ietf:params:xml:ns:siprec";
constexpr std::string_view kXmlNamespace = "http://www.w3.org/XML/1998/namespace";
constexpr std::size_t kMaxAttributesPerElement = 64;

// ---- UTF-8 hygiene -------------------------------------------------------------------

// Length of the valid UTF-8 sequence at `text[pos]` (RFC 3629 §4), or 0 when invalid.
std::size_t utf8SequenceLength(std::string_view text, std::size_t pos) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[pos + i]); };
  const auto continuation = [&](std::size_t i) {
    return pos + i < text.size() && (byte(i) & 0xC0) == 0x80;
  };
  const unsigned char lead = byte(0);
  if (lead < 0x80) {
    return 1;
  }
  if (lead >= 0xC2 && lead <= 0xDF) {
    return continuation(1) ? 2 : 0;
  }
  if (lead >= 0xE0 && lead <= 0xEF) {
    if (!continuation(1) || !continuation(2)) {
      return 0;
    }
    if ((lead == 0xE0 && byte(1) < 0xA0) || (lead == 0xED && byte(1) > 0x9F)) {
      return 0;  // overlong, or a UTF-16 surrogate
    }
    return 3;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    if (!continuation(1) || !continuation(2) || !continuation(3)) {
      return 0;
    }
    if ((lead == 0xF0 && byte(1) < 0x90) || (lead == 0xF4 && byte(1) > 0x8F)) {
      return 0;  // overlong, or beyond U+10FFFF
    }
    return 4;
  }
  return 0;
}

// `text` with each invalid UTF-8 byte replaced by U+FFFD, so that every string in the
// model can go into JSON (nlohmann::json::dump() throws on invalid UTF-8).
std::string validUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t length = utf8SequenceLength(text, pos);
    if (length == 0) {
      out += "\xEF\xBF\xBD";
      ++pos;
    } else {
      out.append(text.substr(pos, length));
      pos += length;
    }
  }
  return out;
}

// ---- names and namespaces ------------------------------------------------------------

std::string_view prefixOf(std::string_view qualified_name) {
  const std::size_t colon = qualified_name.find(':');
  return colon == std::string_view::npos ? std::string_view{} : qualified_name.substr(0, colon);
}

std::string_view localNameOf(std::string_view qualified_name) {
  const std::size_t colon = qualified_name.find(':');
  return colon == std::string_view::npos ? qualified_name : qualified_name.substr(colon + 1);
}

// The name used for matching: the local part, lower case, without '-' and '_'
// ("dataMode" → "datamode", "participant-id" → "participantid").
std::string canonicalName(std::string_view qualified_name) {
  std::string out;
  for (char c : localNameOf(qualified_name)) {
    if (c == '-' || c == '_') {
      continue;
    }
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

bool isNamespaceDeclaration(std::string_view attribute_name) {
  return attribute_name == "xmlns" || attribute_name.starts_with("xmlns:");
}

// The namespace URI bound to `prefix` in scope at `element` (XML Namespaces §6.1): the
// nearest xmlns declaration among the element and its ancestors. "" for the empty prefix
// with no default namespace; nullopt for an undeclared non-empty prefix.
std::optional<std::string_view> namespaceUri(pugi::xml_node element, std::string_view prefix) {
  if (prefix == "xml") {
    return kXmlNamespace;
  }
  for (pugi::xml_node node = element; node.type() == pugi::node_element; node = node.parent()) {
    for (const pugi::xml_attribute attribute : node.attributes()) {
      const std::string_view name = attribute.name();
      const bool declares = prefix.empty() ? name == "xmlns"
                                           : (name.size() == prefix.size() + 6 &&
                                              name.starts_with("xmlns:") && name.ends_with(prefix));
      if (declares) {
        return trim(attribute.value());
      }
    }
  }
  if (prefix.empty()) {
    return std::string_view{};
  }
  return std::nullopt;
}

// True when `element` is in one of the recording namespaces or in none: the elements
// RFC 7865 defines. Everything else is an extension (RFC 7865 allows ##other anywhere).
bool isRecordingElement(pugi::xml_node element) {
  const auto uri = namespaceUri(element, prefixOf(element.name()));
  return uri && (uri->empty() || *uri == kRecordingNamespace || *uri == kDraftRecordingNamespace ||
                 *uri == kEarlyDraftNamespace);
}

// The recording-namespace kind of a child element ("participant", "sendrecv"...), or ""
// for an element that belongs to another namespace.
std::string kindOf(pugi::xml_node element) {
  return isRecordingElement(element) ? canonicalName(element.name()) : std::string{};
}

// The trimmed value of the first attribute whose canonical name is one of `names`
// (tried in order), or "".
std::string attributeValue(pugi::xml_node element, std::initializer_list<std::string_view> names) {
  for (const std::string_view wanted : names) {
    for (const pugi::xml_attribute attribute : element.attributes()) {
      if (!isNamespaceDeclaration(attribute.name()) && canonicalName(attribute.name()) == wanted) {
        return validUtf8(trim(attribute.value()));
      }
    }
  }
  return {};
}

// The element's character data (text and CDATA children, concatenated), trimmed.
std::string textOf(pugi::xml_node element) {
  std::string text;
  for (const pugi::xml_node child : element.children()) {
    if (child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata) {
      text += child.value();
    }
  }
  return validUtf8(trim(text));
}

std::optional<int64_t> timeOf(pugi::xml_node element) {
  return parseRsDateTimeMs(textOf(element));
}

void appendUnique(std::vector<std::string>& values, std::string value) {
  if (value.empty()) {
    return;
  }
  for (const std::string& existing : values) {
    if (existing == value) {
      return;
    }
  }
  values.push_back(std::move(value));
}

struct StringWriter final : pugi::xml_writer {
  std::string out;
  void write(const void* data, std::size_t size) override {
    out.append(static_cast<const char*>(data), size);
  }
};

// ---- the document walk ---------------------------------------------------------------

// A time given in two ways: the RFC 7865 element wins over the legacy/fallback one.
struct TimeChoice {
  std::optional<int64_t> primary;
  std::optional<int64_t> fallback;
  std::optional<int64_t> resolve() const { return primary ? primary : fallback; }
};

// Collects one document into RsMetadata; one instance per parse.
class MetadataBuilder {
 public:
  explicit MetadataBuilder(std::size_t extension_budget_bytes)
      : extension_budget_bytes_(extension_budget_bytes) {}

  void addTopLevel(pugi::xml_node element);
  RsMetadata finish() &&;

 private:
  void addGroup(pugi::xml_node element);
  void addSession(pugi::xml_node element);
  void addParticipant(pugi::xml_node element);
  void addStream(pugi::xml_node element);
  void addSessionRecordingAssoc(pugi::xml_node element);
  void addParticipantSessionAssoc(pugi::xml_node element);
  /// An association's <associate-time>/<disassociate-time> children go into the given
  /// slots; any other child is kept as extension data.
  void readAssociationTimes(pugi::xml_node element, std::string& extension_xml,
                            std::optional<int64_t>& associate,
                            std::optional<int64_t>& disassociate);
  void addParticipantStreamAssoc(pugi::xml_node element);
  void addStreamRef(RsParticipant& participant, pugi::xml_node element, bool send);

  template <typename T>
  T& findOrAdd(std::vector<T>& items, std::unordered_map<std::string, std::size_t>& index,
               const std::string& id) {
    const auto [it, inserted] = index.try_emplace(id, items.size());
    if (inserted) {
      items.emplace_back().id = id;
    }
    return items[it->second];
  }
  RsGroup& group(const std::string& id) { return findOrAdd(metadata_.groups, groups_, id); }
  RsSession& session(const std::string& id) { return findOrAdd(metadata_.sessions, sessions_, id); }
  RsParticipant& participant(const std::string& id) {
    return findOrAdd(metadata_.participants, participants_, id);
  }
  RsStream& stream(const std::string& id) { return findOrAdd(metadata_.streams, streams_, id); }

  // Appends `element` as raw XML to `out`, with the namespace declarations it relies on
  // from its ancestors, while the per-document extension budget lasts.
  void appendExtension(std::string& out, pugi::xml_node element);

  RsMetadata metadata_;
  std::unordered_map<std::string, std::size_t> groups_, sessions_, participants_, streams_;
  std::unordered_map<std::string, TimeChoice> session_start_, session_stop_;
  std::unordered_map<std::string, TimeChoice> participant_join_, participant_leave_;
  // Acme Packet's <extensiondata parent="id">, attached once every id is known.
  std::vector<std::pair<std::string, pugi::xml_node>> parented_extensions_;
  std::size_t extension_budget_bytes_;
};

void MetadataBuilder::appendExtension(std::string& out, pugi::xml_node element) {
  // Prefixes used in the subtree that are declared outside it.
  std::unordered_set<std::string> prefixes;
  const auto note_prefix = [&](std::string_view name) {
    const std::string_view prefix = prefixOf(name);
    if (!prefix.empty() && prefix != "xml" && prefix != "xmlns") {
      prefixes.emplace(prefix);
    }
  };
  std::vector<pugi::xml_node> pending{element};
  while (!pending.empty()) {
    const pugi::xml_node node = pending.back();
    pending.pop_back();
    note_prefix(node.name());
    for (const pugi::xml_attribute attribute : node.attributes()) {
      note_prefix(attribute.name());
    }
    for (const pugi::xml_node child : node.children()) {
      if (child.type() == pugi::node_element) {
        pending.push_back(child);
      }
    }
  }
  std::vector<std::pair<std::string, std::string_view>> declarations;
  std::size_t declarations_bytes = 0;
  for (const std::string& prefix : prefixes) {
    const std::string attribute_name = "xmlns:" + prefix;
    if (element.attribute(attribute_name.c_str())) {
      continue;
    }
    const auto uri = namespaceUri(element.parent(), prefix);
    if (uri) {
      declarations_bytes += attribute_name.size() + uri->size() + 4;
      declarations.emplace_back(attribute_name, *uri);
    }
  }
  if (declarations_bytes > extension_budget_bytes_) {
    extension_budget_bytes_ = 0;
    return;
  }

  StringWriter writer;
  if (declarations.empty()) {
    element.print(writer, "", pugi::format_raw, pugi::encoding_utf8);
  } else {
    pugi::xml_document copy;
    pugi::xml_node root = copy.append_copy(element);
    for (const auto& [name, uri] : declarations) {
      root.prepend_attribute(name.c_str()).set_value(std::string(uri).c_str());
    }
    root.print(writer, "", pugi::format_raw, pugi::encoding_utf8);
  }
  if (writer.out.size() > extension_budget_bytes_) {
    extension_budget_bytes_ = 0;
    return;
  }
  extension_budget_bytes_ -= writer.out.size();
  out += validUtf8(writer.out);
}

void MetadataBuilder::addTopLevel(pugi::xml_node element) {
  const std::string kind = kindOf(element);
  if (kind == "datamode") {
    metadata_.data_mode =
        iequals(textOf(element), "partial") ? DataMode::Partial : DataMode::Complete;
  } else if (kind == "group") {
    addGroup(element);
  } else if (kind == "session") {
    addSession(element);
  } else if (kind == "participant") {
    addParticipant(element);
  } else if (kind == "stream") {
    addStream(element);
  } else if (kind == "sessionrecordingassoc") {
    addSessionRecordingAssoc(element);
  } else if (kind == "participantsessionassoc") {
    addParticipantSessionAssoc(element);
  } else if (kind == "participantstreamassoc") {
    addParticipantStreamAssoc(element);
  } else if (kind == "extensiondata" && !attributeValue(element, {"parent"}).empty()) {
    parented_extensions_.emplace_back(attributeValue(element, {"parent"}), element);
  } else {
    appendExtension(metadata_.extension_xml, element);
  }
}

void MetadataBuilder::addGroup(pugi::xml_node element) {
  const std::string id = attributeValue(element, {"groupid", "id"});
  if (id.empty()) {
    return;
  }
  RsGroup& item = group(id);
  for (const pugi::xml_node child : element.children()) {
    if (child.type() != pugi::node_element) {
      continue;
    }
    const std::string kind = kindOf(child);
    if (kind == "associatetime") {
      item.associate_time_ms = timeOf(child);
    } else if (kind == "disassociatetime") {
      item.disassociate_time_ms = timeOf(child);
    } else {
      appendExtension(item.extension_xml, child);
    }
  }
}

void MetadataBuilder::addSession(pugi::xml_node element) {
  const std::string id = attributeValue(element, {"sessionid", "id"});
  if (id.empty()) {
    return;
  }
  RsSession& item = session(id);
  if (item.group_id.empty()) {
    item.group_id = attributeValue(element, {"groupref", "groupid", "group"});
  }
  for (const pugi::xml_node child : element.children()) {
    if (child.type() != pugi::node_element) {
      continue;
    }
    const std::string kind = kindOf(child);
    if (kind == "sipsessionid") {
      appendUnique(item.sip_session_ids, textOf(child));
    } else if (kind == "groupref") {
      if (std::string group_id = textOf(child); !group_id.empty()) {
        item.group_id = std::move(group_id);
      }
    } else if (kind == "starttime") {
      session_start_[id].primary = timeOf(child);
    } else if (kind == "stoptime") {
      session_stop_[id].primary = timeOf(child);
    } else if (kind == "associatetime") {
      session_start_[id].fallback = timeOf(child);
    } else if (kind == "disassociatetime") {
      session_stop_[id].fallback = timeOf(child);
    } else if (kind == "reason") {
      item.reason = textOf(child);
    } else {
      appendExtension(item.extension_xml, child);
    }
  }
}

void MetadataBuilder::addParticipant(pugi::xml_node element) {
  const std::string id = attributeValue(element, {"participantid", "id"});
  if (id.empty()) {
    return;
  }
  RsParticipant& item = participant(id);
  for (const pugi::xml_node child : element.children()) {
    if (child.type() != pugi::node_element) {
      continue;
    }
    const std::string kind = kindOf(child);
    if (kind == "nameid") {
      appendUnique(item.aors, attributeValue(child, {"aor"}));
      for (const pugi::xml_node name : child.children()) {
        if (name.type() == pugi::node_element && item.name.empty() && kindOf(name) == "name") {
          item.name = textOf(name);
        }
      }
    } else if (kind == "aor") {
      appendUnique(item.aors, textOf(child));
    } else if (kind == "name") {
      if (item.name.empty()) {
        item.name = textOf(child);
      }
    } else if (kind == "send" || kind == "recv") {
      addStreamRef(item, child, kind == "send");
    } else if (kind == "associatetime" || kind == "starttime") {
      participant_join_[id].fallback = timeOf(child);
    } else if (kind == "disassociatetime" || kind == "stoptime") {
      participant_leave_[id].fallback = timeOf(child);
    } else {
      appendExtension(item.extension_xml, child);
    }
  }
}

void MetadataBuilder::addStreamRef(RsParticipant& participant, pugi::xml_node element, bool send) {
  participant.streams_known = true;
  std::string stream_id = textOf(element);
  if (stream_id.empty()) {
    for (const pugi::xml_node child : element.children()) {
      if (child.type() == pugi::node_element && kindOf(child) == "id") {
        stream_id = textOf(child);
        break;
      }
    }
  }
  appendUnique(send ? participant.send : participant.recv, std::move(stream_id));
}

void MetadataBuilder::addStream(pugi::xml_node element) {
  const std::string id = attributeValue(element, {"streamid", "id"});
  if (id.empty()) {
    return;
  }
  RsStream& item = stream(id);
  if (std::string session_id = attributeValue(element, {"sessionid", "session"});
      !session_id.empty()) {
    item.session_id = std::move(session_id);
  }
  for (const pugi::xml_node child : element.children()) {
    if (child.type() != pugi::node_element) {
      continue;
    }
    if (kindOf(child) == "label") {
      item.label = textOf(child);
    } else {
      appendExtension(item.extension_xml, child);
    }
  }
}

void MetadataBuilder::addSessionRecordingAssoc(pugi::xml_node element) {
  const std::string id = attributeValue(element, {"sessionid", "id"});
  if (id.empty()) {
    return;
  }
  readAssociationTimes(element, session(id).extension_xml, session_start_[id].fallback,
                       session_stop_[id].fallback);
}

void MetadataBuilder::addParticipantSessionAssoc(pugi::xml_node element) {
  const std::string id = attributeValue(element, {"participantid"});
  if (id.empty()) {
    return;
  }
  readAssociationTimes(element, participant(id).extension_xml, participant_join_[id].primary,
                       participant_leave_[id].primary);
}

void MetadataBuilder::readAssociationTimes(pugi::xml_node element, std::string& extension_xml,
                                           std::optional<int64_t>& associate,
                                           std::optional<int64_t>& disassociate) {
  for (const pugi::xml_node child : element.children()) {
    if (child.type() != pugi::node_element) {
      continue;
    }
    const std::string kind = kindOf(child);
    if (kind == "associatetime") {
      associate = timeOf(child);
    } else if (kind == "disassociatetime") {
      disassociate = timeOf(child);
    } else {
      appendExtension(extension_xml, child);
    }
  }
}

void MetadataBuilder::addParticipantStreamAssoc(pugi::xml_node element) {
  const std::string id = attributeValue(element, {"participantid"});
  if (id.empty()) {
    return;
  }
  RsParticipant& item = participant(id);
  item.streams_known = true;
  for (const pugi::xml_node child : element.children()) {
    if (child.type() != pugi::node_element) {
      continue;
    }
    const std::string kind = kindOf(child);
    if (kind == "send" || kind == "recv") {
      addStreamRef(item, child, kind == "send");
    } else {
      appendExtension(item.extension_xml, child);
    }
  }
}

RsMetadata MetadataBuilder::finish() && {
  for (RsSession& item : metadata_.sessions) {
    if (const auto it = session_start_.find(item.id); it != session_start_.end()) {
      item.start_time_ms = it->second.resolve();
    }
    if (const auto it = session_stop_.find(item.id); it != session_stop_.end()) {
      item.stop_time_ms = it->second.resolve();
    }
  }
  for (RsParticipant& item : metadata_.participants) {
    if (const auto it = participant_join_.find(item.id); it != participant_join_.end()) {
      item.associate_time_ms = it->second.resolve();
    }
    if (const auto it = participant_leave_.find(item.id); it != participant_leave_.end()) {
      item.disassociate_time_ms = it->second.resolve();
    }
  }
  for (const auto& [parent, element] : parented_extensions_) {
    std::string* target = &metadata_.extension_xml;
    if (const auto it = participants_.find(parent); it != participants_.end()) {
      target = &metadata_.participants[it->second].extension_xml;
    } else if (const auto it2 = sessions_.find(parent); it2 != sessions_.end()) {
      target = &metadata_.sessions[it2->second].extension_xml;
    } else if (const auto it3 = streams_.find(parent); it3 != streams_.end()) {
      target = &metadata_.streams[it3->second].extension_xml;
    } else if (const auto it4 = groups_.find(parent); it4 != groups_.end()) {
      target = &metadata_.groups[it4->second].extension_xml;
    }
    appendExtension(*target, element);
  }
  return std::move(metadata_);
}

// Counts elements and checks depth and attribute counts against the limits.
class LimitChecker final : public pugi::xml_tree_walker {
 public:
  explicit LimitChecker(const RsMetadataLimits& limits) : limits_(limits) {}

  bool for_each(pugi::xml_node& node) override {
    if (node.type() != pugi::node_element) {
      return true;
    }
    if (++elements_ > limits_.max_elements) {
      error_ = Error{
          "rs-metadata has more than " + std::to_string(limits_.max_elements) + " elements", 413};
      return false;
    }
    if (static_cast<std::size_t>(depth()) >= limits_.max_depth) {
      error_ = Error{
          "rs-metadata nests elements deeper than " + std::to_string(limits_.max_depth) + " levels",
          400};
      return false;
    }
    std::size_t attributes = 0;
    for (auto it = node.attributes_begin(); it != node.attributes_end(); ++it) {
      if (++attributes > kMaxAttributesPerElement) {
        error_ = Error{"rs-metadata element has more than " +
                           std::to_string(kMaxAttributesPerElement) + " attributes",
                       413};
        return false;
      }
    }
    return true;
  }

  const std::optional<Error>& error() const { return error_; }

 private:
  const RsMetadataLimits& limits_;
  std::size_t elements_ = 0;
  std::optional<Error> error_;
};

}  // namespace

Result<RsMetadata> parseRsMetadata(std::string_view xml, const RsMetadataLimits& limits) {
  if (xml.size() > limits.max_bytes) {
    return fail("rs-metadata body of " + std::to_string(xml.size()) + " bytes exceeds " +
                    std::to_string(limits.max_bytes),
                413);
  }
  pugi::xml_document document;
  const pugi::xml_parse_result parsed =
      document.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_auto);
  if (!parsed) {
    return fail(std::string("rs-metadata is not well-formed XML: ") + parsed.description() +
                    " at offset " + std::to_string(parsed.offset),
                400);
  }
  LimitChecker checker(limits);
  document.traverse(checker);
  if (checker.error()) {
    return tl::unexpected<Error>(*checker.error());
  }

  pugi::xml_node root;
  for (const pugi::xml_node child : document.children()) {
    if (child.type() != pugi::node_element) {
      continue;
    }
    if (root) {
      return fail("rs-metadata is not well-formed XML: more than one root element", 400);
    }
    root = child;
  }
  const std::string root_kind = root ? canonicalName(root.name()) : std::string{};
  if ((root_kind != "recording" && root_kind != "recordingmetadata") || !isRecordingElement(root)) {
    return fail("rs-metadata root element is not <recording> in the recording namespace", 400);
  }

  MetadataBuilder builder(limits.max_bytes);
  for (const pugi::xml_node child : root.children()) {
    if (child.type() == pugi::node_element) {
      builder.addTopLevel(child);
    }
  }
  return std::move(builder).finish();
}

}  // namespace siprecd::siprec
