#include "siprec/recording_session.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/log.hpp"
#include "base/random.hpp"
#include "base/strings.hpp"
#include "control/event_sink.hpp"
#include "db/repository.hpp"
#include "media/codecs/codec.hpp"
#include "sdp/parser.hpp"
#include "sdp/serializer.hpp"
#include "sip/header_fields.hpp"
#include "sip/response_builder.hpp"
#include "siprec/offer_extractor.hpp"
#include "siprec/record_decider.hpp"
#include "siprec/recording_finalizer.hpp"
#include "siprec/session_metrics.hpp"

namespace siprecd::siprec {
namespace {

constexpr std::string_view kComponent = "siprec";

/// RTP clock rates of the codecs a domain may list (RFC 3551 §6, RFC 7587 for Opus).
uint32_t clockRateOf(std::string_view codec) {
  if (iequals(codec, "opus")) {
    return 48000;
  }
  if (iequals(codec, "L16")) {
    return 44100;
  }
  return 8000;
}

sdp::AnswerPolicy answerPolicyFor(const DomainPolicy& domain) {
  // Only codecs this build can decode are answered (G.729 is optional, SIPRECD_WITH_G729):
  // accepting one the renderer cannot decode would record silence.
  static const std::vector<std::string> kDecodable = media::codecs::supportedCodecNames();
  sdp::AnswerPolicy policy;
  policy.codecs.clear();
  for (const auto& codec : domain.codecs) {
    if (std::none_of(kDecodable.begin(), kDecodable.end(),
                     [&](const std::string& name) { return iequals(name, codec); })) {
      continue;
    }
    policy.codecs.push_back(sdp::CodecPreference{codec, clockRateOf(codec)});
  }
  policy.srtp = sdp::srtpPolicyFromName(domain.srtp).value_or(sdp::SrtpPolicy::Optional);
  return policy;
}

std::string hostForUri(const std::string& address) {
  return address.find(':') != std::string::npos ? "[" + address + "]" : address;
}

std::string wildcardFor(const std::string& address) {
  return address.find(':') != std::string::npos ? "::" : "0.0.0.0";
}

/// Whether the SRC announced it sends media on a stream (hold: inactive or recvonly).
bool expectsMedia(const sdp::NegotiatedStream& stream) {
  return stream.offered_direction == sdp::Direction::SendOnly ||
         stream.offered_direction == sdp::Direction::SendRecv;
}

int64_t epochMicros(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::microseconds>(clock.systemNow().time_since_epoch())
      .count();
}

nlohmann::json streamsJson(const std::vector<RecordedStream>& streams) {
  nlohmann::json list = nlohmann::json::array();
  for (std::size_t i = 0; i < streams.size(); ++i) {
    const auto& stream = streams[i];
    nlohmann::json entry = {{"index", i},
                            {"mlineIndex", stream.mline_index},
                            {"label", stream.label},
                            {"codec", stream.negotiated.codec_name},
                            {"payloadType", stream.negotiated.payload_type},
                            {"port", stream.port}};
    if (stream.stats) {
      entry["packets"] = stream.stats->packets;
      entry["bytes"] = stream.stats->bytes;
      entry["foreignSourcePackets"] = stream.stats->dropped_foreign_source;
      entry["malformedPackets"] = stream.stats->malformed;
      entry["lost"] = stream.stats->lost;
      entry["duplicates"] = stream.stats->duplicates;
      entry["reordered"] = stream.stats->reordered;
      entry["ssrcChanges"] = stream.stats->ssrc_changes;
      entry["jitterMs"] = stream.stats->jitter_ms;
      entry["maxJitterMs"] = stream.stats->max_jitter_ms;
      entry["gapsOver200ms"] = stream.stats->gaps_over_200ms;
      entry["longestGapMs"] = stream.stats->longest_gap_ms;
      entry["dtmfEvents"] = stream.stats->dtmf_events;
      entry["late"] = stream.stats->late;
      entry["spoolRecordsDropped"] = stream.stats->spool_records_dropped;
      entry["spoolWriteErrors"] = stream.stats->spool_write_errors;
      entry["srtpAuthFailures"] = stream.stats->srtp_auth_failures;
      entry["srtpReplays"] = stream.stats->srtp_replays;
      entry["pausedPackets"] = stream.stats->packets_paused;
      nlohmann::json gaps = nlohmann::json::array();
      for (const auto& gap : stream.stats->gaps) {
        gaps.push_back({{"start", gap.start_epoch_ms}, {"duration", gap.duration_ms}});
      }
      entry["gaps"] = std::move(gaps);
      if (stream.stats->first_packet_epoch_us) {
        entry["firstPacketTime"] = *stream.stats->first_packet_epoch_us / 1000;
      }
      if (stream.stats->last_packet_epoch_us) {
        entry["lastPacketTime"] = *stream.stats->last_packet_epoch_us / 1000;
      }
    }
    list.push_back(std::move(entry));
  }
  return list;
}

}  // namespace

RecordingSession::RecordingSession(SessionContext& context,
                                   std::shared_ptr<const DomainPolicy> domain,
                                   std::string recording_id)
    : context_(context),
      domain_(std::move(domain)),
      recording_id_(std::move(recording_id)),
      local_tag_(randomToken(16)) {}

RecordingSession::~RecordingSession() {
  *alive_ = false;
}

std::filesystem::path RecordingSession::directory() const {
  return context_.settings.data_dir / "sessions" / recording_id_;
}

bool RecordingSession::start(std::shared_ptr<sip::ServerTransaction> invite,
                             const sdp::SessionDescription& offer,
                             std::optional<std::string> metadata_xml) {
  log::ScopedContext scope("recording_id", recording_id_);
  pending_invite_ = std::move(invite);
  initial_invite_ = pending_invite_->request();
  peer_ = pending_invite_->peer();
  identity_.call_id = std::string(initial_invite_.header("Call-ID").value_or(""));
  identity_.from = std::string(initial_invite_.header("From").value_or(""));
  identity_.to = std::string(initial_invite_.header("To").value_or(""));
  identity_.request_uri = initial_invite_.requestUri();
  identity_.source = fmt::format("{}:{}:{}", sip::toString(peer_.transport), peer_.remote_address,
                                 peer_.remote_port);
  created_ms_ = context_.loop.clock().epochMs();
  answer_address_ =
      context_.settings.media_ip.empty() ? peer_.local_address : context_.settings.media_ip;
  sdp_session_id_ = randomU64() >> 1;

  if (metadata_xml) {
    mergeMetadata(*metadata_xml, "INVITE");
  }
  auto negotiated = sdp::negotiate(offer, answerPolicyFor(*domain_));
  if (!negotiated) {
    log::info(kComponent, "offer refused: {}", negotiated.error().message);
    respond(*pending_invite_, negotiated.error().code != 0 ? negotiated.error().code : 488,
            negotiated.error().message);
    sessionMetrics().calls_rejected.inc();
    pending_invite_.reset();
    state_ = SessionState::Done;
    return false;
  }
  current_offer_ = offer;
  negotiated_ = std::move(*negotiated);

  // The session directory is created off this thread, by the first spool write or by the
  // renderer: file-system calls here would stall every call's signalling.
  persist("offered", "INVITE received");
  if (domain_->callback_base.empty()) {
    // No synchronous newCall callback: the application still learns of the call (queues).
    context_.events.emit(control::EventType::NewCall, domain_->name, recording_id_, eventData());
  }

  CallOffer call;
  call.recording_id = recording_id_;
  call.domain = domain_.get();
  call.call_id = identity_.call_id;
  call.from = identity_.from;
  call.to = identity_.to;
  call.request_uri = identity_.request_uri;
  call.source = identity_.source;
  call.metadata_json = metadata_ ? rsMetadataToJson(*metadata_).dump() : "{}";
  nlohmann::json offered = nlohmann::json::array();
  for (const auto& stream : negotiated_) {
    if (stream.accepted && stream.media == "audio") {
      nlohmann::json entry = {{"index", stream.index},
                              {"label", stream.label},
                              {"codec", stream.codec_name},
                              {"clockRate", stream.clock_rate},
                              {"srtp", stream.remote_crypto.has_value()}};
      if (metadata_) {
        if (auto participant = participantForLabel(*metadata_, stream.label)) {
          entry["participantId"] = *participant;
        }
      }
      offered.push_back(std::move(entry));
    }
  }
  call.streams_json = offered.dump();
  std::weak_ptr<bool> alive = alive_;
  decision_ = context_.decider.decide(call, [this, alive](RecordDecision decision) {
    if (!alive.expired()) {
      onDecision(decision == RecordDecision::Record);
    }
  });
  return true;
}

void RecordingSession::onDecision(bool record) {
  log::ScopedContext scope("recording_id", recording_id_);
  if (!pending_invite_ || state_ != SessionState::Offered) {
    return;  // cancelled meanwhile
  }
  if (!record) {
    respond(*pending_invite_, 603);
    pending_invite_.reset();
    sessionMetrics().calls_declined.inc();
    finishWithoutRecording("declined", "the application declined the call");
    return;
  }
  auto dialog = sip::Dialog::createUas(initial_invite_, peer_, local_tag_);
  if (!dialog) {
    respond(*pending_invite_, 400, dialog.error().message);
    pending_invite_.reset();
    finishWithoutRecording("failed", dialog.error().message);
    return;
  }
  dialog_ = std::move(*dialog);
  if (auto applied = applyOffer(current_offer_); !applied) {
    log::error(kComponent, "cannot open media: {}", applied.error().message);
    sip::Message response = sip::makeResponse(pending_invite_->request(), 503, local_tag_);
    response.addHeader("Retry-After", "5");
    // The details (paths, ports) stay in our log; the SRC only learns it may retry.
    sip::addWarning(response, "siprecd", "no media resources available");
    pending_invite_->respond(response);
    pending_invite_.reset();
    releaseStreams();
    finishWithoutRecording("failed", "media: " + applied.error().message);
    return;
  }
  state_ = SessionState::Recording;
  answered_ms_ = context_.loop.clock().epochMs();
  respondWithAnswer(*pending_invite_, 200);
  pending_invite_.reset();
  sessionMetrics().calls_recorded.inc();
  persist("recording", "answered");
  context_.events.emit(control::EventType::RecordingStarted, domain_->name, recording_id_,
                       eventData());
  armRtpTimer();
  log::info(kComponent, "recording {} streams for call {}", streams_open_, identity_.call_id);
}

Result<void> RecordingSession::applyOffer(const sdp::SessionDescription& offer) {
  // Streams are identified by their m-line index (RFC 3264 §8: m-lines are never removed);
  // a changed label at an index is a new stream.
  for (auto& stream : streams_) {
    if (!stream.handle) {
      continue;
    }
    bool continues = stream.mline_index < negotiated_.size() &&
                     negotiated_[stream.mline_index].accepted &&
                     negotiated_[stream.mline_index].label == stream.label;
    if (continues) {
      if (!expectsMedia(stream.negotiated) && expectsMedia(negotiated_[stream.mline_index])) {
        stream.media_expected_since_us = epochMicros(context_.loop.clock());  // off hold
      }
      stream.negotiated = negotiated_[stream.mline_index];
      continue;
    }
    std::size_t index = static_cast<std::size_t>(&stream - streams_.data());
    uint64_t id = stream.handle->id;
    stream.handle.reset();
    --streams_open_;
    std::weak_ptr<bool> alive = alive_;
    EventLoop* loop = &context_.loop;
    context_.media.closeStream(id, [this, alive, loop, index](media::StreamStats stats) {
      loop->post([this, alive, index, stats] {
        if (!alive.expired()) {
          streams_[index].stats = stats;
        }
      });
    });
  }
  for (const auto& negotiated : negotiated_) {
    if (!negotiated.accepted || negotiated.media != "audio") {
      continue;
    }
    bool open = std::any_of(streams_.begin(), streams_.end(), [&](const RecordedStream& s) {
      return s.handle && s.mline_index == negotiated.index;
    });
    if (open) {
      continue;
    }
    RecordedStream stream;
    stream.mline_index = negotiated.index;
    stream.label = negotiated.label;
    stream.negotiated = negotiated;
    stream.spool_path = directory() / fmt::format("stream-{}.spool", streams_.size());
    media::StreamSpec spec;
    spec.recording_id = recording_id_;
    spec.stream_index = streams_.size();
    spec.label = negotiated.label;
    spec.spool_path = stream.spool_path;
    spec.bind_address = wildcardFor(answer_address_);
    spec.payload_type = negotiated.payload_type;
    spec.codec_name = negotiated.codec_name;
    spec.clock_rate = negotiated.clock_rate;
    spec.telephone_event_pt = negotiated.telephone_event_pt;
    spec.rtcp_mux = negotiated.rtcp_mux;
    if (negotiated.remote_crypto) {
      spec.srtp = media::StreamSpec::Srtp{negotiated.remote_crypto->suite,
                                          negotiated.remote_crypto->master_key_salt};
    }
    auto handle = context_.media.openStream(spec);
    if (!handle) {
      return fail("stream " + std::to_string(negotiated.index) + ": " + handle.error().message,
                  503);
    }
    if (paused_) {  // a stream added by a re-INVITE during a pause
      context_.media.setCapturePaused(handle->id, true);
    }
    stream.handle = *handle;
    stream.port = handle->port;
    stream.media_expected_since_us = epochMicros(context_.loop.clock());
    streams_.push_back(std::move(stream));
    ++streams_open_;
  }
  current_offer_ = offer;
  return {};
}

std::string RecordingSession::answerSdp() const {
  sdp::LocalMedia local;
  local.address = answer_address_;
  local.ports.assign(negotiated_.size(), 0);
  for (const auto& stream : streams_) {
    if (stream.handle && stream.mline_index < local.ports.size()) {
      local.ports[stream.mline_index] = stream.handle->port;
    }
  }
  auto answer = sdp::buildAnswer(current_offer_, negotiated_, local, sdp_session_id_, sdp_version_);
  return sdp::serializeSdp(answer);
}

void RecordingSession::respondWithAnswer(sip::ServerTransaction& transaction, int status) {
  sip::Message response = sip::makeResponse(transaction.request(), status, local_tag_);
  response.addHeader(
      "Contact", fmt::format("<sip:siprecd@{}:{};transport={}>", hostForUri(peer_.local_address),
                             peer_.local_port, sip::toString(peer_.transport)));
  response.addHeader("Allow", std::string(kAllowedMethods));
  response.addHeader("Supported", "timer");
  if (auto expires = negotiateSessionTimer(transaction.request(), response)) {
    session_expires_ = *expires;
    armSessionTimer();
  }
  response.addHeader("Content-Type", "application/sdp");
  response.setBody(answerSdp());
  transaction.respond(response);
}

void RecordingSession::respond(sip::ServerTransaction& transaction, int status,
                               std::string_view warning) {
  sip::Message response = sip::makeResponse(transaction.request(), status, local_tag_);
  if (!warning.empty()) {
    sip::addWarning(response, "siprecd", warning);
  }
  if (status == 405) {
    response.addHeader("Allow", std::string(kAllowedMethods));
  }
  transaction.respond(response);
}

std::optional<std::chrono::seconds> RecordingSession::negotiateSessionTimer(
    const sip::Message& request, sip::Message& response) {
  // RFC 4028 §9: the UAS takes the UAC's interval; the UAC refreshes (refresher=uac) when it
  // supports the extension. Without `Supported: timer` the UAC cannot refresh, so siprecd
  // runs no session timer rather than becoming the refresher itself.
  auto header = request.header("Session-Expires");
  if (!header || !sip::hasOptionTag(request.headerValues("Supported"), "timer")) {
    return std::nullopt;
  }
  auto value = parseUnsigned(trim(header->substr(0, header->find(';'))));
  if (!value || *value == 0) {
    return std::nullopt;
  }
  auto seconds = std::chrono::seconds(std::max<uint64_t>(
      *value, static_cast<uint64_t>(context_.settings.min_session_expires.count())));
  response.addHeader("Session-Expires", fmt::format("{};refresher=uac", seconds.count()));
  response.addHeader("Require", "timer");
  return seconds;
}

void RecordingSession::armSessionTimer() {
  if (session_expires_.count() == 0 || state_ != SessionState::Recording) {
    return;
  }
  // RFC 4028 §10: the side that does not refresh sends BYE shortly before expiry.
  auto margin = std::min<std::chrono::seconds>(std::chrono::seconds(32), session_expires_ / 3);
  std::weak_ptr<bool> alive = alive_;
  session_timer_ = context_.loop.schedule(session_expires_ - margin, [this, alive] {
    if (!alive.expired()) {
      log::ScopedContext scope("recording_id", recording_id_);
      log::info(kComponent, "session timer expired without refresh");
      end("session-expired", true);
    }
  });
}

void RecordingSession::armRtpTimer() {
  const auto timeout = context_.settings.rtp_timeout;
  if (timeout.count() == 0 || state_ != SessionState::Recording) {
    return;
  }
  // Checked a few times per timeout, at most every 5 s: cheap, and precise enough.
  const auto period = std::clamp<std::chrono::milliseconds>(
      std::chrono::duration_cast<std::chrono::milliseconds>(timeout) / 4,
      std::chrono::milliseconds(250), std::chrono::milliseconds(5000));
  std::weak_ptr<bool> alive = alive_;
  rtp_timer_ = context_.loop.schedule(period, [this, alive] {
    if (!alive.expired()) {
      checkRtpActivity();
    }
  });
}

void RecordingSession::checkRtpActivity() {
  if (state_ != SessionState::Recording) {
    return;
  }
  std::optional<int64_t> latest_us;
  for (const auto& stream : streams_) {
    if (!stream.handle || !expectsMedia(stream.negotiated)) {
      continue;
    }
    int64_t last = std::max(stream.handle->last_packet_epoch_us->load(std::memory_order_relaxed),
                            stream.media_expected_since_us);
    latest_us = std::max(latest_us.value_or(last), last);
  }
  const int64_t timeout_us =
      std::chrono::duration_cast<std::chrono::microseconds>(context_.settings.rtp_timeout).count();
  if (latest_us && epochMicros(context_.loop.clock()) - *latest_us > timeout_us) {
    log::ScopedContext scope("recording_id", recording_id_);
    log::info(kComponent, "no RTP for {} s on any stream", context_.settings.rtp_timeout.count());
    end("rtp-timeout", true);
    return;
  }
  armRtpTimer();
}

void RecordingSession::onCancel() {
  log::ScopedContext scope("recording_id", recording_id_);
  if (!pending_invite_) {
    return;
  }
  decision_.reset();
  respond(*pending_invite_, 487);
  pending_invite_.reset();
  sessionMetrics().calls_cancelled.inc();
  // Media is opened only when the INVITE is answered, so nothing was captured yet.
  finishWithoutRecording("cancelled", "CANCEL before answer");
}

void RecordingSession::onAck() {}

void RecordingSession::onAckTimeout() {
  log::ScopedContext scope("recording_id", recording_id_);
  log::warn(kComponent, "no ACK for our 200 OK; ending the session");
  end("ack-timeout", true);
}

void RecordingSession::terminate(std::string reason) {
  if (pending_invite_) {
    decision_.reset();
    respond(*pending_invite_, 503);
    pending_invite_.reset();
    finishWithoutRecording("cancelled", reason);
    return;
  }
  end(std::move(reason), true);
}

void RecordingSession::onInDialogRequest(std::shared_ptr<sip::ServerTransaction> transaction) {
  log::ScopedContext scope("recording_id", recording_id_);
  const sip::Message& request = transaction->request();
  const std::string& method = request.method();
  if (state_ != SessionState::Recording || !dialog_) {
    respond(*transaction, method == "BYE" && state_ != SessionState::Offered ? 200 : 481);
    return;
  }
  if (auto accepted = dialog_->acceptRemoteRequest(request); !accepted) {
    respond(*transaction, accepted.error().code != 0 ? accepted.error().code : 500,
            accepted.error().message);
    return;
  }
  if (method == "INVITE" || method == "UPDATE") {
    handleReInvite(std::move(transaction), method == "UPDATE");
  } else if (method == "BYE") {
    handleBye(std::move(transaction));
  } else if (method == "INFO" || method == "OPTIONS") {
    if (auto body = extractSiprecBody(request, context_.settings.max_body_parts);
        body && body->metadata_xml) {
      mergeMetadata(*body->metadata_xml, method);
    }
    sip::Message response = sip::makeResponse(request, 200, local_tag_);
    response.addHeader("Allow", std::string(kAllowedMethods));
    transaction->respond(response);
  } else {
    respond(*transaction, 405);
  }
}

void RecordingSession::handleReInvite(std::shared_ptr<sip::ServerTransaction> transaction,
                                      bool is_update) {
  const sip::Message& request = transaction->request();
  auto body = extractSiprecBody(request, context_.settings.max_body_parts);
  if (!body) {
    respond(*transaction, body.error().code, body.error().message);
    return;
  }
  if (body->metadata_xml) {
    mergeMetadata(*body->metadata_xml, request.method());
  }
  if (body->sdp) {
    auto offer = sdp::parseSdp(*body->sdp);
    if (!offer) {
      respond(*transaction, 400, offer.error().message);
      return;
    }
    auto negotiated = sdp::negotiate(*offer, answerPolicyFor(*domain_));
    if (!negotiated) {
      // RFC 3264 §8: a refused re-offer leaves the session as it was.
      respond(*transaction, 488, negotiated.error().message);
      return;
    }
    auto previous = std::move(negotiated_);
    negotiated_ = std::move(*negotiated);
    if (auto applied = applyOffer(*offer); !applied) {
      negotiated_ = std::move(previous);
      respond(*transaction, 500, applied.error().message);
      return;
    }
    ++sdp_version_;
  }
  (void)is_update;
  respondWithAnswer(*transaction, 200);
  persist(liveState(), fmt::format("{} applied", request.method()));
}

void RecordingSession::handleBye(std::shared_ptr<sip::ServerTransaction> transaction) {
  const sip::Message& request = transaction->request();
  if (auto body = extractSiprecBody(request, context_.settings.max_body_parts);
      body && body->metadata_xml) {
    mergeMetadata(*body->metadata_xml, "BYE");
  }
  transaction->respond(sip::makeResponse(request, 200, local_tag_));
  end("bye", false);
}

void RecordingSession::mergeMetadata(const std::string& xml, std::string_view origin) {
  auto parsed = parseRsMetadata(xml);
  if (!parsed) {
    // A broken metadata document never costs the recording: keep the audio, log the fault.
    sessionMetrics().metadata_errors.inc();
    log::warn(kComponent, "metadata in {} ignored: {}", origin, parsed.error().message);
    return;
  }
  if (!metadata_) {
    metadata_ = std::move(*parsed);
  } else {
    mergeRsMetadata(*metadata_, *parsed);
  }
  metadata_xml_ = xml;
  log::debug(kComponent, "metadata from {} applied", origin);
  if (state_ == SessionState::Recording) {
    // Persisted before announced: the read API shows what the event says.
    persist(liveState(), fmt::format("metadata from {}", origin));
    auto data = eventData();
    data["origin"] = std::string(origin);
    data["metadata"] = rsMetadataToJson(*metadata_);
    context_.events.emit(control::EventType::MetadataUpdated, domain_->name, recording_id_,
                         std::move(data));
  }
}

void RecordingSession::end(std::string reason, bool send_bye) {
  if (state_ == SessionState::Ending || state_ == SessionState::Finalizing ||
      state_ == SessionState::Done) {
    return;
  }
  state_ = SessionState::Ending;
  end_reason_ = std::move(reason);
  ended_ms_ = context_.loop.clock().epochMs();
  if (paused_) {
    pauses_.back().to_ms = ended_ms_;
    paused_ = false;
  }
  session_timer_.reset();
  rtp_timer_.reset();
  log::info(kComponent, "session ending: {}", end_reason_);
  if (send_bye && dialog_) {
    sip::Message bye = dialog_->makeRequest("BYE");
    bye.addHeader("Reason", fmt::format("SIP;cause=200;text=\"{}\"", end_reason_));
    std::string id = recording_id_;
    context_.send_request(std::move(bye), dialog_->nextHop(), [id](Result<sip::Message> reply) {
      log::ScopedContext scope("recording_id", id);
      if (!reply) {
        log::warn(kComponent, "BYE failed: {}", reply.error().message);
      }
    });
  }
  std::weak_ptr<bool> alive = alive_;
  EventLoop* loop = &context_.loop;
  for (std::size_t index = 0; index < streams_.size(); ++index) {
    if (!streams_[index].handle) {
      continue;
    }
    uint64_t id = streams_[index].handle->id;
    context_.media.closeStream(id, [this, alive, loop, index](media::StreamStats stats) {
      loop->post([this, alive, index, stats] {
        if (!alive.expired()) {
          onStreamClosed(index, stats);
        }
      });
    });
  }
  if (streams_open_ == 0) {
    finalize();
  }
}

void RecordingSession::releaseStreams() {
  for (auto& stream : streams_) {
    if (stream.handle) {
      context_.media.closeStream(stream.handle->id, [](media::StreamStats) {});
      stream.handle.reset();
    }
  }
  streams_open_ = 0;
}

void RecordingSession::onStreamClosed(std::size_t stream, media::StreamStats stats) {
  streams_[stream].stats = stats;
  streams_[stream].handle.reset();
  if (--streams_open_ == 0 && state_ == SessionState::Ending) {
    finalize();
  }
}

void RecordingSession::finalize() {
  state_ = SessionState::Finalizing;
  if (cancelled_) {
    finishWithoutRecording("cancelled", "CANCELRECORDING");
    return;
  }
  if (streams_.empty()) {
    finishWithoutRecording("failed", "no audio stream was recorded");
    return;
  }
  FinalizeJob job;
  job.recording_id = recording_id_;
  job.directory = directory();
  for (const auto& stream : streams_) {
    job.spools.push_back(stream.spool_path);
  }
  job.start_epoch_ms = answered_ms_;
  job.end_epoch_ms = ended_ms_;
  job.metadata_xml = metadata_xml_;
  RecordingFacts facts;
  facts.recording_id = recording_id_;
  facts.domain = domain_->name;
  facts.call = identity_;
  facts.created_ms = created_ms_;
  facts.answered_ms = answered_ms_;
  facts.bye_ms = ended_ms_;
  facts.end_reason = end_reason_;
  facts.streams = streamsJson(streams_);
  facts.metadata = metadata_ ? rsMetadataToJson(*metadata_) : nlohmann::json::object();
  job.document = recordingDocument(facts);
  job.document["siprec"] = isSiprecRequest(initial_invite_);
  job.document["pauses"] = pausesJson();
  for (const auto& pause : pauses_) {
    job.pauses.push_back({pause.from_ms, pause.to_ms.value_or(ended_ms_.value_or(pause.from_ms))});
  }
  job.sides = streamSides();
  std::weak_ptr<bool> alive = alive_;
  EventLoop* loop = &context_.loop;
  context_.workers.post([job = std::move(job), alive, loop, this] {
    auto outcome = finalizeRecording(job);
    loop->post([this, alive, outcome = std::move(outcome)]() mutable {
      if (!alive.expired()) {
        onFinalized(std::move(outcome));
      }
    });
  });
}

void RecordingSession::onFinalized(Result<FinalizeOutcome> outcome) {
  log::ScopedContext scope("recording_id", recording_id_);
  if (!outcome) {
    log::error(kComponent, "recording failed: {}", outcome.error().message);
    sessionMetrics().recordings_failed.inc();
    persist("failed", outcome.error().message);
    auto data = eventData();
    data["reason"] = outcome.error().message;
    data["kept"] = "spools";  // the captured audio stays for a later attempt or inspection
    context_.events.emit(control::EventType::RecordingFailed, domain_->name, recording_id_,
                         std::move(data));
  } else {
    log::info(kComponent, "recording ready: {} ms", outcome->duration_ms);
    sessionMetrics().recordings_ready.inc();
    persist("ready", "rendered", &*outcome);
    context_.events.emit(control::EventType::RecordingReady, domain_->name, recording_id_,
                         readyEventData(outcome->document));
    if (context_.on_ready) {
      context_.on_ready(domain_->name, recording_id_);
    }
  }
  state_ = SessionState::Done;
  if (on_done_) {
    on_done_();
  }
}

void RecordingSession::finishWithoutRecording(std::string state, std::string reason) {
  end_reason_ = reason;
  persist(state, reason);
  if (state == "cancelled" && answered_ms_) {
    // RECORDINGSTARTED was announced: tell the application the recording is gone.
    auto data = eventData();
    data["reason"] = "cancelled";
    context_.events.emit(control::EventType::RecordingDeleted, domain_->name, recording_id_,
                         std::move(data));
  } else if (state == "failed" && answered_ms_) {
    auto data = eventData();
    data["reason"] = reason;
    data["kept"] = "nothing";
    context_.events.emit(control::EventType::RecordingFailed, domain_->name, recording_id_,
                         std::move(data));
  }
  std::filesystem::path dir = directory();
  context_.workers.post([dir] {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  });
  state_ = SessionState::Done;
  if (on_done_) {
    on_done_();
  }
}

void RecordingSession::persist(std::string_view state, std::string detail,
                               const FinalizeOutcome* outcome) {
  db::RecordingRecord record;
  record.id = recording_id_;
  record.domain = domain_->name;
  record.state = std::string(state);
  record.call_id = identity_.call_id;
  record.from_uri = identity_.from;
  record.to_uri = identity_.to;
  record.request_uri = identity_.request_uri;
  record.source = identity_.source;
  record.created_ms = created_ms_;
  record.started_ms = answered_ms_;
  record.ended_ms = ended_ms_;
  record.end_reason = end_reason_;
  record.metadata_xml = metadata_xml_;
  record.metadata_json = metadata_ ? rsMetadataToJson(*metadata_).dump() : "";
  record.streams_json = streamsJson(streams_).dump();
  record.pauses_json = pauses_.empty() ? "" : pausesJson().dump();
  if (outcome != nullptr) {
    if (auto it = outcome->document.find("assurance"); it != outcome->document.end()) {
      record.assurance_json = it->dump();
    }
    record.duration_ms = outcome->duration_ms;
    record.streams_json = outcome->document["streams"].dump();
    record.audio_path = outcome->audio_path.string();
  } else if (state == "failed" || state == "declined" || state == "cancelled") {
    record.error = detail;
  }
  bool is_new = state == "offered";
  if (is_new) {
    context_.repository.insertRecording(record);
  } else {
    context_.repository.updateRecording(record);
  }
  context_.repository.recordTransition(recording_id_, std::string(state),
                                       context_.loop.clock().epochMs(), std::move(detail));
}

}  // namespace siprecd::siprec
