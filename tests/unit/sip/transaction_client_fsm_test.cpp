#include "sip/transaction_client_fsm.hpp"

#include <optional>
#include <vector>

#include <gtest/gtest.h>

#include "base/manual_event_loop.hpp"

namespace siprecd::sip {
namespace {

using std::chrono::milliseconds;
using Fsm = ClientTransactionFsm;

class ClientFsmTest : public ::testing::Test, protected Fsm::Callbacks {
 protected:
  void fsmSendRequest() override { sends.push_back(elapsed()); }
  void fsmFinal(Result<Message> outcome) override {
    finals.push_back(elapsed());
    final_outcome = std::move(outcome);
  }
  void fsmTerminated() override { terminated_at.push_back(elapsed()); }

  milliseconds elapsed() const {
    return std::chrono::duration_cast<milliseconds>(loop.clock().steadyNow() - start);
  }

  ManualEventLoop loop;
  std::chrono::steady_clock::time_point start = loop.clock().steadyNow();
  std::vector<milliseconds> sends;
  std::vector<milliseconds> finals;
  std::optional<Result<Message>> final_outcome;
  std::vector<milliseconds> terminated_at;
};

TEST_F(ClientFsmTest, TimerERetransmitsDoublingToT2AndTimerFTimesOutWith408) {
  Fsm fsm(false, TransactionTimers{}, loop, *this);
  fsm.start();
  loop.advance(milliseconds(40000));
  const std::vector<milliseconds> expected = {
      milliseconds(0),     milliseconds(500),   milliseconds(1500),  milliseconds(3500),
      milliseconds(7500),  milliseconds(11500), milliseconds(15500), milliseconds(19500),
      milliseconds(23500), milliseconds(27500), milliseconds(31500)};
  EXPECT_EQ(sends, expected);
  ASSERT_TRUE(final_outcome.has_value());
  ASSERT_FALSE(final_outcome->has_value());
  EXPECT_EQ(final_outcome->error().code, 408);
  EXPECT_EQ(finals, std::vector<milliseconds>{milliseconds(32000)});
  EXPECT_EQ(terminated_at, std::vector<milliseconds>{milliseconds(32000)});
  EXPECT_EQ(fsm.state(), Fsm::State::Terminated);
}

TEST_F(ClientFsmTest, ProvisionalResponseKeepsRetransmittingAtT2) {
  Fsm fsm(false, TransactionTimers{}, loop, *this);
  fsm.start();
  loop.advance(milliseconds(600));  // sent at 0, 500
  fsm.receiveResponse(Message::response(100, "Trying"));
  EXPECT_EQ(fsm.state(), Fsm::State::Proceeding);
  EXPECT_TRUE(finals.empty());
  loop.advance(milliseconds(9000));  // at 1500 (E was already armed), then every T2
  EXPECT_EQ(sends,
            (std::vector<milliseconds>{milliseconds(0), milliseconds(500), milliseconds(1500),
                                       milliseconds(5500), milliseconds(9500)}));
}

TEST_F(ClientFsmTest, FinalResponseIsReportedOnceAndTimerKEndsTheTransaction) {
  Fsm fsm(false, TransactionTimers{}, loop, *this);
  fsm.start();
  fsm.receiveResponse(Message::response(200, "OK"));
  fsm.receiveResponse(Message::response(200, "OK"));  // retransmission: absorbed
  ASSERT_EQ(finals.size(), 1U);
  ASSERT_TRUE(final_outcome->has_value());
  EXPECT_EQ((*final_outcome)->statusCode(), 200);
  EXPECT_EQ(fsm.state(), Fsm::State::Completed);
  loop.advance(milliseconds(4999));
  EXPECT_EQ(sends.size(), 1U);  // Timer E stopped
  EXPECT_TRUE(terminated_at.empty());
  loop.advance(milliseconds(1));  // Timer K = T4
  EXPECT_EQ(terminated_at, std::vector<milliseconds>{milliseconds(5000)});
}

TEST_F(ClientFsmTest, ReliableTransportNeverRetransmitsAndTimerKIsZero) {
  Fsm fsm(true, TransactionTimers{}, loop, *this);
  fsm.start();
  loop.advance(milliseconds(10000));
  EXPECT_EQ(sends.size(), 1U);
  fsm.receiveResponse(Message::response(481, "Call/Transaction Does Not Exist"));
  loop.runReady();
  EXPECT_EQ(fsm.state(), Fsm::State::Terminated);
  EXPECT_EQ((*final_outcome)->statusCode(), 481);
}

TEST_F(ClientFsmTest, ReliableTransportStillTimesOutWithTimerF) {
  Fsm fsm(true, TransactionTimers{}, loop, *this);
  fsm.start();
  loop.advance(milliseconds(32000));
  ASSERT_TRUE(final_outcome.has_value());
  EXPECT_EQ(final_outcome->error().code, 408);
}

TEST_F(ClientFsmTest, TransportErrorReports503AndTerminates) {
  Fsm fsm(false, TransactionTimers{}, loop, *this);
  fsm.start();
  fsm.receiveTransportError("connection refused");
  ASSERT_TRUE(final_outcome.has_value());
  EXPECT_EQ(final_outcome->error().code, 503);
  EXPECT_NE(final_outcome->error().message.find("connection refused"), std::string::npos);
  EXPECT_EQ(fsm.state(), Fsm::State::Terminated);
  EXPECT_EQ(loop.pendingTimers(), 0U);
  fsm.receiveResponse(Message::response(200, "OK"));  // too late: ignored
  EXPECT_EQ(finals.size(), 1U);
}

}  // namespace
}  // namespace siprecd::sip
