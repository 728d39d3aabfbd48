#include "siprec/session_manager.hpp"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "base/log.hpp"
#include "base/random.hpp"
#include "base/strings.hpp"
#include "sdp/parser.hpp"
#include "sip/header_fields.hpp"
#include "sip/response_builder.hpp"
#include "siprec/offer_extractor.hpp"
#include "siprec/session_metrics.hpp"

namespace siprecd::siprec {
namespace {

constexpr std::string_view kComponent = "siprec";
/// Option tags siprecd implements (RFC 3261 §8.2.2.3: anything else in Require → 420).
constexpr std::array<std::string_view, 2> kSupportedOptionTags = {"siprec", "timer"};

/// Methods siprecd knows but does not serve (405 with Allow); anything else gets 501.
bool isKnownMethod(std::string_view method) {
  static constexpr std::array<std::string_view, 10> kKnown = {
      "REGISTER", "SUBSCRIBE", "NOTIFY", "MESSAGE", "REFER",
      "PUBLISH",  "PRACK",     "INFO",   "UPDATE",  "BYE"};
  return std::find(kKnown.begin(), kKnown.end(), method) != kKnown.end();
}

std::string toTagOf(const sip::Message& request) {
  auto to = request.header("To");
  if (!to) {
    return {};
  }
  auto address = sip::parseNameAddr(*to);
  if (!address) {
    return {};
  }
  return std::string(address->params.get("tag").value_or(""));
}

std::string sessionKey(std::string_view call_id, std::string_view local_tag) {
  return fmt::format("{};{}", call_id, local_tag);
}

}  // namespace

SessionManager::SessionManager(SessionContext& context, DomainSelector select_domain)
    : context_(context), select_domain_(std::move(select_domain)) {
  sessionMetrics();  // registers the series so that /metrics shows them from the start
}

SessionManager::~SessionManager() {
  *alive_ = false;
}

void SessionManager::reject(sip::ServerTransaction& transaction, int status,
                            std::string_view warning) {
  sip::Message response = sip::makeResponse(transaction.request(), status, randomToken(12));
  if (!warning.empty()) {
    sip::addWarning(response, "siprecd", warning);
  }
  if (status == 405 || status == 501) {
    response.addHeader("Allow", std::string(kAllowedMethods));
  }
  transaction.respond(response);
}

void SessionManager::onSipRequest(std::shared_ptr<sip::ServerTransaction> transaction) {
  const sip::Message& request = transaction->request();
  if (!toTagOf(request).empty()) {
    if (RecordingSession* session = findSession(request)) {
      session->onInDialogRequest(std::move(transaction));
    } else {
      reject(*transaction, 481);
    }
    return;
  }
  if (request.method() == "INVITE") {
    onInvite(std::move(transaction));
  } else {
    onOutOfDialogRequest(std::move(transaction));
  }
}

void SessionManager::onOutOfDialogRequest(std::shared_ptr<sip::ServerTransaction> transaction) {
  const std::string& method = transaction->request().method();
  if (method == "OPTIONS") {
    // SBCs ping with OPTIONS (RFC 3261 §11.2); while draining say so, so they fail over.
    if (draining_) {
      sip::Message response = sip::makeResponse(transaction->request(), 503, randomToken(12));
      response.addHeader("Retry-After",
                         std::to_string(context_.settings.drain_retry_after.count()));
      transaction->respond(response);
      return;
    }
    sip::Message response = sip::makeResponse(transaction->request(), 200, randomToken(12));
    response.addHeader("Allow", std::string(kAllowedMethods));
    response.addHeader("Accept", "application/sdp, application/rs-metadata+xml, multipart/mixed");
    response.addHeader("Supported", "siprec, timer");
    transaction->respond(response);
    return;
  }
  if (method == "BYE" || method == "UPDATE" || method == "INFO" || method == "PRACK") {
    reject(*transaction, 481);  // needs a dialog it does not name
    return;
  }
  reject(*transaction, isKnownMethod(method) ? 405 : 501);
}

void SessionManager::onInvite(std::shared_ptr<sip::ServerTransaction> transaction) {
  const sip::Message& request = transaction->request();
  if (draining_) {
    sip::Message response = sip::makeResponse(request, 503, randomToken(12));
    response.addHeader("Retry-After", std::to_string(context_.settings.drain_retry_after.count()));
    transaction->respond(response);
    sessionMetrics().calls_rejected.inc();
    return;
  }
  for (std::string_view tag : request.headerValues("Require")) {
    if (std::find(kSupportedOptionTags.begin(), kSupportedOptionTags.end(), tag) ==
        kSupportedOptionTags.end()) {
      sip::Message response = sip::makeResponse(request, 420, randomToken(12));
      response.addHeader("Unsupported", std::string(tag));
      transaction->respond(response);
      sessionMetrics().calls_rejected.inc();
      return;
    }
  }
  auto domain = select_domain_(request, transaction->peer());
  if (!domain) {
    reject(*transaction, 404, "no domain for this request");
    sessionMetrics().calls_rejected.inc();
    return;
  }
  if (domain->require_siprec && !isSiprecRequest(request)) {
    reject(*transaction, 488, "not a SIPREC session (no siprec option tag or +sip.src)");
    sessionMetrics().calls_rejected.inc();
    return;
  }
  if (auto expires = request.header("Session-Expires")) {
    auto seconds = parseUnsigned(trim(expires->substr(0, expires->find(';'))));
    auto minimum = static_cast<uint64_t>(context_.settings.min_session_expires.count());
    if (seconds && *seconds < minimum) {
      sip::Message response = sip::makeResponse(request, 422, randomToken(12));
      response.addHeader("Min-SE", std::to_string(minimum));
      transaction->respond(response);
      sessionMetrics().calls_rejected.inc();
      return;
    }
  }
  auto body = extractSiprecBody(request, context_.settings.max_body_parts);
  if (!body) {
    if (body.error().code == 415) {
      sip::Message response = sip::makeResponse(request, 415, randomToken(12));
      response.addHeader("Accept", "application/sdp, multipart/mixed");
      transaction->respond(response);
    } else {
      reject(*transaction, body.error().code, body.error().message);
    }
    sessionMetrics().calls_rejected.inc();
    return;
  }
  if (!body->sdp) {
    // RFC 7866 §6.1.1 lets the SRC send an offerless INVITE, but every SRC in practice offers;
    // without an offer there is nothing to record yet.
    reject(*transaction, 488, "the INVITE carries no SDP offer");
    sessionMetrics().calls_rejected.inc();
    return;
  }
  auto offer = sdp::parseSdp(*body->sdp);
  if (!offer) {
    reject(*transaction, 400, offer.error().message);
    sessionMetrics().calls_rejected.inc();
    return;
  }

  auto session = std::make_unique<RecordingSession>(context_, std::move(domain), randomUuid());
  std::string call_id(request.header("Call-ID").value_or(""));
  std::string key = sessionKey(call_id, session->localTag());
  log::ScopedContext scope("recording_id", session->recordingId());
  log::info(kComponent, "INVITE for call {} from {}:{}", call_id,
            transaction->peer().remote_address, transaction->peer().remote_port);
  const sip::ServerTransaction* pending = transaction.get();
  if (!session->start(std::move(transaction), *offer, std::move(body->metadata_xml))) {
    return;
  }
  std::weak_ptr<bool> alive = alive_;
  session->setOnDone([this, alive, key] {
    // Posted: the session is still on the stack when it reports being done.
    context_.loop.post([this, alive, key] {
      if (!alive.expired()) {
        removeSession(key);
      }
    });
  });
  pending_[pending] = key;
  sessions_[key] = std::move(session);
  sessionMetrics().sessions_active.set(static_cast<double>(sessions_.size()));
}

RecordingSession* SessionManager::findSession(const sip::Message& request) {
  auto call_id = request.header("Call-ID");
  if (!call_id) {
    return nullptr;
  }
  auto found = sessions_.find(sessionKey(*call_id, toTagOf(request)));
  return found == sessions_.end() ? nullptr : found->second.get();
}

void SessionManager::onSipAck(const sip::Message& ack, const sip::PeerAddress&) {
  if (RecordingSession* session = findSession(ack)) {
    session->onAck();
  }
}

void SessionManager::onSipCancel(sip::ServerTransaction& invite) {
  auto found = pending_.find(&invite);
  if (found == pending_.end()) {
    return;
  }
  auto session = sessions_.find(found->second);
  pending_.erase(found);
  if (session != sessions_.end()) {
    session->second->onCancel();
  }
}

void SessionManager::onSipAckTimeout(const sip::Message& invite, const sip::PeerAddress&) {
  auto call_id = invite.header("Call-ID");
  if (!call_id) {
    return;
  }
  // The INVITE carries no To tag; find the session that answered it.
  for (auto& [key, session] : sessions_) {
    if (key.starts_with(std::string(*call_id) + ";") &&
        session->state() == SessionState::Recording) {
      session->onAckTimeout();
    }
  }
}

void SessionManager::removeSession(const std::string& key) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    it = it->second == key ? pending_.erase(it) : std::next(it);
  }
  sessions_.erase(key);
  sessionMetrics().sessions_active.set(static_cast<double>(sessions_.size()));
  checkDrained();
}

void SessionManager::drain(std::function<void()> on_drained) {
  draining_ = true;
  on_drained_ = std::move(on_drained);
  log::info(kComponent, "draining: {} sessions in progress", sessions_.size());
  checkDrained();
}

void SessionManager::terminateAll(std::string reason) {
  std::vector<RecordingSession*> sessions;
  for (auto& [key, session] : sessions_) {
    sessions.push_back(session.get());
  }
  for (RecordingSession* session : sessions) {
    session->terminate(reason);
  }
}

void SessionManager::checkDrained() {
  if (draining_ && sessions_.empty() && on_drained_) {
    auto callback = std::move(on_drained_);
    on_drained_ = nullptr;
    callback();
  }
}

RecordingSession* SessionManager::findByRecordingId(std::string_view recording_id) {
  for (auto& [key, session] : sessions_) {
    if (session->recordingId() == recording_id && !session->isDone()) {
      return session.get();
    }
  }
  return nullptr;
}

}  // namespace siprecd::siprec
