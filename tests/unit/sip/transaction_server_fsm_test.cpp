#include "sip/transaction_server_fsm.hpp"

#include <vector>

#include <gtest/gtest.h>

#include "base/manual_event_loop.hpp"

namespace siprecd::sip {
namespace {

using std::chrono::milliseconds;
using Fsm = ServerTransactionFsm;

class ServerFsmTest : public ::testing::Test, protected Fsm::Callbacks {
 protected:
  void fsmSendResponse(const Message& response) override {
    sends.push_back({response.statusCode(), elapsed()});
  }
  void fsmAckTimeout() override { ack_timeouts.push_back(elapsed()); }
  void fsmTerminated() override { terminated_at.push_back(elapsed()); }

  milliseconds elapsed() const {
    return std::chrono::duration_cast<milliseconds>(loop.clock().steadyNow() - start);
  }
  Fsm make(Fsm::Kind kind, bool reliable) {
    return Fsm(kind, reliable, TransactionTimers{}, loop, *this);
  }
  std::vector<milliseconds> sendTimes(int status) const {
    std::vector<milliseconds> times;
    for (const auto& send : sends) {
      if (send.status == status) {
        times.push_back(send.at);
      }
    }
    return times;
  }

  struct Send {
    int status;
    milliseconds at;
  };
  ManualEventLoop loop;
  std::chrono::steady_clock::time_point start = loop.clock().steadyNow();
  std::vector<Send> sends;
  std::vector<milliseconds> ack_timeouts;
  std::vector<milliseconds> terminated_at;
};

Message response(int status) {
  return Message::response(status, "X");
}

TEST_F(ServerFsmTest, InviteStartsInProceedingAndResendsLastProvisionalOnRetransmission) {
  auto fsm = make(Fsm::Kind::Invite, false);
  EXPECT_EQ(fsm.state(), Fsm::State::Proceeding);
  fsm.receiveTuResponse(response(100));
  fsm.receiveTuResponse(response(180));
  EXPECT_TRUE(fsm.receiveRequestRetransmission());
  ASSERT_EQ(sends.size(), 3U);
  EXPECT_EQ(sends[2].status, 180);
  EXPECT_FALSE(fsm.hasFinalResponse());
}

TEST_F(ServerFsmTest, Invite2xxOnUdpIsRetransmittedWithTimerGCappedAtT2UntilTimerL) {
  auto fsm = make(Fsm::Kind::Invite, false);
  fsm.receiveTuResponse(response(200));
  EXPECT_EQ(fsm.state(), Fsm::State::Accepted);
  loop.advance(milliseconds(32000));
  const std::vector<milliseconds> expected = {
      milliseconds(0),     milliseconds(500),   milliseconds(1500),  milliseconds(3500),
      milliseconds(7500),  milliseconds(11500), milliseconds(15500), milliseconds(19500),
      milliseconds(23500), milliseconds(27500), milliseconds(31500)};
  EXPECT_EQ(sendTimes(200), expected);
  // RFC 6026 Timer L = 64*T1: no ACK → the TU hears of it, then Terminated.
  EXPECT_EQ(ack_timeouts, std::vector<milliseconds>{milliseconds(32000)});
  EXPECT_EQ(terminated_at, std::vector<milliseconds>{milliseconds(32000)});
  EXPECT_EQ(fsm.state(), Fsm::State::Terminated);
  EXPECT_EQ(loop.pendingTimers(), 0U);
}

TEST_F(ServerFsmTest, AckStops2xxRetransmissionAndIsPassedUpOnlyOnce) {
  auto fsm = make(Fsm::Kind::Invite, false);
  fsm.receiveTuResponse(response(200));
  loop.advance(milliseconds(1600));  // sent at 0, 500, 1500
  EXPECT_EQ(fsm.receiveAck(), Fsm::AckDisposition::PassUp);
  EXPECT_EQ(fsm.receiveAck(), Fsm::AckDisposition::Absorbed);
  loop.advance(milliseconds(10000));
  EXPECT_EQ(sendTimes(200).size(), 3U);
  EXPECT_EQ(fsm.state(), Fsm::State::Accepted);  // until Timer L, to absorb ACK copies
  loop.advance(milliseconds(32000));
  EXPECT_TRUE(ack_timeouts.empty());
  EXPECT_EQ(terminated_at, std::vector<milliseconds>{milliseconds(32000)});
}

TEST_F(ServerFsmTest, Invite2xxOnReliableTransportIsNotRetransmitted) {
  auto fsm = make(Fsm::Kind::Invite, true);
  fsm.receiveTuResponse(response(200));
  loop.advance(milliseconds(31999));
  EXPECT_EQ(sendTimes(200).size(), 1U);
  EXPECT_TRUE(ack_timeouts.empty());
  loop.advance(milliseconds(1));
  EXPECT_EQ(ack_timeouts.size(), 1U);
}

TEST_F(ServerFsmTest, RetransmittedInviteInAcceptedResendsThe2xx) {
  auto fsm = make(Fsm::Kind::Invite, true);
  fsm.receiveTuResponse(response(200));
  EXPECT_TRUE(fsm.receiveRequestRetransmission());
  EXPECT_EQ(sendTimes(200).size(), 2U);
}

TEST_F(ServerFsmTest, InviteErrorResponseRetransmitsUntilAckThenTimerIEnds) {
  auto fsm = make(Fsm::Kind::Invite, false);
  fsm.receiveTuResponse(response(486));
  EXPECT_EQ(fsm.state(), Fsm::State::Completed);
  loop.advance(milliseconds(2000));  // G at 500, 1500
  EXPECT_EQ(sendTimes(486),
            (std::vector<milliseconds>{milliseconds(0), milliseconds(500), milliseconds(1500)}));
  EXPECT_EQ(fsm.receiveAck(), Fsm::AckDisposition::Absorbed);
  EXPECT_EQ(fsm.state(), Fsm::State::Confirmed);
  EXPECT_EQ(fsm.receiveAck(), Fsm::AckDisposition::Absorbed);
  loop.advance(milliseconds(4999));
  EXPECT_EQ(sendTimes(486).size(), 3U);
  EXPECT_TRUE(terminated_at.empty());
  loop.advance(milliseconds(1));  // Timer I = T4
  EXPECT_EQ(terminated_at, std::vector<milliseconds>{milliseconds(7000)});
  EXPECT_TRUE(ack_timeouts.empty());
}

TEST_F(ServerFsmTest, InviteErrorResponseWithoutAckEndsAtTimerH) {
  auto fsm = make(Fsm::Kind::Invite, false);
  fsm.receiveTuResponse(response(603));
  loop.advance(milliseconds(40000));
  EXPECT_EQ(terminated_at, std::vector<milliseconds>{milliseconds(32000)});
  const auto times = sendTimes(603);
  EXPECT_EQ(times.back(), milliseconds(31500));
  EXPECT_TRUE(ack_timeouts.empty());
}

TEST_F(ServerFsmTest, RetransmittedInviteInCompletedResendsTheFinalResponse) {
  auto fsm = make(Fsm::Kind::Invite, true);
  fsm.receiveTuResponse(response(404));
  EXPECT_TRUE(fsm.receiveRequestRetransmission());
  EXPECT_EQ(sendTimes(404).size(), 2U);
  loop.advance(milliseconds(5000));
  EXPECT_EQ(sendTimes(404).size(), 2U);  // no Timer G on reliable transports
}

TEST_F(ServerFsmTest, AckOnReliableTransportTerminatesAtOnce) {
  auto fsm = make(Fsm::Kind::Invite, true);
  fsm.receiveTuResponse(response(487));
  fsm.receiveAck();
  loop.runReady();  // Timer I = 0
  EXPECT_EQ(fsm.state(), Fsm::State::Terminated);
  EXPECT_EQ(terminated_at.size(), 1U);
}

TEST_F(ServerFsmTest, ResponsesAfterFinalAreIgnored) {
  auto fsm = make(Fsm::Kind::Invite, true);
  fsm.receiveTuResponse(response(200));
  fsm.receiveTuResponse(response(500));
  fsm.receiveTuResponse(response(180));
  ASSERT_EQ(sends.size(), 1U);
  EXPECT_EQ(fsm.lastResponse()->statusCode(), 200);
}

TEST_F(ServerFsmTest, NonInviteTryingAbsorbsRetransmissionsSilently) {
  auto fsm = make(Fsm::Kind::NonInvite, false);
  EXPECT_EQ(fsm.state(), Fsm::State::Trying);
  EXPECT_FALSE(fsm.receiveRequestRetransmission());
  EXPECT_TRUE(sends.empty());
  fsm.receiveTuResponse(response(183));
  EXPECT_EQ(fsm.state(), Fsm::State::Proceeding);
  EXPECT_TRUE(fsm.receiveRequestRetransmission());
  EXPECT_EQ(sendTimes(183).size(), 2U);
}

TEST_F(ServerFsmTest, NonInviteCompletedAnswersRetransmissionsUntilTimerJ) {
  auto fsm = make(Fsm::Kind::NonInvite, false);
  fsm.receiveTuResponse(response(200));
  EXPECT_EQ(fsm.state(), Fsm::State::Completed);
  loop.advance(milliseconds(10000));
  EXPECT_EQ(sendTimes(200).size(), 1U);  // non-INVITE final responses are not retransmitted
  EXPECT_TRUE(fsm.receiveRequestRetransmission());
  EXPECT_EQ(sendTimes(200).size(), 2U);
  loop.advance(milliseconds(22000));
  EXPECT_EQ(terminated_at, std::vector<milliseconds>{milliseconds(32000)});
}

TEST_F(ServerFsmTest, NonInviteOnReliableTransportEndsRightAfterFinal) {
  auto fsm = make(Fsm::Kind::NonInvite, true);
  fsm.receiveTuResponse(response(200));
  loop.runReady();  // Timer J = 0
  EXPECT_EQ(fsm.state(), Fsm::State::Terminated);
}

TEST_F(ServerFsmTest, TransportErrorTerminates) {
  auto fsm = make(Fsm::Kind::Invite, false);
  fsm.receiveTuResponse(response(200));
  fsm.receiveTransportError();
  EXPECT_EQ(fsm.state(), Fsm::State::Terminated);
  EXPECT_EQ(loop.pendingTimers(), 0U);
  EXPECT_EQ(terminated_at.size(), 1U);
}

TEST_F(ServerFsmTest, AbandonStopsTimersWithoutCallbacks) {
  auto fsm = make(Fsm::Kind::Invite, false);
  fsm.receiveTuResponse(response(200));
  fsm.abandon();
  loop.advance(milliseconds(40000));
  EXPECT_EQ(sends.size(), 1U);
  EXPECT_TRUE(terminated_at.empty());
  EXPECT_TRUE(ack_timeouts.empty());
}

TEST_F(ServerFsmTest, CustomTimerValuesAreHonoured) {
  Fsm fsm(Fsm::Kind::Invite, false,
          TransactionTimers{milliseconds(100), milliseconds(400), milliseconds(1000)}, loop, *this);
  fsm.receiveTuResponse(response(200));
  loop.advance(milliseconds(6400));
  const std::vector<milliseconds> expected = {
      milliseconds(0),    milliseconds(100),  milliseconds(300),  milliseconds(700),
      milliseconds(1100), milliseconds(1500), milliseconds(1900), milliseconds(2300),
      milliseconds(2700), milliseconds(3100), milliseconds(3500), milliseconds(3900),
      milliseconds(4300), milliseconds(4700), milliseconds(5100), milliseconds(5500),
      milliseconds(5900), milliseconds(6300)};
  EXPECT_EQ(sendTimes(200), expected);
  EXPECT_EQ(ack_timeouts, std::vector<milliseconds>{milliseconds(6400)});
}

}  // namespace
}  // namespace siprecd::sip
