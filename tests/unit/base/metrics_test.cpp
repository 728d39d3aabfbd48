#include "base/metrics.hpp"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace siprecd {
namespace {

TEST(Metrics, RendersCountersAndGaugesWithHelpAndType) {
  MetricsRegistry registry;
  registry.counter("siprecd_sip_messages_total", "SIP messages received").inc(3);
  registry.gauge("siprecd_sessions", "Sessions in progress").set(2.5);
  EXPECT_EQ(registry.renderPrometheus(),
            "# HELP siprecd_sessions Sessions in progress\n"
            "# TYPE siprecd_sessions gauge\n"
            "siprecd_sessions 2.5\n"
            "# HELP siprecd_sip_messages_total SIP messages received\n"
            "# TYPE siprecd_sip_messages_total counter\n"
            "siprecd_sip_messages_total 3\n");
}

TEST(Metrics, SameNameAndLabelsReturnTheSameSeries) {
  MetricsRegistry registry;
  Counter& a = registry.counter("x_total", "x", {{"transport", "udp"}, {"dir", "in"}});
  Counter& b = registry.counter("x_total", "x", {{"dir", "in"}, {"transport", "udp"}});
  Counter& c = registry.counter("x_total", "x", {{"dir", "in"}, {"transport", "tcp"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &c);
  a.inc();
  b.inc();
  c.inc(5);
  EXPECT_EQ(registry.renderPrometheus(),
            "# HELP x_total x\n# TYPE x_total counter\n"
            "x_total{dir=\"in\",transport=\"udp\"} 2\n"
            "x_total{dir=\"in\",transport=\"tcp\"} 5\n");
}

TEST(Metrics, EscapesLabelValuesAndHelp) {
  MetricsRegistry registry;
  registry.gauge("g", "line one\nback\\slash", {{"path", "a\"b\\c\nd"}}).set(1);
  EXPECT_EQ(registry.renderPrometheus(),
            "# HELP g line one\\nback\\\\slash\n# TYPE g gauge\n"
            "g{path=\"a\\\"b\\\\c\\nd\"} 1\n");
  EXPECT_EQ(escapeLabelValue("plain"), "plain");
}

TEST(Metrics, GaugeMovesBothWaysAndRendersSpecialValues) {
  MetricsRegistry registry;
  Gauge& gauge = registry.gauge("g", "g");
  gauge.inc();
  gauge.inc();
  gauge.dec();
  gauge.add(0.25);
  EXPECT_DOUBLE_EQ(gauge.value(), 1.25);
  gauge.set(std::numeric_limits<double>::infinity());
  EXPECT_NE(registry.renderPrometheus().find("g +Inf\n"), std::string::npos);
}

TEST(Metrics, CallbacksAreReadAtScrapeTimeAndSummedPerSeries) {
  MetricsRegistry registry;
  std::atomic<int> streams_a{3};
  std::atomic<int> streams_b{4};
  auto a = registry.registerCallback("siprecd_media_streams", "Streams", MetricType::Gauge,
                                     [&] { return streams_a.load(); });
  auto b = registry.registerCallback("siprecd_media_streams", "Streams", MetricType::Gauge,
                                     [&] { return streams_b.load(); });
  EXPECT_NE(registry.renderPrometheus().find("siprecd_media_streams 7\n"), std::string::npos);
  streams_a = 10;
  EXPECT_NE(registry.renderPrometheus().find("siprecd_media_streams 14\n"), std::string::npos);
  b.reset();
  EXPECT_NE(registry.renderPrometheus().find("siprecd_media_streams 10\n"), std::string::npos);
  a.reset();
  EXPECT_EQ(registry.renderPrometheus(), "");
}

TEST(Metrics, CallbackRegistrationUnregistersWhenDestroyed) {
  MetricsRegistry registry;
  int calls = 0;
  {
    auto registration = registry.registerCallback("c_total", "c", MetricType::Counter, [&] {
      ++calls;
      return 1.0;
    });
    CallbackRegistration moved = std::move(registration);
    registry.renderPrometheus();
  }
  registry.renderPrometheus();
  EXPECT_EQ(calls, 1);
}

TEST(Metrics, RegistrationMayOutliveTheRegistry) {
  CallbackRegistration registration;
  {
    MetricsRegistry registry;
    registration = registry.registerCallback("g", "g", MetricType::Gauge, [] { return 1.0; });
  }
  registration.reset();
  SUCCEED();
}

TEST(Metrics, HistogramRendersCumulativeBucketsSumAndCount) {
  MetricsRegistry registry;
  Histogram& histogram =
      registry.histogram("siprecd_storage_seconds", "Upload time", {0.1, 1}, {{"kind", "s3"}});
  histogram.observe(0.05);
  histogram.observe(0.1);
  histogram.observe(0.5);
  histogram.observe(7);
  EXPECT_EQ(registry.renderPrometheus(),
            "# HELP siprecd_storage_seconds Upload time\n"
            "# TYPE siprecd_storage_seconds histogram\n"
            "siprecd_storage_seconds_bucket{kind=\"s3\",le=\"0.1\"} 2\n"
            "siprecd_storage_seconds_bucket{kind=\"s3\",le=\"1\"} 3\n"
            "siprecd_storage_seconds_bucket{kind=\"s3\",le=\"+Inf\"} 4\n"
            "siprecd_storage_seconds_sum{kind=\"s3\"} 7.65\n"
            "siprecd_storage_seconds_count{kind=\"s3\"} 4\n");
}

TEST(Metrics, ConcurrentIncrementsAreNotLost) {
  MetricsRegistry registry;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&registry] {
      for (int i = 0; i < 10000; ++i) {
        registry.counter("n_total", "n").inc();
        registry.gauge("g", "g").add(1);
      }
    });
  }
  std::thread scraper([&registry] {
    for (int i = 0; i < 100; ++i) {
      registry.renderPrometheus();
    }
  });
  for (auto& thread : threads) {
    thread.join();
  }
  scraper.join();
  EXPECT_EQ(registry.counter("n_total", "n").value(), 40000u);
  EXPECT_DOUBLE_EQ(registry.gauge("g", "g").value(), 40000.0);
}

TEST(MetricsDeathTest, ConflictingTypeOrInvalidNameAborts) {
  MetricsRegistry registry;
  registry.counter("dup_total", "d");
  EXPECT_DEATH(registry.gauge("dup_total", "d"), "different type");
  EXPECT_DEATH(registry.counter("bad-name", "d"), "invalid metric name");
  EXPECT_DEATH(registry.counter("ok_total", "d", {{"le", "1"}}), "invalid label name");
}

TEST(Metrics, GlobalRegistryIsShared) {
  Counter& counter = metrics().counter("siprecd_test_global_total", "test");
  counter.inc();
  EXPECT_EQ(&counter, &metrics().counter("siprecd_test_global_total", "test"));
  EXPECT_NE(metrics().renderPrometheus().find("siprecd_test_global_total"), std::string::npos);
}

}  // namespace
}  // namespace siprecd
