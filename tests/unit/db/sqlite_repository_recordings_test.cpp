#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include "db/recording_cursor.hpp"
#include "db/sqlite_repository_fixture.hpp"
#include "db/sqlite_rows.hpp"

namespace siprecd::db {
namespace {

std::vector<std::string> ids(const std::vector<RecordingRecord>& records) {
  std::vector<std::string> out;
  for (const auto& record : records) {
    out.push_back(record.id);
  }
  return out;
}

/// Walks every page of `query` and returns the ids in order; counts the pages.
std::vector<std::string> allPages(Repository& repository, RecordingQuery query,
                                  int* pages = nullptr) {
  std::vector<std::string> out;
  int count = 0;
  for (;;) {
    const auto page = repository.listRecordings(query);
    EXPECT_TRUE(page) << (page ? "" : page.error().message);
    if (!page || count > 100) {
      break;
    }
    ++count;
    for (const auto& record : page->items) {
      out.push_back(record.id);
    }
    if (page->next_cursor.empty()) {
      break;
    }
    EXPECT_EQ(page->items.size(), query.limit);
    query.cursor = page->next_cursor;
  }
  if (pages != nullptr) {
    *pages = count;
  }
  return out;
}

class RecordingListingTest : public SqliteRepositoryTest {
 protected:
  void SetUp() override {
    repository_ = open();
    ASSERT_TRUE(repository_);
    // Ties in created_ms within each group; inserted out of order, another domain mixed in.
    for (const auto& [id, created] : std::vector<std::pair<std::string, int64_t>>{{"b2", 2000},
                                                                                  {"a3", 3000},
                                                                                  {"c1", 1000},
                                                                                  {"c3", 3000},
                                                                                  {"a1", 1000},
                                                                                  {"b3", 3000},
                                                                                  {"a2", 2000},
                                                                                  {"c2", 2000},
                                                                                  {"b1", 1000}}) {
      repository_->insertRecording(sample(id, created));
      RecordingRecord foreign = sample("x-" + id, created);
      foreign.domain = "other";
      repository_->insertRecording(foreign);
    }
    repository_->flush();
  }

  RecordingQuery query(std::size_t limit) const {
    RecordingQuery q;
    q.domain = "acme";
    q.limit = limit;
    return q;
  }

  std::unique_ptr<SqliteRepository> repository_;
  const std::vector<std::string> newest_first_{"c3", "b3", "a3", "c2", "b2",
                                               "a2", "c1", "b1", "a1"};
};

TEST_F(RecordingListingTest, PagesNewestFirstThroughTiesWithoutGapsOrRepeats) {
  int pages = 0;
  EXPECT_EQ(allPages(*repository_, query(2), &pages), newest_first_);
  EXPECT_EQ(pages, 5);
}

TEST_F(RecordingListingTest, ExactMultipleOfTheLimitEndsWithoutAnEmptyPage) {
  int pages = 0;
  EXPECT_EQ(allPages(*repository_, query(3), &pages), newest_first_);
  EXPECT_EQ(pages, 3);
  const auto whole = repository_->listRecordings(query(9)).value();
  EXPECT_EQ(ids(whole.items), newest_first_);
  EXPECT_TRUE(whole.next_cursor.empty());
}

TEST_F(RecordingListingTest, CursorIsThePositionOfTheLastItem) {
  const auto first = repository_->listRecordings(query(4)).value();
  EXPECT_EQ(ids(first.items), (std::vector<std::string>{"c3", "b3", "a3", "c2"}));
  const auto cursor = decodeRecordingCursor(first.next_cursor);
  ASSERT_TRUE(cursor);
  EXPECT_EQ(*cursor, (RecordingCursor{2000, "c2"}));
}

TEST_F(RecordingListingTest, RecordingsAddedWhilePagingDoNotShiftLaterPages) {
  auto q = query(4);
  const auto first = repository_->listRecordings(q).value();
  repository_->insertRecording(sample("z9", 9000));
  repository_->insertRecording(sample("b25", 2000));
  repository_->flush();
  q.cursor = first.next_cursor;
  const auto rest = allPages(*repository_, q);
  EXPECT_EQ(rest, (std::vector<std::string>{"b25", "b2", "a2", "c1", "b1", "a1"}));
}

TEST_F(RecordingListingTest, ListsOnlyTheQueriedDomain) {
  auto q = query(100);
  q.domain = "other";
  const auto page = repository_->listRecordings(q).value();
  ASSERT_EQ(page.items.size(), 9u);
  for (const auto& record : page.items) {
    EXPECT_EQ(record.domain, "other");
  }
  q.domain = "nobody";
  EXPECT_TRUE(repository_->listRecordings(q).value().items.empty());
}

TEST_F(RecordingListingTest, FiltersByCreatedRangeFromInclusiveToExclusive) {
  auto q = query(2);
  q.created_from_ms = 2000;
  q.created_to_ms = 3000;
  EXPECT_EQ(allPages(*repository_, q), (std::vector<std::string>{"c2", "b2", "a2"}));
  q.created_from_ms = 1001;
  q.created_to_ms = std::nullopt;
  EXPECT_EQ(allPages(*repository_, q).size(), 6u);
}

TEST_F(RecordingListingTest, FiltersByState) {
  for (const std::string id : {"a1", "b3", "c2"}) {
    RecordingRecord record = repository_->findRecording(id).value().value();
    record.state = "ready";
    repository_->updateRecording(record);
  }
  repository_->flush();
  auto q = query(2);
  q.state = "ready";
  EXPECT_EQ(allPages(*repository_, q), (std::vector<std::string>{"b3", "c2", "a1"}));
  q.state = "stored";
  EXPECT_TRUE(allPages(*repository_, q).empty());
}

TEST_F(RecordingListingTest, FiltersByParticipantCaseInsensitivelyInUrisAndMetadata) {
  RecordingRecord from = sample("p-from", 5000);
  from.from_uri = "sip:Carol.Jones@Example.com";
  RecordingRecord to = sample("p-to", 5001);
  to.to_uri = "<sip:+15551234@carrier.net>;tag=x";
  RecordingRecord meta = sample("p-meta", 5002);
  meta.metadata_json = R"({"participants":[{"name":"CAROL Jones","aor":"sip:cj@pbx"}]})";
  for (const auto& record : {from, to, meta}) {
    repository_->insertRecording(record);
  }
  repository_->flush();
  auto q = query(50);
  q.participant = "carol";
  EXPECT_EQ(allPages(*repository_, q), (std::vector<std::string>{"p-meta", "p-from"}));
  q.participant = "+1555";
  EXPECT_EQ(allPages(*repository_, q), (std::vector<std::string>{"p-to"}));
  q.participant = "BOB@EXAMPLE";
  EXPECT_EQ(allPages(*repository_, q).size(), 11u);  // everyone but p-to
  // SQL wildcards are plain characters here.
  q.participant = "%";
  EXPECT_TRUE(allPages(*repository_, q).empty());
}

TEST_F(RecordingListingTest, CombinesFiltersWithPaging) {
  RecordingRecord record = sample("d2", 2000);
  record.state = "ready";
  record.from_uri = "sip:dave@example.com";
  repository_->insertRecording(record);
  record.id = "d3";
  record.created_ms = 3000;
  repository_->insertRecording(record);
  record.id = "d1";
  record.created_ms = 1000;
  record.state = "recording";
  repository_->insertRecording(record);
  repository_->flush();
  auto q = query(1);
  q.participant = "DAVE";
  q.state = "ready";
  q.created_from_ms = 1500;
  int pages = 0;
  EXPECT_EQ(allPages(*repository_, q, &pages), (std::vector<std::string>{"d3", "d2"}));
  EXPECT_EQ(pages, 2);
}

TEST_F(RecordingListingTest, ClampsTheLimitTo1Through1000) {
  const auto one = repository_->listRecordings(query(0)).value();
  EXPECT_EQ(ids(one.items), (std::vector<std::string>{"c3"}));
  EXPECT_FALSE(one.next_cursor.empty());
  for (int i = 0; i < 1000; ++i) {
    repository_->insertRecording(sample("bulk-" + std::to_string(i), 500));
  }
  repository_->flush();
  const auto big = repository_->listRecordings(query(5000)).value();
  EXPECT_EQ(big.items.size(), 1000u);
  EXPECT_FALSE(big.next_cursor.empty());
  auto rest = query(5000);
  rest.cursor = big.next_cursor;
  const auto last = repository_->listRecordings(rest).value();
  EXPECT_EQ(last.items.size(), 9u);
  EXPECT_TRUE(last.next_cursor.empty());
}

TEST_F(RecordingListingTest, MalformedCursorIsA400) {
  for (const std::string cursor : {"not a cursor", "YWJj", "MTI6", "%%%"}) {
    auto q = query(10);
    q.cursor = cursor;
    const auto page = repository_->listRecordings(q);
    ASSERT_FALSE(page) << cursor;
    EXPECT_EQ(page.error().code, 400);
    EXPECT_NE(page.error().message.find("cursor"), std::string::npos);
  }
}

TEST_F(SqliteRepositoryTest, RecordingsCreatedBeforeSkipsGoneOnesOldestFirst) {
  auto repository = open();
  const std::vector<std::pair<std::string, std::string>> rows{
      {"ready", "r-ready"},         {"deleted", "r-deleted"}, {"stored", "r-stored"},
      {"declined", "r-declined"},   {"failed", "r-failed"},   {"cancelled", "r-cancelled"},
      {"recording", "r-recording"}, {"storing", "r-storing"}, {"offered", "r-offered"}};
  int64_t created = 1000;
  for (const auto& [state, id] : rows) {
    RecordingRecord record = sample(id, created);
    created += 100;
    record.state = state;
    record.domain = (created % 200 == 0) ? "acme" : "other";
    repository->insertRecording(record);
  }
  RecordingRecord tie = sample("r-aaa-tie", 1000);
  tie.state = "ready";
  repository->insertRecording(tie);
  repository->flush();
  const auto old = repository->recordingsCreatedBefore(1800, 100);
  ASSERT_TRUE(old) << old.error().message;
  EXPECT_EQ(ids(*old), (std::vector<std::string>{"r-aaa-tie", "r-ready", "r-stored", "r-failed",
                                                 "r-recording", "r-storing"}));
  // The boundary is exclusive; the limit keeps the oldest.
  EXPECT_EQ(ids(repository->recordingsCreatedBefore(1700, 3).value()),
            (std::vector<std::string>{"r-aaa-tie", "r-ready", "r-stored"}));
  EXPECT_EQ(repository->recordingsCreatedBefore(1700, 100).value().size(), 5u);
  EXPECT_TRUE(repository->recordingsCreatedBefore(1000, 100).value().empty());
}

/// The query plan of `sql` as one string per row.
std::string planOf(SQLite::Database& db, const std::string& sql) {
  SQLite::Statement explain(db, "EXPLAIN QUERY PLAN " + sql);
  std::string plan;
  while (explain.executeStep()) {
    plan += explain.getColumn(3).getString() + "\n";
  }
  return plan;
}

TEST_F(SqliteRepositoryTest, ListingAndRetentionQueriesUseIndexes) {
  open().reset();
  SQLite::Database db(file_, SQLite::OPEN_READONLY);
  RecordingQuery q;
  q.state = "ready";
  q.created_from_ms = 1;
  q.created_to_ms = 2;
  q.participant = "bob";
  for (const bool with_cursor : {false, true}) {
    const std::string plan = planOf(db, sqlite_rows::listRecordingsSql(q, with_cursor));
    EXPECT_NE(plan.find("recordings_domain_created"), std::string::npos) << plan;
    EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
    EXPECT_EQ(plan.find("SCAN"), std::string::npos) << plan;
  }
  const std::string retention = planOf(db, sqlite_rows::recordingsCreatedBeforeSql());
  EXPECT_NE(retention.find("recordings_retained"), std::string::npos) << retention;
  EXPECT_EQ(retention.find("TEMP B-TREE"), std::string::npos) << retention;
}

}  // namespace
}  // namespace siprecd::db
