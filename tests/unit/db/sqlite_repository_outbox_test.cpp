#include <atomic>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include "base/metrics.hpp"
#include "db/sqlite_repository_fixture.hpp"
#include "db/sqlite_rows.hpp"

namespace siprecd::db {
namespace {

std::vector<std::string> eventIds(const std::vector<OutboxEvent>& events) {
  std::vector<std::string> out;
  for (const auto& event : events) {
    out.push_back(event.event_id);
  }
  return out;
}

Counter& writeErrors() {
  return metrics().counter("siprecd_db_write_errors_total",
                           "State store writes that failed (logged)");
}

OutboxEvent delivered(OutboxEvent event, int64_t at_ms) {
  event.status = "delivered";
  event.attempts += 1;
  event.delivered_ms = at_ms;
  return event;
}

TEST_F(SqliteRepositoryTest, InsertedEventsGetIncreasingSequencesAndRoundTrip) {
  auto repository = open();
  OutboxEvent first = sampleEvent("e1", "r1");
  first.sequence = 999;  // ignored on input
  first.name = "RECORDINGREADY";
  first.body = R"({"method":"RECORDINGREADY","interrupted":true})";
  first.created_ms = 1234;
  first.next_attempt_ms = 1500;
  repository->insertEvent(first);
  repository->insertEvent(sampleEvent("e2", "r1"));
  repository->insertEvent(sampleEvent("e3", "r2"));
  repository->flush();
  const auto events = repository->eventsForRecording("r1");
  ASSERT_TRUE(events) << events.error().message;
  ASSERT_EQ(events->size(), 2u);
  OutboxEvent stored = (*events)[0];
  EXPECT_GT(stored.sequence, 0);
  EXPECT_GT((*events)[1].sequence, stored.sequence);
  first.sequence = stored.sequence;
  EXPECT_EQ(stored, first);
  EXPECT_EQ(stored.status, "pending");
  EXPECT_EQ(stored.attempts, 0);
  EXPECT_FALSE(stored.delivered_ms.has_value());
  EXPECT_GT(repository->eventsForRecording("r2").value()[0].sequence, (*events)[1].sequence);
  EXPECT_TRUE(repository->eventsForRecording("none").value().empty());
}

TEST_F(SqliteRepositoryTest, UpdateEventDeliveryChangesOnlyDeliveryFields) {
  auto repository = open();
  const OutboxEvent event = sampleEvent("e1", "r1");
  repository->insertEvent(event);
  OutboxEvent retry = event;
  retry.status = "pending";
  retry.attempts = 3;
  retry.next_attempt_ms = 8000;
  retry.last_error = "HTTP 503 from https://app.example/recordingStarted";
  retry.body = "must not be written";
  repository->updateEventDelivery(retry);
  repository->flush();
  OutboxEvent stored = repository->eventsForRecording("r1").value().at(0);
  EXPECT_EQ(stored.attempts, 3);
  EXPECT_EQ(stored.next_attempt_ms, 8000);
  EXPECT_EQ(stored.last_error, retry.last_error);
  EXPECT_EQ(stored.body, event.body);
  repository->updateEventDelivery(delivered(stored, 9000));
  repository->flush();
  stored = repository->eventsForRecording("r1").value().at(0);
  EXPECT_EQ(stored.status, "delivered");
  EXPECT_EQ(stored.delivered_ms, 9000);
  EXPECT_EQ(stored.attempts, 4);
}

TEST_F(SqliteRepositoryTest, UpdateOfAnUnknownEventIsAWriteError) {
  auto repository = open();
  const uint64_t before = writeErrors().value();
  repository->updateEventDelivery(sampleEvent("ghost", "r1"));
  repository->flush();
  EXPECT_EQ(writeErrors().value(), before + 1);
}

TEST_F(SqliteRepositoryTest, DuplicateEventIdIsAWriteErrorAndKeepsTheFirst) {
  auto repository = open();
  const uint64_t before = writeErrors().value();
  repository->insertEvent(sampleEvent("e1", "r1"));
  OutboxEvent again = sampleEvent("e1", "r2");
  repository->insertEvent(again);
  repository->flush();
  EXPECT_EQ(writeErrors().value(), before + 1);
  EXPECT_EQ(repository->eventsForRecording("r1").value().size(), 1u);
  EXPECT_TRUE(repository->eventsForRecording("r2").value().empty());
  EXPECT_TRUE(repository->eventsForRecording("r4").value().empty());
}

TEST_F(SqliteRepositoryTest, DueEventsAreTheOldestPendingOfEachRecordingInSequenceOrder) {
  auto repository = open();
  repository->insertEvent(sampleEvent("a1", "ra", 100));
  repository->insertEvent(sampleEvent("b1", "rb", 100));
  repository->insertEvent(sampleEvent("a2", "ra", 100));
  repository->insertEvent(sampleEvent("c1", "rc", 50));
  repository->insertEvent(sampleEvent("b2", "rb", 100));
  repository->flush();
  EXPECT_EQ(eventIds(repository->dueEvents(100, 10).value()),
            (std::vector<std::string>{"a1", "b1", "c1"}));
  EXPECT_EQ(eventIds(repository->dueEvents(60, 10).value()), (std::vector<std::string>{"c1"}));
  EXPECT_TRUE(repository->dueEvents(49, 10).value().empty());
  EXPECT_EQ(eventIds(repository->dueEvents(100, 2).value()),
            (std::vector<std::string>{"a1", "b1"}));
  // Delivering a recording's head makes its next event due.
  const auto heads = repository->dueEvents(100, 10).value();
  repository->updateEventDelivery(delivered(heads[0], 150));
  repository->flush();
  EXPECT_EQ(eventIds(repository->dueEvents(100, 10).value()),
            (std::vector<std::string>{"b1", "a2", "c1"}));
}

TEST_F(SqliteRepositoryTest, LaterDueEventNeverOvertakesAnEarlierOneNotYetDue) {
  auto repository = open();
  repository->insertEvent(sampleEvent("a1", "ra", 0));
  repository->insertEvent(sampleEvent("a2", "ra", 0));
  repository->insertEvent(sampleEvent("b1", "rb", 0));
  repository->flush();
  // a1 failed and backs off until 5000; a2 is due but must wait.
  OutboxEvent backoff = repository->dueEvents(0, 10).value().at(0);
  ASSERT_EQ(backoff.event_id, "a1");
  backoff.attempts = 1;
  backoff.next_attempt_ms = 5000;
  backoff.last_error = "timeout";
  repository->updateEventDelivery(backoff);
  repository->flush();
  EXPECT_EQ(eventIds(repository->dueEvents(4999, 10).value()), (std::vector<std::string>{"b1"}));
  EXPECT_EQ(eventIds(repository->dueEvents(5000, 10).value()),
            (std::vector<std::string>{"a1", "b1"}));
  EXPECT_EQ(repository->pendingEventCount().value(), 3);
}

TEST_F(SqliteRepositoryTest, DeadEventStopsBlockingAndIsListedNewestFirstPerDomain) {
  auto repository = open();
  repository->insertEvent(sampleEvent("a1", "ra", 0));
  repository->insertEvent(sampleEvent("a2", "ra", 0));
  repository->insertEvent(sampleEvent("x1", "rx", 0, "other"));
  repository->insertEvent(sampleEvent("b1", "rb", 0));
  repository->flush();
  for (const std::string id : {"a1", "x1", "b1"}) {
    OutboxEvent dead = sampleEvent(id, "");
    dead.status = "dead";
    dead.attempts = 12;
    dead.last_error = "HTTP 500";
    repository->updateEventDelivery(dead);
  }
  repository->flush();
  // A dead event is given up: the recording's next event goes ahead.
  EXPECT_EQ(eventIds(repository->dueEvents(0, 10).value()), (std::vector<std::string>{"a2"}));
  EXPECT_EQ(repository->pendingEventCount().value(), 1);
  const auto dead = repository->deadEvents("acme", 10);
  ASSERT_TRUE(dead) << dead.error().message;
  EXPECT_EQ(eventIds(*dead), (std::vector<std::string>{"b1", "a1"}));
  EXPECT_EQ((*dead)[0].attempts, 12);
  EXPECT_EQ((*dead)[0].last_error, "HTTP 500");
  EXPECT_EQ(eventIds(repository->deadEvents("acme", 1).value()), (std::vector<std::string>{"b1"}));
  EXPECT_EQ(eventIds(repository->deadEvents("other", 10).value()),
            (std::vector<std::string>{"x1"}));
  EXPECT_TRUE(repository->deadEvents("nobody", 10).value().empty());
}

TEST_F(SqliteRepositoryTest, DueEventsStayCorrectWithThousandsPending) {
  auto repository = open();
  // 1000 recordings with 5 events each, interleaved; recording k's head is due at k.
  for (int n = 0; n < 5; ++n) {
    for (int k = 0; k < 1000; ++k) {
      repository->insertEvent(sampleEvent("e" + std::to_string(k) + "-" + std::to_string(n),
                                          "r" + std::to_string(k), n == 0 ? k : 0));
    }
  }
  repository->flush();
  EXPECT_EQ(repository->pendingEventCount().value(), 5000);
  const auto due = repository->dueEvents(499, 10000).value();
  ASSERT_EQ(due.size(), 500u);
  for (std::size_t i = 0; i < due.size(); ++i) {
    EXPECT_EQ(due[i].event_id, "e" + std::to_string(i) + "-0");
  }
  EXPECT_EQ(repository->dueEvents(5000, 100).value().size(), 100u);
}

TEST_F(SqliteRepositoryTest, OutboxQueriesUseIndexesOnly) {
  open().reset();
  SQLite::Database db(file_, SQLite::OPEN_READONLY);
  SQLite::Statement explain(db, "EXPLAIN QUERY PLAN " + sqlite_rows::dueEventsSql());
  std::string plan;
  while (explain.executeStep()) {
    plan += explain.getColumn(3).getString() + "\n";
  }
  EXPECT_NE(plan.find("COVERING INDEX events_due"), std::string::npos) << plan;
  EXPECT_NE(plan.find("COVERING INDEX events_recording"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("SCAN"), std::string::npos) << plan;
}

TEST_F(SqliteRepositoryTest, EventIsNeverVisibleBeforeTheStateChangeQueuedAheadOfIt) {
  auto repository = open();
  repository->insertRecording(sample("r1"));
  repository->flush();
  constexpr int kEvents = 400;
  std::atomic<bool> done{false};
  std::atomic<int> violations{0};
  std::thread reader([&] {
    while (!done) {
      // Events first, then the recording: its state may only be newer.
      const auto events = repository->eventsForRecording("r1");
      const auto record = repository->findRecording("r1");
      if (!events || !record || !record->has_value()) {
        ++violations;
        continue;
      }
      if (!events->empty() &&
          (*record)->duration_ms.value_or(-1) < std::stoll(events->back().event_id.substr(1))) {
        ++violations;
      }
    }
  });
  RecordingRecord record = sample("r1");
  for (int i = 0; i < kEvents; ++i) {
    record.duration_ms = i;
    repository->updateRecording(record);
    repository->insertEvent(sampleEvent("e" + std::to_string(i), "r1"));
    if (i % 50 == 0) {
      std::this_thread::yield();
    }
  }
  repository->flush();
  done = true;
  reader.join();
  EXPECT_EQ(violations.load(), 0);
  EXPECT_EQ(repository->eventsForRecording("r1").value().size(), static_cast<std::size_t>(kEvents));
}

TEST_F(SqliteRepositoryTest, AfterWritesFollowingAnEventSeesItDue) {
  auto repository = open();
  SqliteRepository* raw = repository.get();
  RecordingRecord record = sample("r1");
  record.state = "ready";
  repository->updateRecording(record);
  repository->insertEvent(sampleEvent("ready-1", "r1"));
  std::promise<std::pair<std::string, std::vector<std::string>>> seen;
  repository->afterWrites([raw, &seen] {
    const auto found = raw->findRecording("r1");
    seen.set_value({found && found->has_value() ? (*found)->state : "",
                    eventIds(raw->dueEvents(0, 10).value_or(std::vector<OutboxEvent>{}))});
  });
  auto future = seen.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  const auto [state, due] = future.get();
  EXPECT_EQ(state, "ready");
  EXPECT_EQ(due, (std::vector<std::string>{"ready-1"}));
}

TEST_F(SqliteRepositoryTest, WritesOfEveryKindApplyInCallOrder) {
  auto repository = open();
  const uint64_t before = writeErrors().value();
  // Each update depends on the insert queued just before it (an update of a missing event is
  // a write error), and the command results race for the same key.
  for (int i = 0; i < 300; ++i) {
    const std::string id = "e" + std::to_string(i);
    repository->insertEvent(sampleEvent(id, "r" + std::to_string(i % 7)));
    repository->updateEventDelivery(delivered(sampleEvent(id, ""), i));
    repository->recordTransition("r0", "s" + std::to_string(i), i, "");
    repository->saveCommandResult(
        CommandResult{"acme", "r0", "STORERECORDING", "key", 200, std::to_string(i), i});
  }
  repository->flush();
  EXPECT_EQ(writeErrors().value(), before);
  EXPECT_EQ(repository->pendingEventCount().value(), 0);
  EXPECT_EQ(repository->transitions("r0").value().back().state, "s299");
  EXPECT_EQ(repository->findCommandResult("acme", "r0", "STORERECORDING", "key").value()->body,
            "0");
}

TEST_F(SqliteRepositoryTest, CommandResultFirstSaveWinsPerFourKeys) {
  auto repository = open();
  EXPECT_FALSE(repository->findCommandResult("acme", "r1", "STORERECORDING", "k1").value());
  const CommandResult first{"acme", "r1", "STORERECORDING", "k1", 200, R"({"success":true})", 1000};
  repository->saveCommandResult(first);
  repository->saveCommandResult(
      CommandResult{"acme", "r1", "STORERECORDING", "k1", 409, R"({"success":false})", 2000});
  repository->saveCommandResult(
      CommandResult{"acme", "r1", "STORERECORDING", "k2", 409, "second key", 2000});
  repository->saveCommandResult(
      CommandResult{"acme", "r1", "DELETERECORDING", "k1", 200, "other method", 2000});
  repository->saveCommandResult(
      CommandResult{"acme", "r2", "STORERECORDING", "k1", 404, "other recording", 2000});
  repository->saveCommandResult(
      CommandResult{"other", "r1", "STORERECORDING", "k1", 403, "other domain", 2000});
  const uint64_t before = writeErrors().value();
  repository->flush();
  EXPECT_EQ(writeErrors().value(), before);  // a repeat is not an error
  const auto found = repository->findCommandResult("acme", "r1", "STORERECORDING", "k1");
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(**found, first);
  EXPECT_EQ(repository->findCommandResult("acme", "r1", "STORERECORDING", "k2").value()->body,
            "second key");
  EXPECT_EQ(repository->findCommandResult("acme", "r1", "DELETERECORDING", "k1").value()->body,
            "other method");
  EXPECT_EQ(repository->findCommandResult("acme", "r2", "STORERECORDING", "k1").value()->status,
            404);
  EXPECT_EQ(repository->findCommandResult("other", "r1", "STORERECORDING", "k1").value()->status,
            403);
  EXPECT_FALSE(repository->findCommandResult("acme", "r1", "storerecording", "k1").value());
}

TEST_F(SqliteRepositoryTest, PurgeHistoryKeepsPendingEventsAndNewerHistory) {
  auto repository = open();
  auto at = [](OutboxEvent event, int64_t created_ms) {
    event.created_ms = created_ms;
    return event;
  };
  repository->insertEvent(at(sampleEvent("old-delivered", "r1"), 100));
  repository->insertEvent(at(sampleEvent("old-dead", "r2"), 100));
  repository->insertEvent(at(sampleEvent("old-pending", "r3"), 100));
  repository->insertEvent(at(sampleEvent("old-skipped", "r4"), 100));
  repository->insertEvent(at(sampleEvent("new-delivered", "r1"), 900));
  repository->updateEventDelivery(delivered(sampleEvent("old-delivered", ""), 150));
  OutboxEvent dead = sampleEvent("old-dead", "");
  dead.status = "dead";
  repository->updateEventDelivery(dead);
  OutboxEvent skipped = sampleEvent("old-skipped", "");
  skipped.status = "skipped";
  repository->updateEventDelivery(skipped);
  repository->updateEventDelivery(delivered(sampleEvent("new-delivered", ""), 950));
  repository->saveCommandResult(CommandResult{"acme", "r1", "STORERECORDING", "old", 200, "", 100});
  repository->saveCommandResult(CommandResult{"acme", "r1", "STORERECORDING", "new", 200, "", 900});
  repository->purgeHistory(500);
  repository->flush();
  EXPECT_EQ(eventIds(repository->eventsForRecording("r1").value()),
            (std::vector<std::string>{"new-delivered"}));
  EXPECT_TRUE(repository->eventsForRecording("r2").value().empty());
  EXPECT_TRUE(repository->eventsForRecording("r4").value().empty());
  EXPECT_EQ(eventIds(repository->eventsForRecording("r3").value()),
            (std::vector<std::string>{"old-pending"}));
  EXPECT_FALSE(repository->findCommandResult("acme", "r1", "STORERECORDING", "old").value());
  EXPECT_TRUE(repository->findCommandResult("acme", "r1", "STORERECORDING", "new").value());
}

TEST_F(SqliteRepositoryTest, EventsAfterListsEveryStatusInSequenceOrderFromTheCursor) {
  auto repository = open();
  repository->insertEvent(sampleEvent("e1", "r1"));
  repository->insertEvent(sampleEvent("e2", "r2"));
  repository->insertEvent(sampleEvent("e3", "r1"));
  repository->insertEvent(sampleEvent("e4", "r3"));
  repository->updateEventDelivery(delivered(sampleEvent("e1", ""), 150));
  OutboxEvent skipped = sampleEvent("e2", "");
  skipped.status = "skipped";
  repository->updateEventDelivery(skipped);
  repository->flush();

  const auto all = repository->eventsAfter(0, 10);
  ASSERT_TRUE(all) << all.error().message;
  ASSERT_EQ(eventIds(*all), (std::vector<std::string>{"e1", "e2", "e3", "e4"}));
  EXPECT_EQ((*all)[0].status, "delivered");
  EXPECT_EQ((*all)[1].status, "skipped");
  EXPECT_LT((*all)[0].sequence, (*all)[1].sequence);

  const auto page = repository->eventsAfter((*all)[1].sequence, 1);
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_EQ(eventIds(*page), (std::vector<std::string>{"e3"}));
  EXPECT_TRUE(repository->eventsAfter((*all)[3].sequence, 10).value().empty());
}

TEST_F(SqliteRepositoryTest, PublisherCursorStartsAtZeroNeverMovesBackAndSurvivesReopen) {
  {
    auto repository = open();
    EXPECT_EQ(repository->publisherCursor("nats").value(), 0);
    repository->savePublisherCursor("nats", 7);
    repository->savePublisherCursor("nats", 5);  // a late, older position
    repository->savePublisherCursor("sns", 2);
    repository->flush();
    EXPECT_EQ(repository->publisherCursor("nats").value(), 7);
    EXPECT_EQ(repository->publisherCursor("sns").value(), 2);
    repository->savePublisherCursor("nats", 9);
  }
  auto reopened = open();
  EXPECT_EQ(reopened->publisherCursor("nats").value(), 9);
  EXPECT_EQ(reopened->publisherCursor("other").value(), 0);
}

}  // namespace
}  // namespace siprecd::db
