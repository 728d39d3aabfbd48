#include <fstream>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "siprec/rs_metadata.hpp"

namespace siprecd::siprec {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string fixture(const std::string& name) {
  std::ifstream file(std::string(SIPRECD_TEST_DATA_DIR) + "/siprec_metadata/" + name,
                     std::ios::binary);
  EXPECT_TRUE(file.good()) << name;
  std::ostringstream content;
  content << file.rdbuf();
  return content.str();
}

RsMetadata parseFixture(const std::string& name) {
  auto parsed = parseRsMetadata(fixture(name));
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

constexpr int64_t k2010_12_16T23_41_07 = 1292542867000;

TEST(RsMetadataParser, ReadsRfc7865CompleteExample) {
  const RsMetadata metadata = parseFixture("rfc7865_complete.xml");
  EXPECT_EQ(metadata.data_mode, DataMode::Complete);

  ASSERT_EQ(metadata.groups.size(), 1u);
  EXPECT_EQ(metadata.groups[0].id, "7+OTCyoxTmqmqyA/1weDAg==");
  EXPECT_EQ(metadata.groups[0].associate_time_ms, k2010_12_16T23_41_07);

  ASSERT_EQ(metadata.sessions.size(), 1u);
  const RsSession& session = metadata.sessions[0];
  EXPECT_EQ(session.id, "hVpd7YQgRW2nD22h7q60JQ==");
  EXPECT_EQ(session.group_id, "7+OTCyoxTmqmqyA/1weDAg==");
  EXPECT_THAT(
      session.sip_session_ids,
      ElementsAre("ab30317f1a784dc48ff824d0d3715d86;remote=47755a9de7794ba387653f2099600ef2"));
  EXPECT_EQ(session.start_time_ms, k2010_12_16T23_41_07);  // from sessionrecordingassoc
  EXPECT_FALSE(session.stop_time_ms.has_value());

  ASSERT_EQ(metadata.participants.size(), 2u);
  const RsParticipant& bob = metadata.participants[0];
  EXPECT_EQ(bob.id, "srfBElmCRp2QB23b7Mpk0w==");
  EXPECT_THAT(bob.aors, ElementsAre("sip:bob@biloxi.com"));
  EXPECT_EQ(bob.name, "Bob");
  EXPECT_TRUE(bob.streams_known);
  EXPECT_THAT(bob.send, ElementsAre("UAAMm5GRQKSCMVvLyl4rFw==", "i1Pz3to5hGk8fuXl+PbwCw=="));
  EXPECT_THAT(bob.recv, ElementsAre("8zc6e0lYTlWIINA6GR+3ag==", "EiXGlc+4TruqqoDaNE76ag=="));
  EXPECT_EQ(bob.associate_time_ms, k2010_12_16T23_41_07);
  EXPECT_FALSE(bob.disassociate_time_ms.has_value());
  EXPECT_THAT(bob.extension_xml, IsEmpty());

  const RsParticipant& paul = metadata.participants[1];
  EXPECT_EQ(paul.name, "Paul");
  EXPECT_THAT(paul.send, ElementsAre("8zc6e0lYTlWIINA6GR+3ag==", "EiXGlc+4TruqqoDaNE76ag=="));

  ASSERT_EQ(metadata.streams.size(), 4u);
  EXPECT_EQ(metadata.streams[0].id, "UAAMm5GRQKSCMVvLyl4rFw==");
  EXPECT_EQ(metadata.streams[0].label, "96");
  EXPECT_EQ(metadata.streams[0].session_id, "hVpd7YQgRW2nD22h7q60JQ==");
  EXPECT_EQ(metadata.streams[3].label, "99");
  EXPECT_THAT(metadata.extension_xml, IsEmpty());
}

TEST(RsMetadataParser, PartialUpdateCreatesParticipantsNamedOnlyByAssociations) {
  const RsMetadata metadata = parseFixture("rfc7865_partial_participant_leaves.xml");
  EXPECT_EQ(metadata.data_mode, DataMode::Partial);
  ASSERT_EQ(metadata.participants.size(), 1u);
  const RsParticipant& paul = metadata.participants[0];
  EXPECT_EQ(paul.id, "zSfPoSvdSDCmU3A3TRDxAw==");
  EXPECT_EQ(paul.disassociate_time_ms, 1292543427250);
  EXPECT_FALSE(paul.associate_time_ms.has_value());
  EXPECT_TRUE(paul.streams_known);  // the empty participantstreamassoc says: sends nothing
  EXPECT_THAT(paul.send, IsEmpty());
  EXPECT_THAT(paul.aors, IsEmpty());
}

TEST(RsMetadataParser, AcceptsDraftNamespaceAndLegacyOracleForm) {
  const RsMetadata metadata = parseFixture("oracle_draft_namespace.xml");
  ASSERT_EQ(metadata.sessions.size(), 1u);
  EXPECT_EQ(metadata.sessions[0].id, "BYiC7uSZQGN3VQdzWI1HWw==");
  EXPECT_EQ(metadata.sessions[0].start_time_ms, 1340718253000);  // no zone: UTC

  ASSERT_EQ(metadata.participants.size(), 2u);
  const RsParticipant& sipp = metadata.participants[0];
  EXPECT_EQ(sipp.id, "hq18GJs3TtJdhjPsfPNV8A==");
  EXPECT_THAT(sipp.aors, ElementsAre("sip:sipp@192.168.10.1"));
  EXPECT_EQ(sipp.name, "sipp");
  EXPECT_THAT(sipp.send, ElementsAre("aD50KX+LTvxNzASg+/GQTg=="));
  EXPECT_EQ(sipp.associate_time_ms, 1340718253000);
  EXPECT_THAT(sipp.extension_xml, HasSubstr("<apkt:callingParty>true</apkt:callingParty>"));
  EXPECT_THAT(sipp.extension_xml,
              HasSubstr("xmlns:apkt=\"http://acmepacket.com/siprec/extensiondata\""));

  const RsParticipant& sut = metadata.participants[1];
  EXPECT_THAT(sut.aors, ElementsAre("sip:service@192.168.101.13"));
  EXPECT_EQ(sut.name, "sut");  // trimmed

  ASSERT_EQ(metadata.streams.size(), 2u);
  EXPECT_EQ(metadata.streams[1].id, "+E8ieo/zQZaB5v0N9DNgMg==");
  EXPECT_EQ(metadata.streams[1].session_id, "BYiC7uSZQGN3VQdzWI1HWw==");
  EXPECT_EQ(metadata.streams[1].label, "2");
  EXPECT_THAT(metadata.streams[1].extension_xml, HasSubstr("<mode>separate</mode>"));
}

TEST(RsMetadataParser, AcceptsPrefixedNamespaceAndKeepsForeignElementsAsExtensions) {
  const RsMetadata metadata = parseFixture("prefixed_namespace.xml");
  ASSERT_EQ(metadata.sessions.size(), 1u);
  EXPECT_EQ(metadata.sessions[0].start_time_ms, 1710059759123);
  // The prefix declared on the root travels with the extension so it stays parseable.
  EXPECT_EQ(metadata.sessions[0].extension_xml,
            "<ac:AvayaUCID xmlns:ac=\"http://AudioCodes\">FA080030C4E34B5B9E59</ac:AvayaUCID>");

  ASSERT_EQ(metadata.participants.size(), 2u);
  EXPECT_THAT(metadata.participants[0].aors, ElementsAre("7000@10.33.2.40"));
  EXPECT_EQ(metadata.participants[0].name, "7000");
  EXPECT_THAT(metadata.participants[0].extension_xml, HasSubstr(">agent</ac:role>"));
  EXPECT_THAT(metadata.participants[1].send, ElementsAre("1836597c-0000-0000-0000-0000000000e5"));
  ASSERT_EQ(metadata.streams.size(), 2u);
  EXPECT_EQ(metadata.streams[1].label, "2");
}

TEST(RsMetadataParser, AcceptsNoNamespaceAndAnyElementOrder) {
  const RsMetadata metadata = parseFixture("no_namespace_shuffled.xml");
  EXPECT_EQ(metadata.data_mode, DataMode::Complete);
  ASSERT_EQ(metadata.participants.size(), 2u);
  // Document order of first mention: the association came before the participant.
  EXPECT_EQ(metadata.participants[0].id, "p-callee");
  EXPECT_EQ(metadata.participants[0].name, "Callee");
  EXPECT_THAT(metadata.participants[0].send, ElementsAre("s-2"));

  const RsParticipant* caller = findParticipant(metadata, "p-caller");
  ASSERT_NE(caller, nullptr);
  EXPECT_THAT(caller->aors, ElementsAre("sip:caller@example.com"));
  EXPECT_THAT(caller->send, ElementsAre("s-1"));
  EXPECT_THAT(caller->recv, ElementsAre("s-2"));
  EXPECT_EQ(caller->associate_time_ms, 1674116473382);  // microseconds truncated

  ASSERT_EQ(metadata.sessions.size(), 1u);
  EXPECT_EQ(metadata.sessions[0].start_time_ms, 1674116473000);
  EXPECT_EQ(metadata.sessions[0].sip_session_ids.size(), 1u);
  ASSERT_EQ(metadata.streams.size(), 2u);
  EXPECT_EQ(metadata.streams[0].id, "s-2");
  EXPECT_EQ(metadata.streams[1].label, "a");
}

TEST(RsMetadataParser, ElementWithRedeclaredDefaultNamespaceIsAnExtension) {
  const RsMetadata metadata = parseFixture("twilio_session_extension.xml");
  ASSERT_EQ(metadata.sessions.size(), 1u);
  EXPECT_THAT(metadata.sessions[0].extension_xml,
              HasSubstr("<ExtensionParameters xmlns=\"http://provider.com/siprec\">"));
  EXPECT_THAT(metadata.sessions[0].extension_xml, HasSubstr("value=\"Kiana Anderson\""));
  EXPECT_EQ(metadata.sessions[0].start_time_ms, 1674116473382);
  EXPECT_THAT(metadata.participants[0].aors, ElementsAre("EE5C7EF0"));
  EXPECT_EQ(metadata.streams[1].label, "outbound");
}

TEST(RsMetadataParser, ReadsRibbonPartialWithCapitalisedDataModeAndLegacyTimes) {
  const RsMetadata metadata = parseFixture("ribbon_bye_partial.xml");
  EXPECT_EQ(metadata.data_mode, DataMode::Partial);
  ASSERT_EQ(metadata.participants.size(), 2u);
  EXPECT_EQ(metadata.participants[0].disassociate_time_ms, 1782363495000);
  EXPECT_EQ(metadata.participants[1].disassociate_time_ms, 1782363495000);
  EXPECT_FALSE(metadata.participants[0].streams_known);
}

TEST(RsMetadataParser, ReadsBroadWorksEarlyDraftForm) {
  const RsMetadata metadata = parseFixture("broadworks_early_draft.xml");
  ASSERT_EQ(metadata.sessions.size(), 1u);
  const RsSession& session = metadata.sessions[0];
  EXPECT_EQ(session.group_id, "urn:uuid:9529b910-87b6-4299-a6fe-350f0dcb1f5e");
  EXPECT_EQ(session.start_time_ms, 1466588683000);
  // <extensiondata parent="session id"> is attached to that session.
  EXPECT_THAT(session.extension_xml, HasSubstr("<extTrackingID>8028549:1</extTrackingID>"));
  ASSERT_EQ(metadata.participants.size(), 1u);
  EXPECT_THAT(metadata.participants[0].send,
              ElementsAre("urn:uuid:b1ced587-d73d-42a5-8f82-0594d45cbf73"));
  ASSERT_EQ(metadata.groups.size(), 1u);
  EXPECT_THAT(metadata.extension_xml, HasSubstr("<requestor>SRC</requestor>"));
}

TEST(RsMetadataParser, KeepsUnknownTopLevelElements) {
  const auto parsed = parseRsMetadata(
      "<recording xmlns='urn:ietf:params:xml:ns:recording:1' xmlns:x='urn:example:x'>"
      "<x:callInfo id='7'>abc</x:callInfo><futureElement a='1'/></recording>");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->extension_xml,
            "<x:callInfo xmlns:x=\"urn:example:x\" id=\"7\">abc</x:callInfo>"
            "<futureElement a=\"1\"/>");
}

TEST(RsMetadataParser, RejectsMalformedXml) {
  for (const char* xml :
       {"", "not xml", "<recording><participant></recording>",
        "<recording xmlns='urn:ietf:params:xml:ns:recording:1'>", "<recording/><recording/>"}) {
    const auto parsed = parseRsMetadata(xml);
    ASSERT_FALSE(parsed.has_value()) << xml;
    EXPECT_EQ(parsed.error().code, 400) << xml;
  }
}

TEST(RsMetadataParser, RejectsWrongRootElement) {
  for (const char* xml :
       {"<session xmlns='urn:ietf:params:xml:ns:recording:1'/>",
        "<recording xmlns='urn:example:other'/>", "<x:recording xmlns:x='urn:example:other'/>"}) {
    const auto parsed = parseRsMetadata(xml);
    ASSERT_FALSE(parsed.has_value()) << xml;
    EXPECT_EQ(parsed.error().code, 400);
    EXPECT_THAT(parsed.error().message, HasSubstr("root"));
  }
}

TEST(RsMetadataParser, EnforcesSizeElementAndDepthLimits) {
  RsMetadataLimits limits;
  limits.max_bytes = 64;
  auto parsed = parseRsMetadata(std::string(65, ' '), limits);
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error().code, 413);

  limits = RsMetadataLimits{};
  limits.max_elements = 3;
  parsed = parseRsMetadata("<recording><a/><b/><c/></recording>", limits);
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error().code, 413);
  EXPECT_TRUE(parseRsMetadata("<recording><a/><b/></recording>", limits).has_value());

  limits = RsMetadataLimits{};
  limits.max_depth = 3;
  parsed = parseRsMetadata("<recording><a><b><c/></b></a></recording>", limits);
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error().code, 400);
  EXPECT_TRUE(parseRsMetadata("<recording><a><b/></a></recording>", limits).has_value());
}

TEST(RsMetadataParser, ToleratesMissingIdsAndBadTimes) {
  const auto parsed = parseRsMetadata(
      "<recording><participant><nameID aor='sip:x@y'/></participant>"
      "<participant participant_id='p'><associate-time>yesterday</associate-time></participant>"
      "<datamode>sometimes</datamode></recording>");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->data_mode, DataMode::Complete);
  ASSERT_EQ(parsed->participants.size(), 1u);
  EXPECT_EQ(parsed->participants[0].id, "p");
  EXPECT_FALSE(parsed->participants[0].associate_time_ms.has_value());
}

TEST(RsMetadataParser, AssociationTimeWinsOverLegacyParticipantTime) {
  const auto parsed = parseRsMetadata(
      "<recording>"
      "<participantsessionassoc participant_id='p'>"
      "<associate-time>2010-12-16T23:41:07Z</associate-time></participantsessionassoc>"
      "<participant participant_id='p'><start-time>1999-01-01T00:00:00Z</start-time>"
      "</participant></recording>");
  ASSERT_TRUE(parsed.has_value());
  ASSERT_EQ(parsed->participants.size(), 1u);
  EXPECT_EQ(parsed->participants[0].associate_time_ms, k2010_12_16T23_41_07);
}

TEST(RsMetadataParser, ReplacesInvalidUtf8SoJsonCanBeDumped) {
  const auto parsed = parseRsMetadata(
      "<recording><participant participant_id='p'><nameID aor='sip:a@b'>"
      "<name>Bad\xff\xfe name</name></nameID></participant></recording>");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->participants[0].name, "Bad\xEF\xBF\xBD\xEF\xBF\xBD name");
  EXPECT_NO_THROW((void)rsMetadataToJson(*parsed).dump());
}

TEST(RsMetadataParser, DeduplicatesRepeatedStreamReferencesAndAors) {
  const auto parsed = parseRsMetadata(
      "<recording><participant participant_id='p'><nameID aor='sip:a@b'/>"
      "<nameID aor='sip:a@b'/><nameID aor='tel:+1555'/></participant>"
      "<participantstreamassoc "
      "participant_id='p'><send>s</send><send>s</send></participantstreamassoc>"
      "<participantstreamassoc "
      "participant_id='p'><send>s</send><recv>r</recv></participantstreamassoc>"
      "</recording>");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_THAT(parsed->participants[0].aors, ElementsAre("sip:a@b", "tel:+1555"));
  EXPECT_THAT(parsed->participants[0].send, ElementsAre("s"));
  EXPECT_THAT(parsed->participants[0].recv, ElementsAre("r"));
}

}  // namespace
}  // namespace siprecd::siprec
