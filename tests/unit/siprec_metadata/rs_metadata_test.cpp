#include "siprec/rs_metadata.hpp"

#include <fstream>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace siprecd::siprec {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

RsMetadata parseFixture(const std::string& name) {
  std::ifstream file(std::string(SIPRECD_TEST_DATA_DIR) + "/siprec_metadata/" + name,
                     std::ios::binary);
  EXPECT_TRUE(file.good()) << name;
  std::ostringstream content;
  content << file.rdbuf();
  auto parsed = parseRsMetadata(content.str());
  EXPECT_TRUE(parsed.has_value()) << name << ": " << parsed.error().message;
  return parsed.value_or(RsMetadata{});
}

const RsParticipant* findParticipant(const RsMetadata& metadata, const std::string& id) {
  for (const RsParticipant& participant : metadata.participants) {
    if (participant.id == id) {
      return &participant;
    }
  }
  return nullptr;
}

constexpr const char* kBob = "srfBElmCRp2QB23b7Mpk0w==";
constexpr const char* kPaul = "zSfPoSvdSDCmU3A3TRDxAw==";
constexpr const char* kAlice = "EVf4qkqJQ3mK0sYsZnD7eA==";

TEST(RsMetadataMerge, CompleteUpdateReplacesEverything) {
  RsMetadata current = parseFixture("rfc7865_complete.xml");
  const RsMetadata update = parseFixture("no_namespace_shuffled.xml");
  mergeRsMetadata(current, update);
  EXPECT_EQ(current, update);
}

TEST(RsMetadataMerge, PartialUpdateAddsJoiningParticipantAndStream) {
  RsMetadata current = parseFixture("rfc7865_complete.xml");
  mergeRsMetadata(current, parseFixture("rfc7865_partial_participant_joins.xml"));

  EXPECT_EQ(current.data_mode, DataMode::Complete);
  ASSERT_EQ(current.participants.size(), 3u);
  const RsParticipant* alice = findParticipant(current, kAlice);
  ASSERT_NE(alice, nullptr);
  EXPECT_THAT(alice->aors, ElementsAre("sip:alice@atlanta.com"));
  EXPECT_EQ(alice->name, "Alice");
  EXPECT_THAT(alice->send, ElementsAre("60JAJm9UTvik0Ltlih/Gzw=="));
  EXPECT_EQ(alice->associate_time_ms, 1292542987000);

  // Bob was mentioned in a participantstreamassoc: his associations are replaced, the
  // rest of what was known about him (name, aor, times) stays.
  const RsParticipant* bob = findParticipant(current, kBob);
  ASSERT_NE(bob, nullptr);
  EXPECT_THAT(bob->send, ElementsAre("UAAMm5GRQKSCMVvLyl4rFw=="));
  EXPECT_THAT(bob->recv, ElementsAre("8zc6e0lYTlWIINA6GR+3ag==", "60JAJm9UTvik0Ltlih/Gzw=="));
  EXPECT_EQ(bob->name, "Bob");
  EXPECT_THAT(bob->aors, ElementsAre("sip:bob@biloxi.com"));
  EXPECT_EQ(bob->associate_time_ms, 1292542867000);

  // Paul was not mentioned: untouched.
  const RsParticipant* paul = findParticipant(current, kPaul);
  ASSERT_NE(paul, nullptr);
  EXPECT_THAT(paul->send, ElementsAre("8zc6e0lYTlWIINA6GR+3ag==", "EiXGlc+4TruqqoDaNE76ag=="));

  ASSERT_EQ(current.streams.size(), 5u);
  EXPECT_EQ(current.streams[4].id, "60JAJm9UTvik0Ltlih/Gzw==");
  EXPECT_EQ(current.streams[4].label, "100");
  ASSERT_EQ(current.sessions.size(), 1u);
  EXPECT_EQ(current.sessions[0].group_id, "7+OTCyoxTmqmqyA/1weDAg==");
}

TEST(RsMetadataMerge, DisassociateTimeMarksParticipantAsLeft) {
  RsMetadata current = parseFixture("rfc7865_complete.xml");
  mergeRsMetadata(current, parseFixture("rfc7865_partial_participant_leaves.xml"));

  ASSERT_EQ(current.participants.size(), 2u);
  const RsParticipant* paul = findParticipant(current, kPaul);
  ASSERT_NE(paul, nullptr);
  EXPECT_EQ(paul->disassociate_time_ms, 1292543427250);
  EXPECT_EQ(paul->associate_time_ms, 1292542867000);
  EXPECT_EQ(paul->name, "Paul");
  EXPECT_THAT(paul->send, IsEmpty());  // the update's empty participantstreamassoc
  EXPECT_THAT(paul->recv, IsEmpty());
  EXPECT_FALSE(findParticipant(current, kBob)->disassociate_time_ms.has_value());
}

TEST(RsMetadataMerge, LaterAssociationClearsEarlierDeparture) {
  RsMetadata current = parseFixture("rfc7865_complete.xml");
  mergeRsMetadata(current, parseFixture("rfc7865_partial_participant_leaves.xml"));
  auto rejoin = parseRsMetadata(
      "<recording xmlns='urn:ietf:params:xml:ns:recording:1'><datamode>partial</datamode>"
      "<participantsessionassoc participant_id='zSfPoSvdSDCmU3A3TRDxAw=='>"
      "<associate-time>2010-12-16T23:59:00Z</associate-time></participantsessionassoc>"
      "</recording>");
  ASSERT_TRUE(rejoin.has_value());
  mergeRsMetadata(current, *rejoin);
  const RsParticipant* paul = findParticipant(current, kPaul);
  ASSERT_NE(paul, nullptr);
  EXPECT_FALSE(paul->disassociate_time_ms.has_value());
  EXPECT_EQ(paul->associate_time_ms, 1292543940000);
}

TEST(RsMetadataMerge, SessionStopAndParticipantLeaveFromPartialUpdate) {
  RsMetadata current = parseFixture("rfc7865_complete.xml");
  mergeRsMetadata(current, parseFixture("rfc7865_partial_session_stops.xml"));
  ASSERT_EQ(current.sessions.size(), 1u);
  EXPECT_EQ(current.sessions[0].stop_time_ms, 1292543700000);
  EXPECT_EQ(current.sessions[0].start_time_ms, 1292542867000);
  EXPECT_THAT(current.sessions[0].sip_session_ids.size(), 1u);
  EXPECT_EQ(findParticipant(current, kBob)->disassociate_time_ms, 1292543700000);
  // Bob's streams were not mentioned, so they are kept.
  EXPECT_EQ(findParticipant(current, kBob)->send.size(), 2u);
}

TEST(RsMetadataMerge, PartialIntoEmptyStateKeepsEverythingAndMergingTwiceIsStable) {
  RsMetadata current;
  const RsMetadata update = parseFixture("rfc7865_partial_participant_joins.xml");
  mergeRsMetadata(current, update);
  EXPECT_EQ(current.participants, update.participants);
  EXPECT_EQ(current.streams, update.streams);
  const RsMetadata once = current;
  mergeRsMetadata(current, update);
  EXPECT_EQ(current, once);
  mergeRsMetadata(current, current);
  EXPECT_EQ(current, once);
}

TEST(RsMetadataJson, ShowsParticipantsStreamsSessionsAndGroups) {
  const nlohmann::json json = rsMetadataToJson(parseFixture("rfc7865_complete.xml"));

  ASSERT_EQ(json.at("participants").size(), 2u);
  const nlohmann::json& bob = json.at("participants")[0];
  EXPECT_EQ(bob.at("participantId"), kBob);
  EXPECT_EQ(bob.at("aors"), nlohmann::json::array({"sip:bob@biloxi.com"}));
  EXPECT_EQ(bob.at("name"), "Bob");
  EXPECT_EQ(bob.at("send"),
            nlohmann::json::array({"UAAMm5GRQKSCMVvLyl4rFw==", "i1Pz3to5hGk8fuXl+PbwCw=="}));
  EXPECT_EQ(bob.at("recv").size(), 2u);
  EXPECT_EQ(bob.at("associateTime"), 1292542867000);
  EXPECT_FALSE(bob.contains("disassociateTime"));

  ASSERT_EQ(json.at("streams").size(), 4u);
  EXPECT_EQ(json.at("streams")[0], (nlohmann::json{{"streamId", "UAAMm5GRQKSCMVvLyl4rFw=="},
                                                   {"label", "96"},
                                                   {"sessionId", "hVpd7YQgRW2nD22h7q60JQ=="}}));

  ASSERT_EQ(json.at("sessions").size(), 1u);
  const nlohmann::json& session = json.at("sessions")[0];
  EXPECT_EQ(session.at("sessionId"), "hVpd7YQgRW2nD22h7q60JQ==");
  EXPECT_EQ(session.at("groupId"), "7+OTCyoxTmqmqyA/1weDAg==");
  EXPECT_EQ(session.at("sipSessionIds").size(), 1u);
  EXPECT_EQ(session.at("startTime"), 1292542867000);
  EXPECT_FALSE(session.contains("stopTime"));
  EXPECT_FALSE(session.contains("reason"));

  EXPECT_EQ(json.at("groups"), nlohmann::json::array({{{"groupId", "7+OTCyoxTmqmqyA/1weDAg=="},
                                                       {"associateTime", 1292542867000}}}));
}

TEST(RsMetadataJson, EmptyMetadataHasEmptyArraysAndLeftParticipantHasDisassociateTime) {
  EXPECT_EQ(rsMetadataToJson(RsMetadata{}),
            (nlohmann::json{{"participants", nlohmann::json::array()},
                            {"streams", nlohmann::json::array()},
                            {"sessions", nlohmann::json::array()},
                            {"groups", nlohmann::json::array()}}));

  const nlohmann::json json =
      rsMetadataToJson(parseFixture("rfc7865_partial_participant_leaves.xml"));
  const nlohmann::json& paul = json.at("participants")[0];
  EXPECT_EQ(paul.at("disassociateTime"), 1292543427250);
  EXPECT_FALSE(paul.contains("associateTime"));
  EXPECT_FALSE(paul.contains("name"));
  EXPECT_EQ(paul.at("aors"), nlohmann::json::array());
}

TEST(RsMetadataLabel, MapsEachLabelToItsSender) {
  const RsMetadata metadata = parseFixture("rfc7865_complete.xml");
  EXPECT_EQ(participantForLabel(metadata, "96"), kBob);
  EXPECT_EQ(participantForLabel(metadata, "97"), kBob);
  EXPECT_EQ(participantForLabel(metadata, "98"), kPaul);
  EXPECT_EQ(participantForLabel(metadata, "99"), kPaul);
  EXPECT_EQ(participantForLabel(metadata, "100"), std::nullopt);
  EXPECT_EQ(participantForLabel(metadata, ""), std::nullopt);
}

TEST(RsMetadataLabel, WorksForLegacySendInsideParticipant) {
  const RsMetadata metadata = parseFixture("oracle_draft_namespace.xml");
  EXPECT_EQ(participantForLabel(metadata, "1"), "hq18GJs3TtJdhjPsfPNV8A==");
  EXPECT_EQ(participantForLabel(metadata, "2"), "o6zxqWAFTt2NzZpfaTU8gg==");
}

TEST(RsMetadataLabel, PrefersParticipantStillAssociated) {
  auto parsed = parseRsMetadata(
      "<recording><stream stream_id='s'><label>1</label></stream>"
      "<participantsessionassoc participant_id='gone'>"
      "<disassociate-time>2020-01-01T00:00:00Z</disassociate-time></participantsessionassoc>"
      "<participantstreamassoc participant_id='gone'><send>s</send></participantstreamassoc>"
      "<participantstreamassoc participant_id='here'><send>s</send></participantstreamassoc>"
      "</recording>");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(participantForLabel(*parsed, "1"), "here");

  parsed->participants.pop_back();
  EXPECT_EQ(participantForLabel(*parsed, "1"), "gone");
}

TEST(RsMetadataLabel, StreamWithoutSenderHasNoParticipant) {
  const auto parsed = parseRsMetadata(
      "<recording><stream stream_id='s'><label>1</label></stream>"
      "<participantstreamassoc participant_id='p'><recv>s</recv></participantstreamassoc>"
      "</recording>");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(participantForLabel(*parsed, "1"), std::nullopt);
}

}  // namespace
}  // namespace siprecd::siprec
