#include "control/recording_job_runner.hpp"

#include <chrono>
#include <condition_variable>
#include <exception>
#include <fstream>
#include <mutex>
#include <set>
#include <system_error>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "base/log.hpp"
#include "base/metrics.hpp"
#include "base/random.hpp"
#include "control/recording_job_plan.hpp"
#include "storage/http_destination.hpp"
#include "storage/key_template.hpp"

namespace siprecd::control {
namespace {

constexpr std::string_view kComponent = "storage";
constexpr std::string_view kTemporaryPrefix = "store-";

struct JobMetrics {
  Counter& stored;
  Counter& failed;
  Counter& deleted_command;
  Counter& deleted_retention;
  Histogram& store_seconds;
};

JobMetrics& jobMetrics() {
  static JobMetrics instance{
      metrics().counter("siprecd_store_jobs_total", "STORERECORDING jobs by outcome",
                        {{"result", "stored"}}),
      metrics().counter("siprecd_store_jobs_total", "STORERECORDING jobs by outcome",
                        {{"result", "failed"}}),
      metrics().counter("siprecd_recordings_deleted_total", "Recordings deleted by reason",
                        {{"reason", "command"}}),
      metrics().counter("siprecd_recordings_deleted_total", "Recordings deleted by reason",
                        {{"reason", "retention"}}),
      metrics().histogram("siprecd_store_duration_seconds",
                          "Render and upload time of successful stores",
                          {0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600}),
  };
  return instance;
}

bool isLive(std::string_view state) {
  return state == "offered" || state == "recording" || state == "paused";
}

/// Writes a small document for upload; fails naming the file.
Result<void> writeDocument(const std::filesystem::path& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  if (!out) {
    return fail("cannot write " + path.string());
  }
  return {};
}

/// Removes the session directory's temporary store files (left by a crash mid-store).
void removeTemporaries(const std::filesystem::path& session_dir) {
  std::error_code error;
  for (std::filesystem::directory_iterator it(session_dir, error), end; !error && it != end;
       it.increment(error)) {
    if (it->path().filename().string().starts_with(kTemporaryPrefix)) {
      std::error_code ignored;
      std::filesystem::remove(it->path(), ignored);
    }
  }
}

}  // namespace

struct RecordingJobRunner::Shared {
  std::mutex mutex;
  std::condition_variable idle;
  std::set<std::string, std::less<>> busy;  // guarded by mutex
  std::size_t pending_auto = 0;             // guarded by mutex
  std::size_t running = 0;                  // jobs posted and not finished; guarded by mutex
  bool stopping = false;                    // guarded by mutex

  void release(const std::string& recording_id) {
    std::lock_guard lock(mutex);
    busy.erase(recording_id);
    idle.notify_all();
  }
};

struct RecordingJobRunner::StoreJob {
  StoreRequest request;
  db::RecordingRecord record;  ///< as read; its state is `previous_state`
  std::string previous_state;
  std::filesystem::path session_dir;
  std::string destination_name;
  std::shared_ptr<storage::Destination> destination;
  std::string key;         ///< the put() key (for http: the URL with its query)
  std::string public_key;  ///< the key as announced (for http: the URL without query)
  std::vector<std::filesystem::path> temporaries;
  std::string stage = "render";
  std::chrono::steady_clock::time_point started;
};

RecordingJobRunner::RecordingJobRunner(db::Repository& repository, EventSink& events,
                                       WorkerPool& workers, const Clock& clock,
                                       DomainDirectory domains, Settings settings)
    : repository_(repository),
      events_(events),
      workers_(workers),
      clock_(clock),
      domains_(std::move(domains)),
      settings_([&] {
        if (!settings.http) {
          settings.http = std::make_shared<storage::HttpDestination>();
        }
        return std::move(settings);
      }()),
      shared_(std::make_shared<Shared>()) {
  jobMetrics();
}

RecordingJobRunner::~RecordingJobRunner() {
  stop();
}

Result<std::shared_ptr<const DomainSettings>> RecordingJobRunner::domain(
    const std::string& name) const {
  const auto it = domains_.find(name);
  if (it == domains_.end() || !it->second) {
    return fail(fmt::format("unknown domain '{}'", name), 404);
  }
  return it->second;
}

class RecordingJobRunner::Claim {
 public:
  Claim(std::shared_ptr<Shared> shared, db::RecordingRecord record)
      : shared_(std::move(shared)), record_(std::move(record)) {}
  Claim(Claim&& other) noexcept
      : shared_(std::move(other.shared_)), record_(std::move(other.record_)) {}
  Claim& operator=(Claim&&) = delete;
  ~Claim() {
    if (shared_) {
      shared_->release(record_.id);
    }
  }

  db::RecordingRecord& record() { return record_; }
  /// The job now owns the busy mark (and releases it when it ends); returns the record.
  db::RecordingRecord handOver() {
    shared_.reset();
    return std::move(record_);
  }

 private:
  std::shared_ptr<Shared> shared_;  ///< null once handed over
  db::RecordingRecord record_;
};

Result<RecordingJobRunner::Claim> RecordingJobRunner::claim(const std::string& domain,
                                                            const std::string& recording_id) {
  {
    std::lock_guard lock(shared_->mutex);
    if (shared_->stopping) {
      return fail("siprecd is shutting down", 503);
    }
    if (!shared_->busy.insert(recording_id).second) {
      return fail(fmt::format("recording {} has a store or delete running", recording_id), 409);
    }
  }
  db::RecordingRecord unread;
  unread.id = recording_id;
  Claim claimed(shared_, std::move(unread));
  auto found = repository_.findRecording(recording_id);
  if (!found) {
    return fail("state store: " + found.error().message, 500);
  }
  if (!*found || (*found)->domain != domain) {
    return fail(fmt::format("unknown recording {}", recording_id), 404);
  }
  claimed.record() = std::move(**found);
  return claimed;
}

void RecordingJobRunner::releaseAfterWrites(const std::string& recording_id) {
  repository_.afterWrites([shared = shared_, recording_id] { shared->release(recording_id); });
}

bool RecordingJobRunner::busy(std::string_view recording_id) const {
  std::lock_guard lock(shared_->mutex);
  return shared_->busy.find(recording_id) != shared_->busy.end();
}

void RecordingJobRunner::waitIdle() {
  std::unique_lock lock(shared_->mutex);
  shared_->idle.wait(lock, [&] {
    return shared_->busy.empty() && shared_->pending_auto == 0 && shared_->running == 0;
  });
}

void RecordingJobRunner::postJob(std::function<void()> job) {
  {
    std::lock_guard lock(shared_->mutex);
    ++shared_->running;
  }
  // A job releases its recording before its last event; waitIdle() also waits for the rest.
  workers_.post([shared = shared_, job = std::move(job)] {
    struct Finished {
      Shared& shared;
      ~Finished() {
        std::lock_guard lock(shared.mutex);
        --shared.running;
        shared.idle.notify_all();
      }
    } finished{*shared};
    job();
  });
}

void RecordingJobRunner::stop() {
  std::lock_guard lock(shared_->mutex);
  shared_->stopping = true;
}

Result<void> RecordingJobRunner::store(StoreRequest request) {
  auto settings = domain(request.domain);
  if (!settings) {
    return tl::unexpected(settings.error());
  }
  const std::string id = request.recording_id;
  auto claimed = claim(request.domain, id);
  if (!claimed) {
    return tl::unexpected(claimed.error());
  }
  StoreJob job;
  job.record = claimed->record();
  job.previous_state = job.record.state;
  if (job.previous_state != "ready" && job.previous_state != "stored") {
    return fail(fmt::format("recording {} is {}; STORERECORDING needs it ready or stored", id,
                            job.previous_state),
                409);
  }

  const auto& destinations = (*settings)->destinations;
  if (const auto named = destinations.find(request.destination); named != destinations.end()) {
    job.destination = named->second.destination;
    if (!request.key_template) {
      request.key_template = named->second.key_template;
    }
  } else if (request.destination == "http") {
    job.destination = settings_.http;
  }
  if (!job.destination) {
    return fail(
        fmt::format("unknown destination '{}' of domain '{}'", request.destination, request.domain),
        400);
  }
  job.destination_name = request.destination;
  const std::string_view ext = recording::fileExtension(request.format);
  if (job.destination->kind() == "http") {
    if (request.url.empty()) {
      return fail("url is required for an http destination", 400);
    }
    if (!storage::isHttpUrl(request.url)) {
      return fail("url must be an http:// or https:// URL", 400);
    }
    job.key = request.url;
    job.public_key = storage::urlWithoutQuery(request.url);
  } else {
    const int64_t start_ms = job.record.started_ms.value_or(job.record.created_ms);
    auto key =
        storage::expandKeyTemplate(request.key_template.value_or(NamedDestination{}.key_template),
                                   {{"domain", job.record.domain},
                                    {"recordingId", job.record.id},
                                    {"date", storage::keyDate(start_ms)},
                                    {"callId", job.record.call_id},
                                    {"ext", std::string(ext)}});
    if (!key) {
      return fail(key.error().message, 400);
    }
    job.key = *key;
    job.public_key = *key;
  }
  auto session_dir = sessionDirectory(settings_.data_dir, id);
  if (!session_dir) {
    return tl::unexpected(session_dir.error());
  }
  job.session_dir = std::move(*session_dir);
  job.request = std::move(request);

  db::RecordingRecord storing = job.record;
  storing.state = "storing";
  storing.error.clear();
  repository_.updateRecording(std::move(storing));
  repository_.recordTransition(id, "storing", clock_.epochMs(),
                               "destination " + job.destination_name);
  job.started = clock_.steadyNow();
  claimed->handOver();
  postJob([this, job = std::move(job)]() mutable { runStore(std::move(job)); });
  return {};
}

void RecordingJobRunner::runStore(StoreJob job) {
  log::ScopedContext scope("recording_id", job.record.id);
  try {
    const auto& request = job.request;
    const std::string ext(recording::fileExtension(request.format));
    const nlohmann::json document = readRecordingDocument(job.session_dir);
    auto render = renderRequestFor(job.record, job.session_dir, document);
    if (!render) {
      finishStoreFailure(job, "render", render.error().message);
      return;
    }
    const std::string token = randomToken(12);
    render->output = job.session_dir / fmt::format("{}{}.{}", kTemporaryPrefix, token, ext);
    job.temporaries.push_back(render->output);
    render->format = request.format;
    render->layout = request.layout;
    render->masks = request.masks;
    render->trim = request.trim;
    render->sync_to_disk = false;  // a temporary: the destination syncs its copy
    auto rendered = recording::renderRecording(*render);
    if (!rendered) {
      finishStoreFailure(job, "render", rendered.error().message);
      return;
    }

    job.stage = "upload";
    // Object tags let the store's own lifecycle rules and audits find a tenant's recordings.
    const storage::ObjectTags tags{{"domain", job.record.domain}, {"recordingId", job.record.id}};
    auto stored = job.destination->putTagged(render->output, job.key,
                                             recording::contentType(request.format), tags);
    if (!stored) {
      finishStoreFailure(job, "upload", stored.error().message);
      return;
    }
    const int64_t now_ms = clock_.epochMs();
    nlohmann::json facts = {{"destination", job.destination_name},
                            {"location", stored->location},
                            {"key", job.public_key},
                            {"format", recording::toString(request.format)},
                            {"layout", recording::toString(request.layout)},
                            {"size", stored->size},
                            {"sha256", stored->sha256},
                            {"duration", rendered->duration_ms},
                            {"startTime", rendered->start_epoch_ms},
                            {"endTime", rendered->end_epoch_ms},
                            {"sampleRate", rendered->sample_rate},
                            {"channels", rendered->channels},
                            {"storedTime", now_ms}};

    // The documents beside the audio; a pre-signed URL names one object only.
    nlohmann::json documents = nlohmann::json::object();
    if (job.destination->kind() != "http") {
      nlohmann::json recording_document = document;
      recording_document["recordingId"] = job.record.id;
      recording_document["domain"] = job.record.domain;
      recording_document["callId"] = job.record.call_id;
      recording_document["store"] = facts;
      std::vector<std::tuple<std::string, std::string, std::string>> uploads = {
          {".json", recording_document.dump(2), "application/json"}};
      if (!job.record.metadata_xml.empty()) {
        uploads.emplace_back(".xml", job.record.metadata_xml, "application/rs-metadata+xml");
      }
      for (const auto& [suffix, content, type] : uploads) {
        const auto path = job.session_dir / fmt::format("{}{}{}", kTemporaryPrefix, token, suffix);
        job.temporaries.push_back(path);
        if (auto written = writeDocument(path, content); !written) {
          finishStoreFailure(job, "upload", written.error().message);
          return;
        }
        auto put = job.destination->putTagged(path, documentKey(job.key, ext, suffix), type, tags);
        if (!put) {
          finishStoreFailure(job, "upload",
                             "the audio was stored, its " + suffix.substr(1) +
                                 " document was not: " + put.error().message);
          return;
        }
        documents[suffix.substr(1)] = put->location;
      }
    }

    db::RecordingRecord record = std::move(job.record);
    record.state = "stored";
    record.error.clear();
    record.stored_json = facts.dump();
    repository_.updateRecording(record);
    repository_.recordTransition(record.id, "stored", now_ms, stored->location);
    nlohmann::json event = facts;
    event.erase("storedTime");
    if (!documents.empty()) {
      event["documents"] = documents;
    }
    for (const auto& path : job.temporaries) {
      std::error_code ignored;
      std::filesystem::remove(path, ignored);
    }
    // Released before the event is queued: an application that answers the event at once
    // (DELETERECORDING on RECORDINGSTORED) must not get 409.
    releaseAfterWrites(record.id);
    events_.emit(EventType::RecordingStored, record.domain, record.id, std::move(event));
    log::info(kComponent, "stored to {} ({} bytes)", stored->location, stored->size);
    jobMetrics().stored.inc();
    jobMetrics().store_seconds.observe(
        std::chrono::duration<double>(clock_.steadyNow() - job.started).count());
  } catch (const std::exception& e) {
    finishStoreFailure(job, job.stage, e.what());
  }
}

void RecordingJobRunner::finishStoreFailure(StoreJob& job, std::string stage, std::string reason) {
  log::error(kComponent, "store to '{}' failed ({}): {}", job.destination_name, stage, reason);
  for (const auto& path : job.temporaries) {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
  }
  db::RecordingRecord record = job.record;
  record.state = job.previous_state;
  record.error = reason;
  repository_.updateRecording(record);
  repository_.recordTransition(record.id, job.previous_state, clock_.epochMs(),
                               fmt::format("store failed ({}): {}", stage, reason));
  releaseAfterWrites(record.id);  // before the event: a retry on RECORDINGFAILED is accepted
  events_.emit(EventType::RecordingFailed, record.domain, record.id,
               {{"reason", std::move(reason)},
                {"stage", std::move(stage)},
                {"kept", "temp recording"},
                {"destination", job.destination_name}});
  jobMetrics().failed.inc();
}

Result<void> RecordingJobRunner::remove(std::string domain, std::string recording_id,
                                        std::string reason) {
  auto claimed = claim(domain, recording_id);
  if (!claimed) {
    return tl::unexpected(claimed.error());
  }
  const std::string& state = claimed->record().state;
  if (isLive(state)) {
    return fail(fmt::format("recording {} is {}: the call is still live (STOPRECORDING or "
                            "CANCELRECORDING first)",
                            recording_id, state),
                409);
  }
  if (state == "storing") {
    return fail(fmt::format("recording {} is being stored", recording_id), 409);
  }
  if (state == "deleted" || state == "declined" || state == "cancelled") {
    return fail(fmt::format("recording {} is {}: nothing is kept to delete", recording_id, state),
                409);
  }
  if (auto dir = sessionDirectory(settings_.data_dir, recording_id); !dir) {
    return tl::unexpected(dir.error());
  }
  postJob([this, record = claimed->handOver(), reason = std::move(reason)]() mutable {
    runRemove(std::move(record), std::move(reason));
  });
  return {};
}

void RecordingJobRunner::runRemove(db::RecordingRecord record, std::string reason) {
  log::ScopedContext scope("recording_id", record.id);
  const auto dir = sessionDirectory(settings_.data_dir, record.id);
  std::error_code error;
  std::filesystem::remove_all(*dir, error);
  if (error) {
    const std::string message = fmt::format("cannot delete {}: {}", dir->string(), error.message());
    log::error(kComponent, "delete ({}) failed: {}", reason, message);
    shared_->release(record.id);
    if (reason != "retention") {
      events_.emit(EventType::RecordingFailed, record.domain, record.id,
                   {{"reason", message}, {"stage", "delete"}});
    }
    return;
  }
  record.state = "deleted";
  record.audio_path.clear();
  repository_.updateRecording(record);
  repository_.recordTransition(record.id, "deleted", clock_.epochMs(), reason);
  releaseAfterWrites(record.id);  // before the event, as for stores
  events_.emit(EventType::RecordingDeleted, record.domain, record.id, {{"reason", reason}});
  log::info(kComponent, "deleted siprecd's copy ({})", reason);
  (reason == "retention" ? jobMetrics().deleted_retention : jobMetrics().deleted_command).inc();
}

void RecordingJobRunner::onRecordingReady(std::string domain_name, std::string recording_id) {
  auto settings = domain(domain_name);
  if (!settings || !(*settings)->auto_store) {
    return;
  }
  const AutoStorePolicy policy = *(*settings)->auto_store;
  {
    std::lock_guard lock(shared_->mutex);
    if (shared_->stopping) {
      return;
    }
    ++shared_->pending_auto;
  }
  auto done = [shared = shared_] {
    std::lock_guard lock(shared->mutex);
    --shared->pending_auto;
    shared->idle.notify_all();
  };
  repository_.afterWrites([this, shared = shared_, done, policy,
                           domain_name = std::move(domain_name),
                           recording_id = std::move(recording_id)]() mutable {
    std::lock_guard lock(shared->mutex);
    if (shared->stopping) {
      --shared->pending_auto;
      shared->idle.notify_all();
      return;
    }
    // Held across post() so that stop() cannot slip in before the pool is used; post only
    // queues the job.
    workers_.post([this, done, policy, domain_name = std::move(domain_name),
                   recording_id = std::move(recording_id)] {
      // A recording announced twice (live end and start-up recovery) or already handled
      // is left alone: only a ready recording is stored, and store() refuses (409) one a
      // job already runs for.
      auto found = repository_.findRecording(recording_id);
      if (!found || !*found || (*found)->state != "ready") {
        done();
        return;
      }
      StoreRequest request;
      request.domain = domain_name;
      request.recording_id = recording_id;
      request.destination = policy.destination;
      request.format = policy.format;
      request.layout = policy.layout;
      // 503: stopping; 409: another job runs for it (the same recording announced twice):
      // neither is a failure of this recording.
      auto started = store(std::move(request));
      if (!started && started.error().code != 503 && started.error().code != 409) {
        log::ScopedContext scope("recording_id", recording_id);
        log::error(kComponent, "auto-store failed to start: {}", started.error().message);
        events_.emit(EventType::RecordingFailed, domain_name, recording_id,
                     {{"reason", started.error().message},
                      {"stage", "auto-store"},
                      {"destination", policy.destination}});
      }
      done();
    });
  });
}

void RecordingJobRunner::recoverInterruptedJobs() {
  auto storing = repository_.recordingsInState("storing");
  if (!storing) {
    log::error(kComponent, "cannot list interrupted stores: {}", storing.error().message);
  } else {
    for (db::RecordingRecord& record : *storing) {
      log::ScopedContext scope("recording_id", record.id);
      const std::string reason = "siprecd stopped while the recording was being stored";
      record.state = record.stored_json.empty() ? "ready" : "stored";
      record.error = reason;
      if (auto dir = sessionDirectory(settings_.data_dir, record.id)) {
        removeTemporaries(*dir);
      }
      repository_.updateRecording(record);
      repository_.recordTransition(record.id, record.state, clock_.epochMs(), reason);
      events_.emit(EventType::RecordingFailed, record.domain, record.id,
                   {{"reason", reason}, {"stage", "interrupted"}, {"kept", "temp recording"}});
      log::warn(kComponent, "interrupted store: back to {}", record.state);
    }
  }
  // Auto-store is at least once: ready recordings of auto-storing domains are stored now.
  repository_.flush();
  auto ready = repository_.recordingsInState("ready");
  if (!ready) {
    log::error(kComponent, "cannot list ready recordings: {}", ready.error().message);
    return;
  }
  for (const db::RecordingRecord& record : *ready) {
    onRecordingReady(record.domain, record.id);
  }
}

}  // namespace siprecd::control
