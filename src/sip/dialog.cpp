#include "sip/dialog.hpp"

#include <utility>

#include "base/strings.hpp"
#include "sip/message_helpers.hpp"

namespace siprecd::sip {
namespace {

/// The URI inside a Route/Record-Route/Contact value, with its header parameters dropped.
Result<NameAddr> parseRouteLike(std::string_view value, std::string_view what) {
  auto parsed = parseNameAddr(value);
  if (!parsed) {
    return fail("malformed " + std::string(what) + ": " + parsed.error().message, 400);
  }
  return parsed;
}

}  // namespace

Result<Dialog> Dialog::createUas(const Message& invite, const PeerAddress& peer,
                                 std::string local_tag) {
  if (local_tag.empty()) {
    return fail("dialog needs a local tag", 500);
  }
  Dialog dialog;
  const auto call_id = invite.header("Call-ID");
  if (!call_id || call_id->empty()) {
    return fail("missing Call-ID", 400);
  }
  dialog.call_id_ = std::string(*call_id);

  const auto from = invite.header("From");
  if (!from) {
    return fail("missing From", 400);
  }
  auto remote = parseNameAddr(*from);
  if (!remote) {
    return fail("malformed From: " + remote.error().message, 400);
  }
  const auto to = invite.header("To");
  if (!to) {
    return fail("missing To", 400);
  }
  auto local = parseNameAddr(*to);
  if (!local) {
    return fail("malformed To: " + local.error().message, 400);
  }
  const auto cseq = cseqOf(invite);
  if (!cseq) {
    return fail(cseq.error().message, 400);
  }
  const auto contacts = invite.headerValues("Contact");
  if (contacts.empty()) {
    return fail("missing Contact", 400);
  }
  auto contact = parseRouteLike(contacts.front(), "Contact");
  if (!contact) {
    return tl::unexpected(contact.error());
  }
  for (const auto value : invite.headerValues("Record-Route")) {
    auto route = parseRouteLike(value, "Record-Route");
    if (!route) {
      return tl::unexpected(route.error());
    }
    dialog.route_set_.emplace_back(value);
  }

  const auto remote_tag = remote->params.get("tag");
  dialog.remote_tag_ = remote_tag ? std::string(*remote_tag) : std::string();
  local->params.set("tag", local_tag);
  dialog.local_tag_ = std::move(local_tag);
  dialog.local_party_ = std::move(*local);
  dialog.remote_party_ = std::move(*remote);
  dialog.remote_target_ = contact->raw_uri.empty() ? contact->uri.toString() : contact->raw_uri;
  dialog.remote_cseq_ = cseq->number;
  dialog.secure_ =
      istartsWith(invite.requestUri(), "sips:") && peer.transport == TransportKind::Tls;
  dialog.peer_ = peer;
  return dialog;
}

Result<void> Dialog::acceptRemoteRequest(const Message& request) {
  if (!isSameDialog(request, *this)) {
    return fail("request does not belong to this dialog", 481);
  }
  const auto cseq = cseqOf(request);
  if (!cseq) {
    return fail(cseq.error().message, 400);
  }
  const std::string& method = request.method();
  if (method == "ACK" || method == "CANCEL") {
    return {};
  }
  if (cseq->number <= remote_cseq_) {
    return fail("CSeq " + std::to_string(cseq->number) + " is not higher than " +
                    std::to_string(remote_cseq_),
                500);
  }
  if (method == "INVITE" || method == "UPDATE") {
    // §12.2.2: a target refresh request replaces the remote target with its Contact.
    const auto contacts = request.headerValues("Contact");
    if (!contacts.empty()) {
      auto contact = parseRouteLike(contacts.front(), "Contact");
      if (!contact) {
        return tl::unexpected(contact.error());
      }
      remote_target_ = contact->raw_uri.empty() ? contact->uri.toString() : contact->raw_uri;
    }
  }
  remote_cseq_ = cseq->number;
  return {};
}

Message Dialog::makeRequest(std::string_view method) {
  std::string request_uri = remote_target_;
  std::vector<std::string> routes = route_set_;
  if (!routes.empty()) {
    const auto first = parseNameAddr(routes.front());
    if (first && !first->uri.params.has("lr")) {
      // §12.2.1.1 strict routing: the first route becomes the Request-URI (without header
      // parameters) and the remote target joins the end of the Route set.
      Uri strict = first->uri;
      strict.headers.clear();
      request_uri = strict.toString();
      routes.erase(routes.begin());
      routes.push_back("<" + remote_target_ + ">");
    }
  }
  Message request = Message::request(std::string(method), std::move(request_uri));
  for (auto& route : routes) {
    request.addHeader("Route", std::move(route));
  }
  request.addHeader("Max-Forwards", "70");
  request.addHeader("From", local_party_.toString());
  request.addHeader("To", remote_party_.toString());
  request.addHeader("Call-ID", call_id_);
  request.addHeader("CSeq", std::to_string(++local_cseq_) + " " + std::string(method));
  return request;
}

PeerAddress Dialog::nextHop() const {
  const std::string& hop_text = route_set_.empty() ? remote_target_ : route_set_.front();
  Result<Uri> uri = route_set_.empty()
                        ? parseUri(hop_text)
                        : parseNameAddr(hop_text).map([](NameAddr a) { return a.uri; });
  if (!uri) {
    return peer_;
  }
  const auto address = normalizeIpLiteral(uri->host);
  const auto transport_param = uri->params.get("transport");
  if (!address || (!uri->port && !transport_param)) {
    return peer_;
  }
  // RFC 3263 §4.1 for a numeric host: the transport parameter, else UDP (sips: TLS) —
  // except that a hop on the peer's own address keeps the peer's transport, since an SRC
  // that talks TCP to us rarely expects a BYE over UDP.
  TransportKind kind = TransportKind::Udp;
  if (uri->scheme == "sips") {
    kind = TransportKind::Tls;
  } else if (transport_param) {
    const auto parsed = parseTransportKind(*transport_param);
    if (!parsed) {
      return peer_;  // e.g. sctp or ws: not ours
    }
    kind = *parsed;
  } else if (*address == peer_.remote_address) {
    kind = peer_.transport;
  }
  PeerAddress hop;
  hop.transport = kind;
  hop.remote_address = *address;
  hop.remote_port = uri->port.value_or(defaultPort(kind));
  if (kind == peer_.transport) {
    hop.local_address = peer_.local_address;
    hop.local_port = peer_.local_port;
    if (*address == peer_.remote_address) {
      hop.connection_id = peer_.connection_id;
    }
  }
  return hop;
}

bool isSameDialog(const Message& request, const Dialog& dialog) {
  const auto call_id = request.header("Call-ID");
  return call_id && *call_id == dialog.callId() &&
         headerTag(request, "From") == dialog.remoteTag() &&
         headerTag(request, "To") == dialog.localTag();
}

}  // namespace siprecd::sip
