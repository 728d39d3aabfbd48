#include "base/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>

#include <fmt/format.h>

// Clang thread-safety annotations (-Wthread-safety) for the registry's private lock.
#if defined(__clang__)
#define SIPRECD_TSA(x) __attribute__((x))
#else
#define SIPRECD_TSA(x)
#endif

namespace siprecd {
namespace {

class SIPRECD_TSA(capability("mutex")) Mutex {
 public:
  void lock() SIPRECD_TSA(acquire_capability()) { mutex_.lock(); }
  void unlock() SIPRECD_TSA(release_capability()) { mutex_.unlock(); }

 private:
  std::mutex mutex_;
};

class SIPRECD_TSA(scoped_lockable) MutexLock {
 public:
  explicit MutexLock(Mutex& mutex) SIPRECD_TSA(acquire_capability(mutex)) : mutex_(mutex) {
    mutex_.lock();
  }
  ~MutexLock() SIPRECD_TSA(release_capability()) { mutex_.unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mutex_;
};

[[noreturn]] void invariantFailed(const std::string& message) {
  std::fprintf(stderr, "metrics: %s\n", message.c_str());
  std::abort();
}

bool validName(std::string_view name, bool allow_colon) {
  if (name.empty()) {
    return false;
  }
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
    const bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0)) {
      return false;
    }
  }
  return true;
}

std::string_view typeName(MetricType type) {
  switch (type) {
    case MetricType::Counter:
      return "counter";
    case MetricType::Gauge:
      return "gauge";
    case MetricType::Histogram:
      return "histogram";
  }
  return "untyped";
}

/// Prometheus value syntax: integers without exponent, +Inf/-Inf/NaN spelled out.
std::string formatValue(double value) {
  if (std::isnan(value)) {
    return "NaN";
  }
  if (std::isinf(value)) {
    return value > 0 ? "+Inf" : "-Inf";
  }
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    return fmt::format("{}", static_cast<int64_t>(value));
  }
  return fmt::format("{}", value);
}

/// HELP text escaping: backslash and newline (exposition format 0.0.4).
std::string escapeHelp(std::string_view help) {
  std::string out;
  for (const char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

MetricLabels normalise(MetricLabels labels, const std::string& metric) {
  std::sort(labels.begin(), labels.end());
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const auto& name = labels[i].first;
    if (!validName(name, false) || name.starts_with("__") || name == "le") {
      invariantFailed(fmt::format("metric {}: invalid label name \"{}\"", metric, name));
    }
    if (i > 0 && labels[i - 1].first == name) {
      invariantFailed(fmt::format("metric {}: duplicate label \"{}\"", metric, name));
    }
  }
  return labels;
}

std::string renderLabels(const MetricLabels& labels, std::string_view extra_name = {},
                         std::string_view extra_value = {}) {
  if (labels.empty() && extra_name.empty()) {
    return {};
  }
  std::string out = "{";
  bool first = true;
  for (const auto& [name, value] : labels) {
    if (!first) {
      out.push_back(',');
    }
    first = false;
    out += fmt::format("{}=\"{}\"", name, escapeLabelValue(value));
  }
  if (!extra_name.empty()) {
    if (!first) {
      out.push_back(',');
    }
    out += fmt::format("{}=\"{}\"", extra_name, extra_value);
  }
  out.push_back('}');
  return out;
}

}  // namespace

struct CallbackRegistration::Entry {
  std::string name;
  MetricLabels labels;
  std::function<double()> read;
  std::mutex call_mutex;  // held while `read` runs; reset() takes it to wait for a scrape
  bool alive = true;      // guarded by call_mutex
  std::weak_ptr<MetricsRegistry::Impl> registry;
};

struct MetricsRegistry::Impl {
  struct Series {
    MetricLabels labels;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
  };
  struct Family {
    std::string help;
    MetricType type = MetricType::Gauge;
    std::vector<Series> series;
  };

  mutable Mutex mutex;
  std::map<std::string, Family> families SIPRECD_TSA(guarded_by(mutex));
  std::vector<std::shared_ptr<CallbackRegistration::Entry>> callbacks
      SIPRECD_TSA(guarded_by(mutex));

  Family& family(const std::string& name, const std::string& help, MetricType type)
      SIPRECD_TSA(requires_capability(mutex)) {
    if (!validName(name, true)) {
      invariantFailed(fmt::format("invalid metric name \"{}\"", name));
    }
    auto [it, inserted] = families.try_emplace(name);
    if (inserted) {
      it->second.help = help;
      it->second.type = type;
    } else if (it->second.type != type || it->second.help != help) {
      invariantFailed(fmt::format("metric {} registered twice with different type or help", name));
    }
    return it->second;
  }

  Series& series(Family& family, MetricLabels labels) SIPRECD_TSA(requires_capability(mutex)) {
    for (auto& existing : family.series) {
      if (existing.labels == labels) {
        return existing;
      }
    }
    family.series.push_back(Series{std::move(labels), nullptr, nullptr, nullptr});
    return family.series.back();
  }

  void removeCallback(const CallbackRegistration::Entry* entry) {
    MutexLock lock(mutex);
    std::erase_if(callbacks, [entry](const auto& e) { return e.get() == entry; });
  }
};

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)),
      buckets_(std::make_unique<std::atomic<uint64_t>[]>(upper_bounds_.size() + 1)) {}

void Histogram::observe(double value) {
  const auto it = std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value);
  const auto index = static_cast<std::size_t>(it - upper_bounds_.begin());
  buckets_[index].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

uint64_t Histogram::bucketCount(std::size_t i) const {
  return i <= upper_bounds_.size() ? buckets_[i].load(std::memory_order_relaxed) : 0;
}

std::vector<double> defaultLatencyBuckets() {
  return {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

CallbackRegistration::CallbackRegistration(std::shared_ptr<Entry> entry)
    : entry_(std::move(entry)) {}

CallbackRegistration& CallbackRegistration::operator=(CallbackRegistration&& other) noexcept {
  if (this != &other) {
    reset();
    entry_ = std::move(other.entry_);
  }
  return *this;
}

CallbackRegistration::~CallbackRegistration() {
  reset();
}

void CallbackRegistration::reset() {
  if (!entry_) {
    return;
  }
  if (auto registry = entry_->registry.lock()) {
    registry->removeCallback(entry_.get());
  }
  {
    std::lock_guard<std::mutex> lock(entry_->call_mutex);
    entry_->alive = false;
  }
  entry_.reset();
}

MetricsRegistry::MetricsRegistry() : impl_(std::make_shared<Impl>()) {}

MetricsRegistry::~MetricsRegistry() = default;

Counter& MetricsRegistry::counter(const std::string& name, const std::string& help,
                                  MetricLabels labels) {
  labels = normalise(std::move(labels), name);
  MutexLock lock(impl_->mutex);
  auto& series = impl_->series(impl_->family(name, help, MetricType::Counter), std::move(labels));
  if (!series.counter) {
    series.counter = std::make_unique<Counter>();
  }
  return *series.counter;
}

Gauge& MetricsRegistry::gauge(const std::string& name, const std::string& help,
                              MetricLabels labels) {
  labels = normalise(std::move(labels), name);
  MutexLock lock(impl_->mutex);
  auto& series = impl_->series(impl_->family(name, help, MetricType::Gauge), std::move(labels));
  if (!series.gauge) {
    series.gauge = std::make_unique<Gauge>();
  }
  return *series.gauge;
}

Histogram& MetricsRegistry::histogram(const std::string& name, const std::string& help,
                                      std::vector<double> upper_bounds, MetricLabels labels) {
  labels = normalise(std::move(labels), name);
  if (upper_bounds.empty()) {
    upper_bounds = defaultLatencyBuckets();
  }
  for (std::size_t i = 1; i < upper_bounds.size(); ++i) {
    if (!(upper_bounds[i - 1] < upper_bounds[i])) {
      invariantFailed(fmt::format("histogram {}: bucket bounds must increase", name));
    }
  }
  MutexLock lock(impl_->mutex);
  auto& series = impl_->series(impl_->family(name, help, MetricType::Histogram), std::move(labels));
  if (!series.histogram) {
    series.histogram = std::make_unique<Histogram>(std::move(upper_bounds));
  }
  return *series.histogram;
}

CallbackRegistration MetricsRegistry::registerCallback(const std::string& name,
                                                       const std::string& help, MetricType type,
                                                       std::function<double()> read,
                                                       MetricLabels labels) {
  if (type == MetricType::Histogram) {
    invariantFailed(fmt::format("metric {}: callbacks export counters or gauges", name));
  }
  auto entry = std::make_shared<CallbackRegistration::Entry>();
  entry->name = name;
  entry->labels = normalise(std::move(labels), name);
  entry->read = std::move(read);
  entry->registry = impl_;
  MutexLock lock(impl_->mutex);
  impl_->family(name, help, type);
  impl_->callbacks.push_back(entry);
  return CallbackRegistration(std::move(entry));
}

std::string MetricsRegistry::renderPrometheus() const {
  // Snapshot under the lock; run callbacks outside it (they may be slow or log).
  struct Line {
    MetricLabels labels;
    double value = 0;
  };
  struct Snapshot {
    std::string help;
    MetricType type = MetricType::Gauge;
    std::vector<Line> lines;
    std::vector<const Histogram*> histograms;
    std::vector<MetricLabels> histogram_labels;
  };
  std::map<std::string, Snapshot> snapshot;
  std::vector<std::shared_ptr<CallbackRegistration::Entry>> callbacks;
  {
    MutexLock lock(impl_->mutex);
    for (const auto& [name, family] : impl_->families) {
      auto& out = snapshot[name];
      out.help = family.help;
      out.type = family.type;
      for (const auto& series : family.series) {
        if (series.counter) {
          out.lines.push_back({series.labels, static_cast<double>(series.counter->value())});
        } else if (series.gauge) {
          out.lines.push_back({series.labels, series.gauge->value()});
        } else if (series.histogram) {
          out.histograms.push_back(series.histogram.get());
          out.histogram_labels.push_back(series.labels);
        }
      }
    }
    callbacks = impl_->callbacks;
  }
  for (const auto& entry : callbacks) {
    double value = 0;
    {
      std::lock_guard<std::mutex> lock(entry->call_mutex);
      if (!entry->alive) {
        continue;
      }
      value = entry->read();
    }
    auto& lines = snapshot[entry->name].lines;
    const auto same = std::find_if(lines.begin(), lines.end(),
                                   [&](const Line& line) { return line.labels == entry->labels; });
    if (same != lines.end()) {
      same->value += value;
    } else {
      lines.push_back({entry->labels, value});
    }
  }

  std::string out;
  for (const auto& [name, family] : snapshot) {
    if (family.lines.empty() && family.histograms.empty()) {
      continue;
    }
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, escapeHelp(family.help), name,
                       typeName(family.type));
    for (const auto& line : family.lines) {
      out += fmt::format("{}{} {}\n", name, renderLabels(line.labels), formatValue(line.value));
    }
    for (std::size_t h = 0; h < family.histograms.size(); ++h) {
      const Histogram& histogram = *family.histograms[h];
      const MetricLabels& labels = family.histogram_labels[h];
      uint64_t cumulative = 0;
      const auto& bounds = histogram.upperBounds();
      for (std::size_t i = 0; i <= bounds.size(); ++i) {
        cumulative += histogram.bucketCount(i);
        const std::string le = i < bounds.size() ? formatValue(bounds[i]) : "+Inf";
        out += fmt::format("{}_bucket{} {}\n", name, renderLabels(labels, "le", le), cumulative);
      }
      out += fmt::format("{}_sum{} {}\n", name, renderLabels(labels), formatValue(histogram.sum()));
      out += fmt::format("{}_count{} {}\n", name, renderLabels(labels), cumulative);
    }
  }
  return out;
}

MetricsRegistry& metrics() {
  // Deliberately never destroyed: threads still running during exit may update metrics.
  static MetricsRegistry& registry = *std::make_unique<MetricsRegistry>().release();
  return registry;
}

std::string escapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace siprecd
