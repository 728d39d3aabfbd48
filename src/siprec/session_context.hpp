#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "base/event_loop.hpp"
#include "base/result.hpp"
#include "base/worker_pool.hpp"
#include "sip/message.hpp"
#include "sip/sip_stack.hpp"

namespace siprecd::media {
class MediaEngine;
}
namespace siprecd::db {
class Repository;
}
namespace siprecd::control {
class EventSink;
}

namespace siprecd::siprec {

class RecordDecider;

/// The methods siprecd serves, for Allow headers (RFC 3261 §20.5).
inline constexpr std::string_view kAllowedMethods =
    "INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO";

/// Sends an in-dialog request (BYE) through a non-INVITE client transaction.
using RequestSender = std::function<void(sip::Message, const sip::PeerAddress&,
                                         std::function<void(Result<sip::Message>)>)>;

/// Settings of the SIPREC user agent server.
struct SessionSettings {
  std::filesystem::path data_dir;  ///< sessions live in {data_dir}/sessions/{recordingId}/
  std::string media_ip;            ///< address in SDP answers; empty: the INVITE's local address
  std::size_t max_body_parts = 16;
  std::chrono::seconds min_session_expires{90};  ///< RFC 4028 Min-SE
  std::chrono::seconds drain_retry_after{60};    ///< Retry-After on 503 while draining
  /// A session whose media-carrying streams all stay silent this long ends with BYE
  /// (reason rtp-timeout); streams offered inactive or recvonly (hold) are not watched.
  /// 0: never.
  std::chrono::seconds rtp_timeout{60};
  std::string user_agent = "siprecd";
};

/// The services a recording session uses; all references outlive every session. Every
/// session and the manager live on `loop` (the SIP thread).
struct SessionContext {
  EventLoop& loop;
  media::MediaEngine& media;
  db::Repository& repository;
  WorkerPool& workers;
  RecordDecider& decider;
  RequestSender send_request;
  SessionSettings settings;
  /// Where RECORDINGSTARTED, METADATAUPDATED, RECORDINGREADY, ... are announced.
  control::EventSink& events;
  /// Called on the SIP loop once a recording is ready (its state persisted): auto-store.
  std::function<void(const std::string& domain, const std::string& recording_id)> on_ready;
};

}  // namespace siprecd::siprec
