#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nats/nats.h>

#include "base/result.hpp"

/// The connection to NATS (cnats, JetStream) shared by the event publisher and the command
/// consumer (DESIGN.md §2 "Commands", "Callbacks and events"; §5 clusters).
namespace siprecd::control {

/// Frees a cnats object; one overload per handle type, so NatsPtr<T> works for each.
struct NatsDeleter {
  void operator()(natsOptions* options) const { natsOptions_Destroy(options); }
  /// Closes the connection (if still open), then frees it.
  void operator()(natsConnection* connection) const { natsConnection_Destroy(connection); }
  void operator()(jsCtx* context) const { jsCtx_Destroy(context); }
  /// Frees the subscription; a JetStream consumer it is bound to is kept.
  void operator()(natsSubscription* subscription) const { natsSubscription_Destroy(subscription); }
  void operator()(natsMsg* message) const { natsMsg_Destroy(message); }
  void operator()(jsPubAck* ack) const { jsPubAck_Destroy(ack); }
  void operator()(jsStreamInfo* info) const { jsStreamInfo_Destroy(info); }
  void operator()(jsConsumerInfo* info) const { jsConsumerInfo_Destroy(info); }
  void operator()(jsMsgMetaData* meta) const { jsMsgMetaData_Destroy(meta); }
};

/// Owns a cnats object (natsConnection, jsCtx, natsSubscription, natsMsg, ...).
template <typename T>
using NatsPtr = std::unique_ptr<T, NatsDeleter>;

/// The messages of one natsSubscription_Fetch(), freed with the batch.
class NatsMessageBatch {
 public:
  NatsMessageBatch() = default;
  ~NatsMessageBatch() { natsMsgList_Destroy(&list_); }
  NatsMessageBatch(const NatsMessageBatch&) = delete;
  NatsMessageBatch& operator=(const NatsMessageBatch&) = delete;

  /// For natsSubscription_Fetch(); only on an empty batch.
  natsMsgList* out() { return &list_; }
  int size() const { return list_.Count; }
  /// Borrowed; valid while the batch lives.
  natsMsg* operator[](int index) const { return list_.Msgs[index]; }

 private:
  natsMsgList list_{};
};

/// "<cnats status text>" plus the JetStream error code and the library's last error text,
/// when there are any: for logs and Result messages.
std::string natsErrorText(natsStatus status, jsErrCode js_error = static_cast<jsErrCode>(0));

/// A domain name as one subject token: '.', '*', '>' and white space become '_' (so
/// "example.com" publishes on siprecd.example_com.events.*). Also a valid consumer name.
std::string natsSubjectToken(std::string_view domain);

/// Connection settings (config: nats.*). Secrets are never logged.
struct NatsSettings {
  /// One or more server URLs, comma-separated: "nats://10.0.0.5:4222,nats://10.0.0.6:4222";
  /// "tls://" enables TLS. May carry "user:password@".
  std::string url;
  std::string user, password;  ///< both or neither
  std::string token;
  /// A NATS credentials file (JWT and NKey seed, "nats.creds").
  std::string credentials_file;
  /// TLS: CA bundle (PEM) to verify the server; client certificate and key (PEM), both or
  /// neither. Any of them enables TLS.
  std::string tls_ca, tls_certificate, tls_private_key;
  /// The client name the server shows (connz).
  std::string name = "siprecd";
  std::chrono::milliseconds connect_timeout{2000};
  /// Pause between reconnect attempts to the same server; attempts never stop.
  std::chrono::milliseconds reconnect_wait{1000};
  /// Limit of one JetStream API request or publish acknowledgement.
  std::chrono::milliseconds request_timeout{5000};
  /// Liveness pings: the connection counts as lost after `max_pings_out` unanswered ones.
  std::chrono::milliseconds ping_interval{10000};
  int max_pings_out = 2;
};

/// A JetStream stream siprecd creates when it is missing.
struct NatsStreamSpec {
  std::string name;
  std::string subject;              ///< the one subject filter, wildcards allowed
  bool work_queue = false;          ///< retention: work queue (a message goes once) or limits
  std::chrono::seconds max_age{0};  ///< 0: no age limit
  /// JetStream de-duplicates messages with the same Nats-Msg-Id within this window.
  std::chrono::seconds duplicate_window{120};
};

/// One NATS connection with its JetStream context. cnats reconnects on its own (forever,
/// every `reconnect_wait`) and, when no server answers at start-up, keeps trying in the
/// background: open() never waits for a server. Publishes and requests made while
/// disconnected wait in cnats' reconnect buffer or fail with a timeout.
///
/// Thread-safe (cnats connections and JetStream contexts are). Metrics:
/// siprecd_nats_connected (gauge, 1 while connected), siprecd_nats_reconnects_total.
class NatsConnection {
 public:
  /// Fails (code 2, naming the nats.* key) on settings cnats refuses or files it cannot
  /// read, never because no server answers.
  static Result<std::unique_ptr<NatsConnection>> open(const NatsSettings& settings);
  /// Closes the connection.
  ~NatsConnection();
  NatsConnection(const NatsConnection&) = delete;
  NatsConnection& operator=(const NatsConnection&) = delete;

  /// Borrowed handles, valid while this object lives.
  natsConnection* connection() const { return connection_.get(); }
  jsCtx* jetStream() const { return jet_stream_.get(); }
  /// True while connected to a server.
  bool connected() const;
  std::chrono::milliseconds requestTimeout() const { return request_timeout_; }

  /// Creates the stream unless a stream of that name exists (whatever its configuration:
  /// the operator's wins) or another node creates it at the same time. Blocks for up to two
  /// JetStream API requests. Fails when JetStream cannot be reached or refuses (e.g. the
  /// subject overlaps another stream).
  Result<void> ensureStream(const NatsStreamSpec& spec);

  /// Only open() can construct (the key is private).
  class Key {
    friend class NatsConnection;
    Key() = default;
  };
  NatsConnection(Key key, NatsPtr<natsConnection> connection, NatsPtr<jsCtx> jet_stream,
                 std::chrono::milliseconds request_timeout);

 private:
  NatsPtr<natsConnection> connection_;
  NatsPtr<jsCtx> jet_stream_;  // declared after the connection: destroyed first
  std::chrono::milliseconds request_timeout_;
};

/// The URLs of `url` (comma-separated, blanks trimmed, empty items dropped).
std::vector<std::string> splitNatsUrls(std::string_view url);

}  // namespace siprecd::control
