#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <netinet/in.h>

namespace siprecd::bench {

/// Sends 20 ms G.711 RTP (12-byte header + 160 bytes PCMU) to many streams from one thread,
/// paced by absolute deadlines (clock_nanosleep TIMER_ABSTIME): each 20 ms period is cut
/// into slots, every stream is given one slot and gets one packet per period at its slot's
/// deadline, so the load spreads over the period as the streams of independent calls would.
/// Packets of a slot leave in sendmmsg batches from one of a few sockets (a stream always
/// uses the same one: receivers latch the source).
class RtpSender {
 public:
  /// `sockets` UDP sockets bound to `local_ip`:0; `slots` per 20 ms period.
  RtpSender(const std::string& local_ip, int sockets, int slots);
  ~RtpSender();
  RtpSender(const RtpSender&) = delete;
  RtpSender& operator=(const RtpSender&) = delete;

  /// Local port of socket `index` (what an SDP offer may announce).
  uint16_t localPort(std::size_t index) const { return ports_[index % ports_.size()]; }
  std::size_t socketCount() const { return fds_.size(); }
  /// Queues streams to start at the next period. Thread-safe.
  void add(const std::vector<sockaddr_in>& targets);
  /// Starts the sending thread; with `realtime` it asks for SCHED_FIFO (root or
  /// CAP_SYS_NICE), so that other processes on its CPU cannot make it miss its deadlines.
  void start(bool realtime = false);
  /// Stops after the slot being sent; joins.
  void stop();

  uint64_t sent() const { return sent_.load(); }
  uint64_t streams() const { return streams_count_.load(); }
  /// Sends that started this late after their deadline (the generator's own health).
  int64_t maxLateUs() const { return max_late_us_.load(); }
  /// Slots whose sending started more than a whole period (20 ms) late.
  uint64_t lateSlots() const { return late_slots_.load(); }
  /// Send calls that failed (the datagram was not handed to the kernel).
  uint64_t sendErrors() const { return send_errors_.load(); }

 private:
  struct Stream {
    sockaddr_in to;
    uint32_t ssrc;
    uint16_t seq;
    uint32_t timestamp;
    bool first = true;
  };

  void run();
  void activatePending();
  void sendSlot(std::size_t slot);

  std::vector<int> fds_;
  std::vector<uint16_t> ports_;
  const int slots_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};

  std::mutex pending_mutex_;
  std::vector<sockaddr_in> pending_;  // guarded by pending_mutex_

  // Sender thread only.
  std::vector<Stream> streams_;
  /// slot -> socket -> stream indices
  std::vector<std::vector<std::vector<std::size_t>>> schedule_;
  std::size_t next_assignment_ = 0;

  std::atomic<uint64_t> sent_{0};
  std::atomic<uint64_t> streams_count_{0};
  std::atomic<int64_t> max_late_us_{0};
  std::atomic<uint64_t> late_slots_{0};
  std::atomic<uint64_t> send_errors_{0};
};

/// Several RtpSenders, one thread each, sharing the streams round-robin: for machines where
/// one generator thread cannot keep up. Same interface, counters summed (lateness: the worst).
class RtpSenderPool {
 public:
  RtpSenderPool(const std::string& local_ip, int threads, int sockets_per_thread, int slots);

  uint16_t localPort(std::size_t index) const { return senders_.front()->localPort(index); }
  /// Thread-safe.
  void add(const std::vector<sockaddr_in>& targets);
  void start(bool realtime = false);
  void stop();

  uint64_t sent() const;
  uint64_t streams() const;
  int64_t maxLateUs() const;
  uint64_t lateSlots() const;
  uint64_t sendErrors() const;

 private:
  std::vector<std::unique_ptr<RtpSender>> senders_;
  std::mutex mutex_;
  std::size_t next_ = 0;  // guarded by mutex_
};

}  // namespace siprecd::bench
