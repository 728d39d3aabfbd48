#include "media/receive_loop.hpp"

#include <map>
#include <vector>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/unique_fd.hpp"
#include "media/udp_socket.hpp"
#include "media_test_support.hpp"

namespace siprecd::media {
namespace {

using testing::ThreadSafeManualClock;

/// Counts what a loop reports, per key.
class RecordingSink final : public DatagramSink {
 public:
  void onDatagram(uint64_t key, const Datagram& datagram, int64_t arrival_epoch_us) override {
    ++datagrams[key];
    last_bytes = datagram.bytes.size();
    last_source = UdpEndpoint::fromSockaddr(*datagram.source, datagram.source_length);
    last_arrival_epoch_us = arrival_epoch_us;
    truncated += datagram.truncated ? 1 : 0;
  }
  void onWakeup() override { ++wakeups; }
  int socketFd(uint64_t key) override {
    const auto found = fds.find(key);
    return found == fds.end() ? -1 : found->second;
  }
  uint64_t total() const {
    uint64_t sum = 0;
    for (const auto& [key, count] : datagrams) {
      sum += count;
    }
    return sum;
  }

  std::map<uint64_t, int> fds;
  std::map<uint64_t, uint64_t> datagrams;
  std::size_t last_bytes = 0;
  UdpEndpoint last_source;
  int64_t last_arrival_epoch_us = 0;
  int truncated = 0;
  int wakeups = 0;
};

UdpSocket loopbackSocket(std::size_t buffer_bytes = 256 * 1024) {
  auto socket = UdpSocket::bind(*BindAddress::parse("127.0.0.1"), 0, buffer_bytes);
  EXPECT_TRUE(socket);
  return std::move(*socket);
}

/// Sends `count` datagrams of `bytes` bytes from `from` to `to`.
void sendTo(const UdpSocket& from, const UdpSocket& to, int count, std::size_t bytes = 1) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(to.localPort());
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const std::vector<char> payload(bytes, 'x');
  for (int i = 0; i < count; ++i) {
    ASSERT_EQ(::sendto(from.fd(), payload.data(), payload.size(), 0,
                       reinterpret_cast<const sockaddr*>(&address), sizeof(address)),
              static_cast<ssize_t>(bytes));
  }
}

class ReceiveLoopTest : public ::testing::TestWithParam<ReceiveBackend> {
 protected:
  void SetUp() override {
    auto loop = GetParam() == ReceiveBackend::IoUring
                    ? createUringReceiveLoop(wakeup_.get(), clock_)
                    : createRecvmmsgReceiveLoop(wakeup_.get(), clock_);
    if (!loop) {
      GTEST_SKIP() << loop.error().message;
    }
    loop_ = std::move(*loop);
  }

  /// Polls until `sink` holds `total` datagrams (each datagram is already queued, so this
  /// ends after a few turns; the bound only guards against a broken loop).
  void pollUntil(RecordingSink& sink, uint64_t total) {
    for (int turn = 0; turn < 100 && sink.total() < total; ++turn) {
      loop_->poll(std::chrono::milliseconds(20), sink);
    }
  }

  UniqueFd wakeup_{::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)};
  ThreadSafeManualClock clock_;
  std::unique_ptr<ReceiveLoop> loop_;
};

TEST_P(ReceiveLoopTest, ReportsDatagramsUnderTheirSocketsKeyWithSourceAndArrival) {
  EXPECT_EQ(loop_->backend(), GetParam());
  UdpSocket first = loopbackSocket();
  UdpSocket second = loopbackSocket();
  UdpSocket sender = loopbackSocket();
  RecordingSink sink;
  sink.fds = {{10, first.fd()}, {13, second.fd()}};
  ASSERT_TRUE(loop_->watch(first.fd(), 10));
  ASSERT_TRUE(loop_->watch(second.fd(), 13));
  sendTo(sender, first, 3, 172);
  sendTo(sender, second, 2, 172);
  pollUntil(sink, 5);
  EXPECT_EQ(sink.datagrams[10], 3U);
  EXPECT_EQ(sink.datagrams[13], 2U);
  EXPECT_EQ(sink.last_bytes, 172U);
  EXPECT_EQ(sink.last_source.port(), sender.localPort());
  EXPECT_EQ(sink.last_arrival_epoch_us, 1'700'000'000'000'000);
  EXPECT_EQ(sink.truncated, 0);
}

TEST_P(ReceiveLoopTest, ReportsTheWakeupOnceAndResetsIt) {
  RecordingSink sink;
  const uint64_t one = 1;
  ASSERT_EQ(::write(wakeup_.get(), &one, sizeof(one)), 8);
  for (int turn = 0; turn < 100 && sink.wakeups == 0; ++turn) {
    loop_->poll(std::chrono::milliseconds(20), sink);
  }
  EXPECT_EQ(sink.wakeups, 1);
  loop_->poll(std::chrono::milliseconds(0), sink);
  EXPECT_EQ(sink.wakeups, 1);
  ASSERT_EQ(::write(wakeup_.get(), &one, sizeof(one)), 8);  // and it fires again
  for (int turn = 0; turn < 100 && sink.wakeups == 1; ++turn) {
    loop_->poll(std::chrono::milliseconds(20), sink);
  }
  EXPECT_EQ(sink.wakeups, 2);
}

TEST_P(ReceiveLoopTest, UnwatchedSocketReportsNothingMore) {
  UdpSocket socket = loopbackSocket();
  UdpSocket sender = loopbackSocket();
  RecordingSink sink;
  sink.fds = {{4, socket.fd()}};
  ASSERT_TRUE(loop_->watch(socket.fd(), 4));
  sendTo(sender, socket, 1);
  pollUntil(sink, 1);
  ASSERT_EQ(sink.total(), 1U);
  loop_->unwatch(socket.fd(), 4);
  sink.fds.clear();
  sendTo(sender, socket, 2);
  for (int turn = 0; turn < 3; ++turn) {
    loop_->poll(std::chrono::milliseconds(5), sink);
  }
  EXPECT_EQ(sink.total(), 1U);
}

TEST_P(ReceiveLoopTest, DeliversAQueueLongerThanOneBatchOrTheFairnessCap) {
  // 300 datagrams queued before the loop looks: more than the recvmmsg loop drains from one
  // socket per turn (8 batches of 32), so the rest must come from its backlog next turn
  // (edge-triggered epoll will not signal them again).
  UdpSocket socket = loopbackSocket(4 << 20);
  if (socket.receiveBufferBytes() < (2U << 20)) {
    GTEST_SKIP() << "net.core.rmem_max too low to queue the datagrams";
  }
  UdpSocket sender = loopbackSocket();
  RecordingSink sink;
  sink.fds = {{20, socket.fd()}};
  ASSERT_TRUE(loop_->watch(socket.fd(), 20));
  sendTo(sender, socket, 300, 20);
  pollUntil(sink, 300);
  EXPECT_EQ(sink.datagrams[20], 300U);
}

TEST(RecvmmsgReceiveLoop, DrainsAtMostTheFairnessCapPerSocketPerTurn) {
  UniqueFd wakeup(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  ThreadSafeManualClock clock;
  auto loop = createRecvmmsgReceiveLoop(wakeup.get(), clock);
  ASSERT_TRUE(loop);
  UdpSocket socket = loopbackSocket(4 << 20);
  if (socket.receiveBufferBytes() < (2U << 20)) {
    GTEST_SKIP() << "net.core.rmem_max too low to queue the datagrams";
  }
  UdpSocket sender = loopbackSocket();
  RecordingSink sink;
  sink.fds = {{2, socket.fd()}};
  ASSERT_TRUE((*loop)->watch(socket.fd(), 2));
  sendTo(sender, socket, 300, 20);
  (*loop)->poll(std::chrono::milliseconds(1000), sink);
  EXPECT_EQ(sink.total(), 256U);
  (*loop)->poll(std::chrono::milliseconds(1000), sink);  // no new edge: the backlog
  EXPECT_EQ(sink.total(), 300U);
}

INSTANTIATE_TEST_SUITE_P(Backends, ReceiveLoopTest,
                         ::testing::Values(ReceiveBackend::Recvmmsg, ReceiveBackend::IoUring),
                         [](const auto& param_info) {
                           return std::string(toString(param_info.param));
                         });

}  // namespace
}  // namespace siprecd::media
