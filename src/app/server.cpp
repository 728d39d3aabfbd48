#include "app/server.hpp"

#include <chrono>
#include <filesystem>
#include <future>
#include <optional>
#include <system_error>
#include <thread>

#include <fmt/format.h>
#include <signal.h>

#include "app/api_routes.hpp"
#include "app/callback_record_decider.hpp"
#include "app/control_domains.hpp"
#include "app/domain_router.hpp"
#include "app/http_server.hpp"
#include "app/live_session_commands.hpp"
#include "base/asio_event_loop.hpp"
#include "base/log.hpp"
#include "base/metrics.hpp"
#include "base/version.hpp"
#include "base/worker_pool.hpp"
#include "control/command_service.hpp"
#include "control/event_dispatcher.hpp"
#include "control/event_outbox.hpp"
#include "control/nats_command_consumer.hpp"
#include "control/nats_connection.hpp"
#include "control/nats_event_publisher.hpp"
#include "control/recording_job_runner.hpp"
#include "control/reply_token.hpp"
#include "control/retention_janitor.hpp"
#include "control/sns_event_publisher.hpp"
#include "control/sqs_command_consumer.hpp"
#include "control/webhook_client.hpp"
#include "db/repository.hpp"
#include "media/media_engine.hpp"
#include "sip/sip_stack.hpp"
#include "siprec/record_decider.hpp"
#include "siprec/session_manager.hpp"
#include "siprec/session_recovery.hpp"
#include "storage/aws_credentials.hpp"

namespace siprecd::app {
namespace {

constexpr std::string_view kComponent = "app";
constexpr std::size_t kWorkerThreads = 2;

/// Runs `task` on `loop` and waits for its result (start-up and shutdown only).
template <typename T>
T runOn(EventLoop& loop, std::function<T()> task) {
  std::promise<T> promise;
  auto future = promise.get_future();
  loop.post([&] {
    if constexpr (std::is_void_v<T>) {
      task();
      promise.set_value();
    } else {
      promise.set_value(task());
    }
  });
  return future.get();
}

control::NatsSettings natsSettings(const NatsConfig& nats) {
  control::NatsSettings settings;
  settings.url = nats.url;
  settings.user = nats.user;
  settings.password = nats.password;
  settings.token = nats.token;
  settings.credentials_file = nats.credentials;
  settings.tls_ca = nats.tls_ca;
  settings.tls_certificate = nats.tls_certificate;
  settings.tls_private_key = nats.tls_private_key;
  return settings;
}

HttpResponse textResponse(int status, std::string content_type, std::string body) {
  HttpResponse response;
  response.status = status;
  response.content_type = std::move(content_type);
  response.body = std::move(body);
  return response;
}

}  // namespace

void blockShutdownSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // A peer closing a TCP/TLS connection mid-write must not kill the process.
  ::signal(SIGPIPE, SIG_IGN);
}

/// The signing settings of a domain's SNS ("sns") or SQS ("sqs") requests: region from
/// aws.region, else `resource_region` (the topic ARN's / queue URL's), else us-east-1;
/// endpoint aws.endpoint, else `default_endpoint`; credentials resolved now (config,
/// profile, environment). Errors name the domain and the key.
Result<control::AwsServiceSettings> awsServiceFor(const DomainConfig& domain, std::string service,
                                                  std::optional<std::string> resource_region,
                                                  Result<control::AwsEndpoint> default_endpoint) {
  control::AwsServiceSettings settings;
  settings.service = std::move(service);
  settings.region =
      !domain.aws.region.empty() ? domain.aws.region : resource_region.value_or("us-east-1");
  if (!domain.aws.endpoint.empty()) {
    auto endpoint = control::parseAwsEndpoint(domain.aws.endpoint);
    if (!endpoint) {
      return fail(
          fmt::format("domain {}: aws.endpoint: {}", domain.name, endpoint.error().message));
    }
    settings.endpoint = std::move(*endpoint);
  } else if (default_endpoint) {
    settings.endpoint = std::move(*default_endpoint);
  } else {
    return fail(fmt::format("domain {}: {}", domain.name, default_endpoint.error().message));
  }
  storage::AwsCredentialConfig credentials{domain.aws.access_key_id, domain.aws.secret_access_key,
                                           domain.aws.session_token, domain.aws.profile};
  auto resolved = storage::resolveAwsCredentials(credentials, storage::processEnvironment());
  if (!resolved) {
    return fail(fmt::format("domain {}: aws credentials for {}: {}", domain.name, settings.service,
                            resolved.error().message));
  }
  log::info(kComponent, "domain {}: {} requests to {} (region {}), credentials from {}",
            domain.name, settings.service, settings.endpoint.url(), settings.region,
            resolved->source);
  settings.credentials = std::move(resolved->credentials);
  return settings;
}

// Members are declared in dependency order; the destructor tears them down explicitly in
// the order the threads require (see ~Server).
struct Server::Components {
  SystemClock clock;
  std::unique_ptr<db::Repository> repository;
  std::shared_ptr<const control::DomainDirectory> domains;
  std::unique_ptr<control::ReplyTokens> reply_tokens;
  std::unique_ptr<control::WebhookClient> webhooks;
  std::unique_ptr<control::EventDispatcher> dispatcher;
  std::unique_ptr<control::NatsConnection> nats;
  std::unique_ptr<control::NatsEventPublisher> nats_events;
  std::unique_ptr<control::SnsEventPublisher> sns_events;
  std::unique_ptr<control::EventOutbox> events;
  std::unique_ptr<media::MediaEngine> media;
  std::unique_ptr<WorkerPool> workers;
  std::unique_ptr<control::RecordingJobRunner> jobs;
  std::unique_ptr<control::RetentionJanitor> janitor;
  std::unique_ptr<IoThread> sip_thread;
  std::unique_ptr<AsioEventLoop> sip_loop;
  std::unique_ptr<CallbackRecordDecider> decider;
  std::unique_ptr<LiveSessionCommands> live_sessions;
  std::unique_ptr<control::CommandService> commands;
  std::unique_ptr<control::NatsCommandConsumer> nats_commands;
  std::unique_ptr<control::SqsCommandConsumer> sqs_commands;
  std::unique_ptr<siprec::SessionContext> session_context;
  std::unique_ptr<DomainRouter> router;
  std::unique_ptr<siprec::SessionManager> sessions;
  std::unique_ptr<sip::SipStack> sip;
  std::unique_ptr<HttpServer> http;
  std::vector<CallbackRegistration> metric_callbacks;
  std::atomic<bool> ready{false};
  std::atomic<bool> draining{false};
  std::atomic<bool> drained{false};
};

Server::Server(Config config)
    : config_(std::move(config)), components_(std::make_unique<Components>()) {}

Server::~Server() {
  auto& c = *components_;
  c.ready = false;
  c.metric_callbacks.clear();
  if (c.http) {
    c.http->stop();  // no new commands
  }
  if (c.nats_commands) {
    c.nats_commands->requestStop();
  }
  if (c.sqs_commands) {
    c.sqs_commands->requestStop();
  }
  if (c.nats_commands) {
    c.nats_commands->stop();  // none from NATS either
  }
  if (c.sqs_commands) {
    c.sqs_commands->stop();  // nor from SQS
  }
  if (c.janitor) {
    c.janitor->stop();
  }
  if (c.sip_loop && c.sip) {
    runOn<void>(*c.sip_loop, [&] {
      c.sip->stop();
      if (c.live_sessions) {
        c.live_sessions->detach();
      }
      c.sessions.reset();
    });
  }
  c.media.reset();  // closes every stream and joins the media threads
  if (c.jobs) {
    c.jobs->stop();
  }
  c.workers.reset();  // finishes queued rendering and storing jobs
  // The decider's late answers post to the SIP loop: the client goes before the loop.
  if (c.dispatcher) {
    c.dispatcher->stop();
  }
  if (c.nats_events) {
    c.nats_events->stop();
  }
  if (c.sns_events) {
    c.sns_events->stop();
  }
  c.sqs_commands.reset();
  c.nats_commands.reset();
  c.sns_events.reset();
  c.nats_events.reset();
  c.nats.reset();
  c.webhooks.reset();
  if (c.sip_thread) {
    c.sip_thread->stop();
  }
  c.sip.reset();
  if (c.repository) {
    c.repository->flush();
  }
}

Result<void> Server::start() {
  auto& c = *components_;
  std::error_code error;
  std::filesystem::create_directories(config_.data_dir / "sessions", error);
  if (error) {
    return fail("data directory " + config_.data_dir.string() + ": " + error.message());
  }
  auto repository = db::openSqliteRepository(config_.data_dir / "siprecd.db");
  if (!repository) {
    return fail("state store: " + repository.error().message);
  }
  c.repository = std::move(*repository);
  if (auto started = startControlPlane(); !started) {
    return started;
  }

  auto ports = media::parsePortRange(config_.rtp_ports);
  if (!ports) {
    return fail("media.rtp_ports: " + ports.error().message);
  }
  media::MediaSettings media_settings;
  media_settings.ports = *ports;
  media_settings.threads = static_cast<unsigned>(config_.media_threads);
  media_settings.flush_interval = std::chrono::milliseconds(config_.spool_flush_ms);
  media_settings.socket_buffer_bytes = static_cast<std::size_t>(config_.media_socket_buffer_bytes);
  media_settings.descriptor_reserve = static_cast<std::size_t>(config_.media_descriptor_reserve);
  auto backend = media::parseReceiveBackend(config_.media_receive_backend);
  if (!backend) {
    return fail("media.receive_backend: " + backend.error().message);
  }
  media_settings.receive_backend = *backend;
  c.media = std::make_unique<media::MediaEngine>(media_settings, c.clock);
  if (auto started = c.media->start(); !started) {
    return fail("media engine: " + started.error().message);
  }
  c.workers = std::make_unique<WorkerPool>(kWorkerThreads);
  control::RecordingJobRunner::Settings job_settings;
  job_settings.data_dir = config_.data_dir;
  c.jobs = std::make_unique<control::RecordingJobRunner>(*c.repository, *c.events, *c.workers,
                                                         c.clock, *c.domains, job_settings);
  c.jobs->recoverInterruptedJobs();
  control::RecordingJobRunner* jobs = c.jobs.get();
  siprec::recoverInterruptedSessions(*c.repository, *c.events, *c.workers, config_.data_dir,
                                     c.clock,
                                     [jobs](const std::string& domain, const std::string& id) {
                                       jobs->onRecordingReady(domain, id);
                                     });
  control::RetentionSettings retention;
  retention.data_dir = config_.data_dir;
  retention.interval = std::chrono::seconds(config_.retention_check_interval_s);
  c.janitor = std::make_unique<control::RetentionJanitor>(*c.repository, *c.jobs, c.clock,
                                                          *c.domains, retention);

  c.sip_thread = std::make_unique<IoThread>("siprecd-sip");
  c.sip_loop = std::make_unique<AsioEventLoop>(c.sip_thread->context(), c.clock);
  c.decider = std::make_unique<CallbackRecordDecider>(*c.sip_loop, *c.webhooks,
                                                      control::lookupIn(c.domains));
  siprec::SessionSettings session_settings;
  session_settings.data_dir = config_.data_dir;
  session_settings.media_ip = config_.media_ip;
  session_settings.min_session_expires = std::chrono::seconds(config_.session_min_se_s);
  session_settings.drain_retry_after = std::chrono::seconds(config_.drain_retry_after_s);
  session_settings.rtp_timeout = std::chrono::seconds(config_.rtp_timeout_s);
  Components* components = &c;
  c.session_context = std::make_unique<siprec::SessionContext>(siprec::SessionContext{
      *c.sip_loop, *c.media, *c.repository, *c.workers, *c.decider,
      [components](sip::Message request, const sip::PeerAddress& target,
                   std::function<void(Result<sip::Message>)> on_final) {
        components->sip->sendRequest(std::move(request), target, std::move(on_final));
      },
      session_settings, *c.events,
      [components](const std::string& domain, const std::string& recording_id) {
        components->jobs->onRecordingReady(domain, recording_id);
      }});
  c.router = std::make_unique<DomainRouter>(config_);
  c.sessions = std::make_unique<siprec::SessionManager>(
      *c.session_context, [components](const sip::Message& request, const sip::PeerAddress& peer) {
        return components->router->select(request, peer);
      });

  sip::StackSettings stack_settings;
  for (const auto& text : config_.sip_listen) {
    auto spec = sip::parseListenSpec(text);
    if (!spec) {
      return fail("sip.listen: " + spec.error().message);
    }
    stack_settings.listen.push_back(*spec);
  }
  stack_settings.tls.certificate_file = config_.tls_certificate;
  stack_settings.tls.private_key_file = config_.tls_private_key;
  stack_settings.tls.ca_file = config_.tls_ca;
  stack_settings.tls.verify_client = config_.tls_verify_client;
  stack_settings.limits.max_message_bytes = config_.sip_max_message_bytes;
  stack_settings.tcp_idle_timeout = std::chrono::seconds(config_.sip_tcp_idle_timeout_s);
  stack_settings.user_agent = std::string("siprecd/") + kVersion;
  auto sip_started = runOn<Result<void>>(*c.sip_loop, [&]() -> Result<void> {
    c.sip = std::make_unique<sip::SipStack>(*c.sip_loop, c.sip_thread->context(),
                                            std::move(stack_settings), *c.sessions);
    return c.sip->start();
  });
  if (!sip_started) {
    return fail("SIP: " + sip_started.error().message);
  }
  c.live_sessions = std::make_unique<LiveSessionCommands>(*c.sip_loop, *c.sessions);
  c.commands = std::make_unique<control::CommandService>(c.domains, *c.repository, *c.live_sessions,
                                                         *c.jobs, *c.reply_tokens, c.clock);
  if (c.nats && config_.nats.commands) {
    std::vector<std::string> names;
    for (const auto& domain : config_.domains) {
      names.push_back(domain.name);
    }
    control::NatsCommandConsumerSettings consume;
    consume.stream.name = config_.nats.commands_stream;
    consume.publish_replies = config_.nats.replies;
    c.nats_commands = std::make_unique<control::NatsCommandConsumer>(*c.nats, *c.commands,
                                                                     std::move(names), consume);
  }

  std::vector<control::SqsQueue> queues;
  for (const auto& domain : config_.domains) {
    if (domain.sqs_queue_url.empty()) {
      continue;
    }
    if (auto checked = control::checkQueueUrl(domain.sqs_queue_url); !checked) {
      return fail(
          fmt::format("domain {}: sqs_queue_url: {}", domain.name, checked.error().message));
    }
    auto service = awsServiceFor(domain, "sqs", control::regionOfQueueUrl(domain.sqs_queue_url),
                                 control::sqsEndpointOfQueueUrl(domain.sqs_queue_url));
    if (!service) {
      return tl::unexpected(service.error());
    }
    control::SqsQueue queue;
    queue.domain = domain.name;
    queue.queue_url = domain.sqs_queue_url;
    queue.dead_letter_queue_url = domain.sqs_dead_letter_queue_url;
    queue.visibility_timeout_s = domain.sqs_visibility_timeout_s;
    queue.max_receives = domain.sqs_max_receives;
    queue.service = std::move(*service);
    queues.push_back(std::move(queue));
  }
  if (!queues.empty()) {
    c.sqs_commands = std::make_unique<control::SqsCommandConsumer>(*c.commands, std::move(queues));
  }

  c.http = std::make_unique<HttpServer>(config_.http_listen,
                                        static_cast<std::size_t>(config_.http_threads));
  c.http->route("GET", "/healthz", [](const HttpRequest&) {
    return textResponse(200, "application/json", R"({"status":"ok"})");
  });
  c.http->route("GET", "/readyz", [components](const HttpRequest&) {
    bool ready = components->ready && !components->draining;
    return textResponse(
        ready ? 200 : 503, "application/json",
        ready ? R"({"status":"ready"})"
              : (components->draining ? R"({"status":"draining"})" : R"({"status":"starting"})"));
  });
  c.http->route("GET", "/metrics", [](const HttpRequest&) {
    return textResponse(200, "text/plain; version=0.0.4; charset=utf-8",
                        metrics().renderPrometheus());
  });
  ApiRateLimit rate_limit;
  rate_limit.requests_per_second = config_.http_rate_limit_per_s;
  rate_limit.burst = config_.http_rate_limit_burst;
  registerApiRoutes(*c.http,
                    ApiServices{c.domains, *c.commands, *c.repository, c.clock, rate_limit});
  if (auto started = c.http->start(); !started) {
    return fail("HTTP: " + started.error().message);
  }
  c.dispatcher->start();
  if (c.nats_events) {
    c.nats_events->start();
  }
  if (c.sns_events) {
    c.sns_events->start();
  }
  if (c.nats_commands) {
    c.nats_commands->start();
  }
  if (c.sqs_commands) {
    c.sqs_commands->start();
  }
  c.janitor->start();
  registerMetrics();
  c.ready = true;
  for (const auto& listener :
       runOn<std::vector<sip::ListenSpec>>(*c.sip_loop, [&] { return c.sip->boundListeners(); })) {
    log::info(kComponent, "SIP listening on {}:{}:{}", sip::toString(listener.kind),
              listener.address, listener.port);
  }
  log::info(kComponent, "siprecd {} ready; HTTP on {}, data in {}", kVersion, config_.http_listen,
            config_.data_dir.string());
  return {};
}

Result<void> Server::startControlPlane() {
  auto& c = *components_;
  auto domains = buildDomainDirectory(config_);
  if (!domains) {
    return tl::unexpected(domains.error());
  }
  c.domains = std::move(*domains);
  auto secret = control::loadOrCreateServerSecret((config_.data_dir / "server.secret").string());
  if (!secret) {
    return fail("server secret: " + secret.error().message);
  }
  c.reply_tokens = std::make_unique<control::ReplyTokens>(std::move(*secret));
  c.webhooks = std::make_unique<control::WebhookClient>();
  control::EventDispatcherSettings dispatch;
  dispatch.max_age = std::chrono::seconds(config_.events_max_age_s);
  c.dispatcher = std::make_unique<control::EventDispatcher>(
      *c.repository, *c.webhooks, control::lookupIn(c.domains), c.clock, dispatch);
  std::function<void()> on_persisted = c.dispatcher->waker();
  if (!config_.nats.url.empty()) {
    auto nats = control::NatsConnection::open(natsSettings(config_.nats));
    if (!nats) {
      return tl::unexpected(nats.error());
    }
    c.nats = std::move(*nats);
    control::NatsEventPublisherSettings publish;
    publish.stream.name = config_.nats.events_stream;
    c.nats_events = std::make_unique<control::NatsEventPublisher>(*c.repository, *c.nats, publish);
    on_persisted = [webhooks = c.dispatcher->waker(), nats_events = c.nats_events->waker()] {
      webhooks();
      nats_events();
    };
  }
  std::vector<control::SnsTopic> topics;
  for (const auto& domain : config_.domains) {
    if (domain.sns_topic_arn.empty()) {
      continue;
    }
    auto region = control::regionOfTopicArn(domain.sns_topic_arn);
    if (!region) {
      return fail(fmt::format("domain {}: sns_topic_arn: {}", domain.name, region.error().message));
    }
    const std::string signing_region = domain.aws.region.empty() ? *region : domain.aws.region;
    auto service =
        awsServiceFor(domain, "sns", *region, control::defaultSnsEndpoint(signing_region));
    if (!service) {
      return tl::unexpected(service.error());
    }
    topics.push_back(control::SnsTopic{domain.name, domain.sns_topic_arn, std::move(*service)});
  }
  if (!topics.empty()) {
    c.sns_events = std::make_unique<control::SnsEventPublisher>(*c.repository, std::move(topics));
    on_persisted = [before = std::move(on_persisted), sns_events = c.sns_events->waker()] {
      before();
      sns_events();
    };
  }
  c.events = std::make_unique<control::EventOutbox>(*c.repository, *c.reply_tokens,
                                                    control::lookupIn(c.domains), c.clock,
                                                    std::move(on_persisted));
  return {};
}

void Server::registerMetrics() {
  auto& c = *components_;
  Components* components = &c;
  auto& registry = metrics();
  c.metric_callbacks.push_back(registry.registerCallback(
      "siprecd_media_streams_active", "RTP streams being received", MetricType::Gauge,
      [components] { return static_cast<double>(components->media->stats().streams_active); }));
  c.metric_callbacks.push_back(registry.registerCallback(
      "siprecd_rtp_packets_total", "RTP packets received", MetricType::Counter,
      [components] { return static_cast<double>(components->media->stats().packets); }));
  c.metric_callbacks.push_back(registry.registerCallback(
      "siprecd_rtp_packets_paused_total", "RTP packets received while paused, not captured",
      MetricType::Counter,
      [components] { return static_cast<double>(components->media->stats().packets_paused); }));
  c.metric_callbacks.push_back(registry.registerCallback(
      "siprecd_sip_requests_total", "SIP requests received", MetricType::Counter,
      [components] { return static_cast<double>(components->sip->stats().requests_in); }));
  c.metric_callbacks.push_back(registry.registerCallback(
      "siprecd_sip_parse_errors_total", "SIP messages refused by the parser", MetricType::Counter,
      [components] { return static_cast<double>(components->sip->stats().parse_errors); }));
  c.metric_callbacks.push_back(registry.registerCallback(
      "siprecd_worker_jobs_pending", "Rendering jobs queued or running", MetricType::Gauge,
      [components] { return static_cast<double>(components->workers->pending()); }));
}

int Server::run() {
  auto& c = *components_;
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  std::optional<std::chrono::steady_clock::time_point> drain_deadline;
  bool terminated = false;
  while (!c.drained) {
    timespec timeout{0, 200'000'000};
    int signal = sigtimedwait(&signals, nullptr, &timeout);
    if (drain_deadline && !terminated && std::chrono::steady_clock::now() >= *drain_deadline) {
      log::warn(kComponent, "drain timeout ({} s) reached: ending the remaining calls",
                config_.drain_timeout_s);
      terminated = true;
      Components* components = &c;
      c.sip_loop->post([components] { components->sessions->terminateAll("shutdown"); });
    }
    if (signal != SIGTERM && signal != SIGINT) {
      continue;
    }
    if (!c.draining.exchange(true)) {
      drain_deadline =
          std::chrono::steady_clock::now() + std::chrono::seconds(config_.drain_timeout_s);
      log::info(kComponent, "signal {}: draining (new calls refused, calls in progress go on)",
                signal);
      Components* components = &c;
      c.sip_loop->post([components] {
        components->sessions->drain([components] { components->drained = true; });
      });
    } else {
      terminated = true;
      log::warn(kComponent, "second signal: ending every call now");
      Components* components = &c;
      c.sip_loop->post([components] { components->sessions->terminateAll("shutdown"); });
    }
  }
  log::info(kComponent, "drained; stopping");
  return 0;
}

}  // namespace siprecd::app
