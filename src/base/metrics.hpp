#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

/// Process metrics, exposed in the Prometheus text format at /metrics.
///
/// Components register their series once (at construction) and keep the returned
/// reference; updating a Counter/Gauge/Histogram is lock-free and may happen on any
/// thread, including the SIP and media loops. Values that already live in a component's
/// own statistics are exported with registerCallback() and read at scrape time.
///
/// Naming: `siprecd_<module>_<what>[_<unit>]`, counters end in `_total`. A name or label
/// name that is not valid Prometheus syntax, or the same name registered with another
/// type or help text, is a programming error and aborts.
namespace siprecd {

/// Label pairs of one series, e.g. {{"transport", "udp"}}. Order does not matter.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

enum class MetricType { Counter, Gauge, Histogram };

/// A monotonically increasing count.
class Counter {
 public:
  void inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

/// A value that goes up and down.
class Gauge {
 public:
  void set(double value) { value_.store(value, std::memory_order_relaxed); }
  void add(double delta) { value_.fetch_add(delta, std::memory_order_relaxed); }
  void inc() { add(1.0); }
  void dec() { add(-1.0); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

/// Observations counted into fixed buckets (cumulative on output, plus +Inf, sum, count).
class Histogram {
 public:
  /// `upper_bounds` must be strictly increasing (checked at registration).
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);

  const std::vector<double>& upperBounds() const { return upper_bounds_; }
  /// Non-cumulative count of bucket `i`; i == upperBounds().size() is the +Inf bucket.
  uint64_t bucketCount(std::size_t i) const;
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> upper_bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0.0};
};

/// Default latency buckets in seconds: 1 ms .. 60 s.
std::vector<double> defaultLatencyBuckets();

/// Keeps a callback series registered; unregisters when destroyed or reset(). After
/// reset() returns the callback is not running and will not run again, so a component
/// can register a callback reading its own members and reset it in its destructor.
class CallbackRegistration {
 public:
  struct Entry;
  CallbackRegistration() = default;
  explicit CallbackRegistration(std::shared_ptr<Entry> entry);
  CallbackRegistration(CallbackRegistration&& other) noexcept = default;
  CallbackRegistration& operator=(CallbackRegistration&& other) noexcept;
  ~CallbackRegistration();
  void reset();

 private:
  std::shared_ptr<Entry> entry_;
};

/// A set of metric families. Thread-safe: registration takes a private lock, updates are
/// atomics, renderPrometheus() may run concurrently with both.
class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  /// Returns the series (name, labels), creating it on first use; the same arguments
  /// return the same object. References stay valid for the registry's lifetime.
  Counter& counter(const std::string& name, const std::string& help, MetricLabels labels = {});
  Gauge& gauge(const std::string& name, const std::string& help, MetricLabels labels = {});
  /// `upper_bounds` empty: defaultLatencyBuckets(). Later calls ignore `upper_bounds`.
  Histogram& histogram(const std::string& name, const std::string& help,
                       std::vector<double> upper_bounds = {}, MetricLabels labels = {});

  /// Exports a value computed at scrape time, on the scraping (HTTP) thread, so `read`
  /// must be thread-safe and quick. `type` is Counter or Gauge. Several callbacks for the
  /// same series are summed (e.g. one per media thread). Keep the registration alive for
  /// as long as `read` may be called.
  [[nodiscard]] CallbackRegistration registerCallback(const std::string& name,
                                                      const std::string& help, MetricType type,
                                                      std::function<double()> read,
                                                      MetricLabels labels = {});

  /// The Prometheus text exposition format 0.0.4: families sorted by name, each with
  /// HELP and TYPE lines. Content-Type: text/plain; version=0.0.4; charset=utf-8.
  std::string renderPrometheus() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

/// The process-wide registry served at /metrics. Never destroyed.
MetricsRegistry& metrics();

/// Escapes a label value for the exposition format (backslash, double quote, newline).
std::string escapeLabelValue(std::string_view value);

}  // namespace siprecd
