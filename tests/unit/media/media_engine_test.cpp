#include "media/media_engine.hpp"

#include <fstream>
#include <future>
#include <set>
#include <thread>
#include <utility>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/unique_fd.hpp"
#include "media/open_file_limit.hpp"
#include "media/receive_loop.hpp"
#include "media/rtp_spool_format.hpp"
#include "media_test_support.hpp"

namespace siprecd::media {
namespace {

using namespace std::chrono_literals;
using testing::bytesOf;
using testing::makeRtp;
using testing::readFile;
using testing::RtpFields;
using testing::TempDir;
using testing::ThreadSafeManualClock;

/// Ports one test may use from basePort().
constexpr int kBlockPorts = 16;

bool blockIsFree(uint16_t first) {
  for (int offset = 0; offset < kBlockPorts; ++offset) {
    UniqueFd probe(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_port = htons(static_cast<uint16_t>(first + offset));
    local.sin_addr.s_addr = htonl(INADDR_ANY);
    if (::bind(probe.get(), reinterpret_cast<const sockaddr*>(&local), sizeof(local)) != 0) {
      return false;
    }
  }
  return true;
}

/// A block of kBlockPorts free ports for this process, chosen once: above the kernel's
/// ephemeral range (32768-60999) and the ranges integration tests and benchmarks use
/// (10000-59999), starting at a per-process offset so that parallel test processes rarely
/// meet, and skipping blocks in use.
uint16_t basePort() {
  static const uint16_t base = [] {
    constexpr int kFirst = 61000;
    constexpr int kBlocks = (65535 - kFirst) / kBlockPorts;
    const int start = ::getpid() % kBlocks;
    for (int i = 0; i < kBlocks; ++i) {
      const auto first = static_cast<uint16_t>(kFirst + ((start + i) % kBlocks) * kBlockPorts);
      if (blockIsFree(first)) {
        return first;
      }
    }
    return static_cast<uint16_t>(kFirst + start * kBlockPorts);
  }();
  return base;
}

MediaSettings settingsWithPairs(int pairs, ReceiveBackend backend = ReceiveBackend::Recvmmsg) {
  EXPECT_LE(2 * pairs, kBlockPorts);
  MediaSettings settings;
  settings.ports = PortRange{basePort(), static_cast<uint16_t>(basePort() + 2 * pairs - 1)};
  settings.flush_interval = 50ms;
  settings.receive_backend = backend;
  return settings;
}

/// A UDP socket on 127.0.0.1 sending to the engine.
class Sender {
 public:
  Sender() : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_.get(), reinterpret_cast<const sockaddr*>(&local), sizeof(local)), 0);
  }
  void send(uint16_t port, const std::vector<std::byte>& datagram) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::sendto(fd_.get(), datagram.data(), datagram.size(), 0,
                       reinterpret_cast<const sockaddr*>(&to), sizeof(to)),
              static_cast<ssize_t>(datagram.size()));
  }

 private:
  UniqueFd fd_;
};

template <typename Predicate>
bool waitFor(Predicate predicate, std::chrono::milliseconds limit = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!predicate()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

/// Every engine test runs with each receive backend (io_uring falls back to recvmmsg where
/// it is unavailable; MediaEngineBackend checks which one runs).
class MediaEngineTest : public ::testing::TestWithParam<ReceiveBackend> {
 protected:
  void startEngine(MediaSettings settings) {
    settings.receive_backend = GetParam();
    engine_.emplace(settings, clock_);
    ASSERT_TRUE(engine_->start());
  }

  StreamSpec spec(const std::string& name, bool rtcp_mux = false) const {
    StreamSpec stream;
    stream.recording_id = "rec-42";
    stream.stream_index = 1;
    stream.label = "caller";
    stream.spool_path = dir_.path() / name;
    stream.bind_address = "127.0.0.1";
    stream.payload_type = 0;
    stream.codec_name = "PCMU";
    stream.clock_rate = 8000;
    stream.telephone_event_pt = 101;
    stream.rtcp_mux = rtcp_mux;
    return stream;
  }

  StreamStats closeAndWait(uint64_t id) {
    std::promise<StreamStats> closed;
    auto future = closed.get_future();
    engine_->closeStream(id, [&closed](StreamStats stats) { closed.set_value(stats); });
    EXPECT_EQ(future.wait_for(5s), std::future_status::ready);
    return future.get();
  }

  std::vector<SpoolRecord> spooled(const std::string& name) {
    bytes_ = readFile(dir_.path() / name);
    SpoolParser parser(bytes_);
    header_ = parser.header();
    std::vector<SpoolRecord> records;
    while (auto record = parser.next()) {
      records.push_back(*record);
    }
    return records;
  }

  TempDir dir_;
  ThreadSafeManualClock clock_;
  std::optional<MediaEngine> engine_;
  std::vector<std::byte> bytes_;
  std::optional<SpoolHeader> header_;
};

TEST_P(MediaEngineTest, SpoolsRtpReceivedOnLoopback) {
  startEngine(settingsWithPairs(4));
  const auto handle = engine_->openStream(spec("a.spool"));
  ASSERT_TRUE(handle) << handle.error().message;
  EXPECT_EQ(handle->port % 2, 0);
  EXPECT_GE(handle->port, basePort());
  EXPECT_LT(handle->port, basePort() + 8);
  EXPECT_EQ(engine_->stats().streams_active, 1U);

  Sender sender;
  for (uint16_t seq = 0; seq < 10; ++seq) {
    RtpFields fields;
    fields.seq = static_cast<uint16_t>(65530 + seq);
    fields.timestamp = seq * 160U;
    sender.send(handle->port, makeRtp(fields, std::vector<std::byte>(160, std::byte{0xFF})));
  }
  ASSERT_TRUE(waitFor([&] { return engine_->stats().packets == 10; }));
  const StreamStats stats = closeAndWait(handle->id);
  EXPECT_EQ(stats.packets, 10U);
  EXPECT_EQ(stats.bytes, 10U * (12 + 160));
  EXPECT_EQ(stats.first_packet_epoch_us, 1'700'000'000'000'000);
  EXPECT_EQ(engine_->stats().streams_active, 0U);

  const auto records = spooled("a.spool");
  ASSERT_TRUE(header_);
  EXPECT_EQ(header_->recording_id, "rec-42");
  EXPECT_EQ(header_->stream_index, 1U);
  EXPECT_EQ(header_->label, "caller");
  EXPECT_EQ(header_->codec_name, "PCMU");
  EXPECT_EQ(header_->telephone_event_pt, 101);
  ASSERT_EQ(records.size(), 10U);
  for (std::size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].seq, SeqNum(static_cast<uint16_t>(65530 + i)));
    EXPECT_EQ(records[i].payload.size(), 160U);
  }
}

TEST_P(MediaEngineTest, PausedCaptureReceivesButDoesNotSpool) {
  startEngine(settingsWithPairs(2));
  const auto handle = engine_->openStream(spec("p.spool"));
  ASSERT_TRUE(handle) << handle.error().message;
  // Commands run in order on the stream's thread: closing an unknown id of the same thread
  // returns once the pause or resume before it took effect.
  const uint64_t barrier_id = handle->id + 1000 * engine_->info().threads;
  Sender sender;
  uint16_t seq = 0;
  const auto sendSome = [&](int count) {
    for (int i = 0; i < count; ++i, ++seq) {
      RtpFields fields;
      fields.seq = seq;
      fields.timestamp = seq * 160U;
      sender.send(handle->port, makeRtp(fields, std::vector<std::byte>(160, std::byte{0x55})));
    }
  };
  sendSome(3);
  ASSERT_TRUE(waitFor([&] { return engine_->stats().packets == 3; }));
  engine_->setCapturePaused(handle->id, true);
  closeAndWait(barrier_id);
  sendSome(2);
  ASSERT_TRUE(waitFor([&] { return engine_->stats().packets_paused == 2; }));
  engine_->setCapturePaused(handle->id, false);
  closeAndWait(barrier_id);
  sendSome(2);
  ASSERT_TRUE(waitFor([&] { return engine_->stats().packets == 5; }));
  const StreamStats stats = closeAndWait(handle->id);
  EXPECT_EQ(stats.packets, 5U);
  EXPECT_EQ(stats.packets_paused, 2U);
  EXPECT_EQ(stats.lost, 0U);
  const auto records = spooled("p.spool");
  ASSERT_EQ(records.size(), 5U);
  EXPECT_EQ(records[2].seq, SeqNum(2));
  EXPECT_EQ(records[3].seq, SeqNum(5));  // 3 and 4 arrived while paused
}

TEST_P(MediaEngineTest, DropsAndCountsPacketsFromForeignSource) {
  startEngine(settingsWithPairs(2));
  const auto handle = engine_->openStream(spec("b.spool"));
  ASSERT_TRUE(handle);
  Sender latched;
  Sender intruder;
  RtpFields fields;
  latched.send(handle->port, makeRtp(fields, bytesOf({1})));
  ASSERT_TRUE(waitFor([&] { return engine_->stats().packets == 1; }));
  for (int i = 0; i < 3; ++i) {
    intruder.send(handle->port, makeRtp(fields, bytesOf({2})));
  }
  latched.send(handle->port, makeRtp(fields, bytesOf({3})));
  intruder.send(handle->port, bytesOf({0x01, 0x02}));
  ASSERT_TRUE(waitFor([&] {
    const auto totals = engine_->stats();
    return totals.packets == 2 && totals.dropped_foreign_source == 3 && totals.malformed == 1;
  }));
  const StreamStats stats = closeAndWait(handle->id);
  EXPECT_EQ(stats.dropped_foreign_source, 3U);
  EXPECT_EQ(stats.malformed, 1U);
  const auto records = spooled("b.spool");
  ASSERT_EQ(records.size(), 2U);
  EXPECT_EQ(records[0].payload[0], std::byte{1});
  EXPECT_EQ(records[1].payload[0], std::byte{3});
}

TEST_P(MediaEngineTest, CountsRtcpOnNextPortOrMuxed) {
  startEngine(settingsWithPairs(2));
  const auto separate = engine_->openStream(spec("c.spool"));
  const auto muxed = engine_->openStream(spec("d.spool", true));
  ASSERT_TRUE(separate);
  ASSERT_TRUE(muxed);
  Sender sender;
  const auto receiver_report = bytesOf({0x80, 201, 0, 1, 0, 0, 0, 7});
  sender.send(static_cast<uint16_t>(separate->port + 1), receiver_report);
  sender.send(muxed->port, receiver_report);
  ASSERT_TRUE(waitFor([&] { return engine_->stats().rtcp_packets == 2; }));
  EXPECT_EQ(closeAndWait(separate->id).rtcp_packets, 1U);
  EXPECT_EQ(closeAndWait(muxed->id).rtcp_packets, 1U);
  EXPECT_TRUE(spooled("d.spool").empty());
}

TEST_P(MediaEngineTest, FailsWhenRangeIsExhausted) {
  startEngine(settingsWithPairs(2));
  const auto first = engine_->openStream(spec("e1.spool"));
  const auto second = engine_->openStream(spec("e2.spool"));
  ASSERT_TRUE(first);
  ASSERT_TRUE(second);
  EXPECT_NE(first->port, second->port);
  const auto third = engine_->openStream(spec("e3.spool"));
  ASSERT_FALSE(third);
  EXPECT_NE(third.error().message.find("exhausted"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "e3.spool"));
}

TEST_P(MediaEngineTest, ReusesPortOnlyAfterCooldown) {
  startEngine(settingsWithPairs(1));
  const auto first = engine_->openStream(spec("f1.spool"));
  ASSERT_TRUE(first) << first.error().message;
  closeAndWait(first->id);
  EXPECT_FALSE(engine_->openStream(spec("f2.spool")));
  clock_.advance(9s);
  EXPECT_FALSE(engine_->openStream(spec("f2.spool")));
  clock_.advance(1s);
  const auto again = engine_->openStream(spec("f2.spool"));
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->port, first->port);
}

TEST_P(MediaEngineTest, InvalidSpoolHeaderReturnsPortAtOnce) {
  startEngine(settingsWithPairs(1));
  StreamSpec broken = spec("g.spool");
  broken.label = std::string(kSpoolMaxStringBytes + 1, 'x');
  const auto failed = engine_->openStream(broken);
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().message.find("g.spool"), std::string::npos) << failed.error().message;
  EXPECT_TRUE(engine_->openStream(spec("g.spool")));
}

TEST_P(MediaEngineTest, OpensWithoutTouchingTheSpoolDirectory) {
  startEngine(settingsWithPairs(1));
  StreamSpec later = spec("j.spool");
  later.spool_path = dir_.path() / "session" / "j.spool";
  const auto handle = engine_->openStream(later);
  ASSERT_TRUE(handle) << handle.error().message;
  EXPECT_FALSE(std::filesystem::exists(later.spool_path.parent_path()));
  const StreamStats stats = closeAndWait(handle->id);
  EXPECT_EQ(stats.spool_write_errors, 0U);
  EXPECT_FALSE(std::filesystem::exists(later.spool_path.parent_path()));  // no RTP, no file
}

TEST_P(MediaEngineTest, SpoolThatCannotBeCreatedCountsErrorsAndSparesOtherStreams) {
  startEngine(settingsWithPairs(2));
  const auto obstacle = dir_.path() / "not-a-dir";
  { std::ofstream(obstacle) << "x"; }
  StreamSpec broken = spec("k.spool");
  broken.spool_path = obstacle / "k.spool";
  const auto failing = engine_->openStream(broken);
  const auto healthy = engine_->openStream(spec("l.spool"));
  ASSERT_TRUE(failing) << failing.error().message;
  ASSERT_TRUE(healthy);
  Sender to_failing;
  Sender to_healthy;
  for (uint16_t seq = 0; seq < 3; ++seq) {
    RtpFields fields;
    fields.seq = seq;
    to_failing.send(failing->port, makeRtp(fields, bytesOf({1})));
    to_healthy.send(healthy->port, makeRtp(fields, bytesOf({2})));
  }
  ASSERT_TRUE(waitFor([&] { return engine_->stats().packets == 6; }));
  const StreamStats failed_stats = closeAndWait(failing->id);
  EXPECT_EQ(failed_stats.packets, 3U);
  EXPECT_GE(failed_stats.spool_write_errors, 1U);
  EXPECT_EQ(failed_stats.spool_records_dropped, 3U);
  EXPECT_TRUE(waitFor([&] { return engine_->stats().spool_write_errors >= 1; }));
  const StreamStats healthy_stats = closeAndWait(healthy->id);
  EXPECT_EQ(healthy_stats.spool_write_errors, 0U);
  EXPECT_EQ(healthy_stats.spool_records_dropped, 0U);
  const auto records = spooled("l.spool");
  ASSERT_EQ(records.size(), 3U);
  EXPECT_EQ(records[2].payload[0], std::byte{2});
}

TEST_P(MediaEngineTest, RejectsInvalidSpec) {
  startEngine(settingsWithPairs(1));
  StreamSpec bad_address = spec("h.spool");
  bad_address.bind_address = "localhost";
  EXPECT_FALSE(engine_->openStream(bad_address));
  StreamSpec no_clock = spec("h.spool");
  no_clock.clock_rate = 0;
  EXPECT_FALSE(engine_->openStream(no_clock));
  EXPECT_TRUE(engine_->openStream(spec("h.spool")));  // the port was not leaked
}

TEST_P(MediaEngineTest, UnknownStreamCloseReportsZeroStats) {
  startEngine(settingsWithPairs(1));
  const StreamStats stats = closeAndWait(999);
  EXPECT_EQ(stats.packets, 0U);
  EXPECT_FALSE(stats.first_packet_epoch_us);
}

TEST_P(MediaEngineTest, DestructionFlushesOpenStreams) {
  startEngine(settingsWithPairs(1));
  const auto handle = engine_->openStream(spec("i.spool"));
  ASSERT_TRUE(handle);
  Sender sender;
  sender.send(handle->port, makeRtp(RtpFields{}, bytesOf({5, 6})));
  ASSERT_TRUE(waitFor([&] { return engine_->stats().packets == 1; }));
  engine_.reset();
  const auto records = spooled("i.spool");
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].payload.size(), 2U);
}

TEST_P(MediaEngineTest, SpreadsStreamsOverThreadsAndSumsTheirStats) {
  MediaSettings settings = settingsWithPairs(6);
  settings.threads = 3;
  startEngine(settings);
  EXPECT_EQ(engine_->info().threads, 3U);
  std::vector<StreamHandle> handles;
  for (int i = 0; i < 6; ++i) {
    const auto handle = engine_->openStream(spec("t" + std::to_string(i) + ".spool"));
    ASSERT_TRUE(handle) << handle.error().message;
    handles.push_back(*handle);
  }
  EXPECT_EQ(engine_->streamsPerThread(), (std::vector<uint64_t>{2, 2, 2}));

  Sender sender;
  for (std::size_t i = 0; i < handles.size(); ++i) {
    for (uint16_t seq = 0; seq <= i; ++seq) {
      RtpFields fields;
      fields.seq = seq;
      sender.send(handles[i].port, makeRtp(fields, bytesOf({static_cast<int>(i)})));
    }
  }
  ASSERT_TRUE(waitFor([&] { return engine_->stats().packets == 21; }));  // 1 + 2 + ... + 6
  EXPECT_EQ(engine_->stats().streams_active, 6U);

  std::set<std::thread::id> closing_threads;
  for (std::size_t i = 0; i < handles.size(); ++i) {
    std::promise<std::pair<StreamStats, std::thread::id>> closed;
    auto future = closed.get_future();
    engine_->closeStream(handles[i].id, [&closed](StreamStats stats) {
      closed.set_value({stats, std::this_thread::get_id()});
    });
    ASSERT_EQ(future.wait_for(5s), std::future_status::ready);
    const auto [stats, thread] = future.get();
    closing_threads.insert(thread);
    EXPECT_EQ(stats.packets, i + 1);
    const auto records = spooled("t" + std::to_string(i) + ".spool");
    ASSERT_EQ(records.size(), i + 1);
    EXPECT_EQ(records[0].payload[0], std::byte(i));
  }
  EXPECT_EQ(closing_threads.size(), 3U);  // each stream closes on its own media thread
  EXPECT_EQ(engine_->streamsPerThread(), (std::vector<uint64_t>{0, 0, 0}));
  EXPECT_EQ(engine_->stats().streams_active, 0U);
  EXPECT_EQ(engine_->stats().packets, 21U);
}

TEST_P(MediaEngineTest, OpensOnTheLeastLoadedThread) {
  MediaSettings settings = settingsWithPairs(5);
  settings.threads = 2;
  startEngine(settings);
  std::vector<StreamHandle> handles;
  for (int i = 0; i < 4; ++i) {
    const auto handle = engine_->openStream(spec("u" + std::to_string(i) + ".spool"));
    ASSERT_TRUE(handle);
    handles.push_back(*handle);
  }
  EXPECT_EQ(engine_->streamsPerThread(), (std::vector<uint64_t>{2, 2}));
  closeAndWait(handles[0].id);
  closeAndWait(handles[2].id);
  closeAndWait(handles[1].id);
  const auto after_close = engine_->streamsPerThread();
  ASSERT_EQ(after_close[0] + after_close[1], 1U);
  const std::size_t busy = after_close[0] == 1 ? 0 : 1;
  ASSERT_TRUE(engine_->openStream(spec("u4.spool")));
  EXPECT_EQ(engine_->streamsPerThread()[1 - busy], 1U);  // the idle thread took it
}

TEST_P(MediaEngineTest, EachStreamHoldsItsSocketsThenItsSpoolFile) {
  Sender sender;  // its socket is open before counting starts
  const int64_t before_engine = openDescriptorCount();
  ASSERT_GE(before_engine, 0);
  MediaSettings settings = settingsWithPairs(3);
  settings.threads = 2;
  startEngine(settings);
  const int64_t base = openDescriptorCount();
  EXPECT_EQ(base - before_engine, 2 * MediaEngine::kDescriptorsPerThread);

  const auto separate1 = engine_->openStream(spec("v1.spool"));
  const auto separate2 = engine_->openStream(spec("v2.spool"));
  const auto muxed = engine_->openStream(spec("v3.spool", true));
  ASSERT_TRUE(separate1 && separate2 && muxed);
  // Sockets only: a spool file is created with the stream's first write.
  EXPECT_EQ(openDescriptorCount() - base, 2 + 2 + 1);

  for (uint16_t port : {separate1->port, separate2->port, muxed->port}) {
    sender.send(port, makeRtp(RtpFields{}, bytesOf({7})));
  }
  ASSERT_TRUE(waitFor([&] { return engine_->stats().packets == 3; }));
  clock_.advance(50ms);  // the periodic flush creates the three spool files
  const int64_t all_open =
      2 * MediaEngine::descriptorsPerStream(false) + MediaEngine::descriptorsPerStream(true);
  EXPECT_TRUE(waitFor([&] { return openDescriptorCount() - base == all_open; }))
      << openDescriptorCount() - base;
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "v3.spool"));

  for (uint64_t id : {separate1->id, separate2->id, muxed->id}) {
    closeAndWait(id);
  }
  EXPECT_EQ(openDescriptorCount(), base);
}

TEST_P(MediaEngineTest, ReportsTheSocketBufferTheKernelGrants) {
  MediaSettings settings = settingsWithPairs(1);
  // Below the default net.core.rmem_max, so granted without privileges: Linux doubles it.
  settings.socket_buffer_bytes = 96 * 1024;
  startEngine(settings);
  EXPECT_EQ(engine_->info().socket_receive_buffer_bytes, 2U * 96 * 1024);
}

TEST_P(MediaEngineTest, RaisesTheOpenFileLimitAtStart) {
  rlimit original{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &original), 0);
  if (original.rlim_max == RLIM_INFINITY || original.rlim_max < 256) {
    GTEST_SKIP() << "hard open-file limit unsuitable for the test";
  }
  rlimit lowered = original;
  lowered.rlim_cur = 200;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &lowered), 0);
  startEngine(settingsWithPairs(1));
  rlimit now{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &now), 0);
  EXPECT_EQ(now.rlim_cur, original.rlim_max);
  EXPECT_EQ(engine_->info().open_file_limit, original.rlim_max);
  ::setrlimit(RLIMIT_NOFILE, &original);
}

TEST_P(MediaEngineTest, RefusesStreamsBeyondTheDescriptorBudget) {
  rlimit original{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &original), 0);
  const int64_t in_use = openDescriptorCount();
  ASSERT_GE(in_use, 0);
  // Restores the limit however the test ends.
  struct Restore {
    rlimit limit;
    ~Restore() { ::setrlimit(RLIMIT_NOFILE, &limit); }
  } restore{original};
  rlimit lowered = original;
  lowered.rlim_cur = static_cast<rlim_t>(in_use) + 30;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &lowered), 0);
  MediaSettings settings = settingsWithPairs(8);
  settings.threads = 1;
  settings.raise_file_limit = false;
  settings.descriptor_reserve = 10;
  startEngine(settings);
  const uint64_t budget = engine_->info().stream_descriptor_budget;
  ASSERT_GT(budget, 0U);
  const uint64_t fitting = budget / MediaEngine::descriptorsPerStream(false);
  ASSERT_GE(fitting, 1U);
  ASSERT_LT(fitting, 8U);
  std::vector<StreamHandle> handles;
  for (uint64_t i = 0; i < fitting; ++i) {
    const auto handle = engine_->openStream(spec("w" + std::to_string(i) + ".spool"));
    ASSERT_TRUE(handle) << handle.error().message;
    handles.push_back(*handle);
  }
  const auto refused = engine_->openStream(spec("refused.spool"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, 503);
  EXPECT_NE(refused.error().message.find("descriptors exhausted"), std::string::npos);
  // Every stream that got in can still create its spool file.
  Sender sender;
  for (const StreamHandle& handle : handles) {
    sender.send(handle.port, makeRtp(RtpFields{}, bytesOf({9})));
  }
  ASSERT_TRUE(waitFor([&] { return engine_->stats().packets == fitting; }));
  clock_.advance(50ms);  // the periodic flush creates the spool files
  EXPECT_TRUE(waitFor([&] {
    for (uint64_t i = 0; i < fitting; ++i) {
      if (!std::filesystem::exists(dir_.path() / ("w" + std::to_string(i) + ".spool"))) {
        return false;
      }
    }
    return true;
  }));
  EXPECT_EQ(engine_->stats().spool_write_errors, 0U);
  closeAndWait(handles.front().id);  // its descriptors are given back with the close
  EXPECT_TRUE(engine_->openStream(spec("again.spool")));
}

TEST_P(MediaEngineTest, RunsIoUringWhenTheKernelAllowsItElseRecvmmsg) {
  startEngine(settingsWithPairs(1));
  ReceiveBackend expected = ReceiveBackend::Recvmmsg;
  if (GetParam() == ReceiveBackend::IoUring) {
    UniqueFd wakeup(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (createUringReceiveLoop(wakeup.get(), clock_)) {
      expected = ReceiveBackend::IoUring;
    }
  }
  EXPECT_EQ(engine_->info().receive_backend, expected);
}

INSTANTIATE_TEST_SUITE_P(Backends, MediaEngineTest,
                         ::testing::Values(ReceiveBackend::Recvmmsg, ReceiveBackend::IoUring),
                         [](const auto& param_info) {
                           return std::string(toString(param_info.param));
                         });

}  // namespace
}  // namespace siprecd::media
