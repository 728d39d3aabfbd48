#include "control/command_parser.hpp"

#include <memory>
#include <string>

#include <gtest/gtest.h>

namespace siprecd::control {
namespace {

using nlohmann::json;

/// A destination whose kind is all the parser looks at.
class KindDestination final : public storage::Destination {
 public:
  explicit KindDestination(std::string kind) : kind_(std::move(kind)) {}
  std::string_view kind() const override { return kind_; }
  Result<storage::StoredObject> put(const std::filesystem::path&, std::string_view,
                                    std::string_view) override {
    return fail("not used");
  }

 private:
  std::string kind_;
};

DomainSettings domainSettings() {
  DomainSettings domain;
  domain.name = "acme";
  domain.destinations["local"] =
      NamedDestination{"local", std::make_shared<KindDestination>("file")};
  domain.destinations["archive"] =
      NamedDestination{"archive", std::make_shared<KindDestination>("s3")};
  domain.destinations["upload"] =
      NamedDestination{"upload", std::make_shared<KindDestination>("http")};
  return domain;
}

constexpr int64_t kStart = 1'700'000'000'000;
const RecordingTimeline kTimeline{kStart, kStart + 60'000};

CommandRequest command(std::string method, json body) {
  return CommandRequest{"acme", std::move(method), std::move(body), ""};
}

Result<StoreRequest> store(const json& body) {
  return parseStoreRequest(body, domainSettings(), "rec-1", kTimeline);
}

/// The error message of a failed store parse ("" when it succeeded).
std::string storeError(const json& body) {
  auto result = store(body);
  if (result) {
    return "";
  }
  EXPECT_EQ(result.error().code, 400);
  return result.error().message;
}

TEST(CommandMethodNames, RoundTripAndAcceptLowerCase) {
  for (auto method : {CommandMethod::StoreRecording, CommandMethod::DeleteRecording,
                      CommandMethod::StopRecording, CommandMethod::CancelRecording,
                      CommandMethod::PauseRecording, CommandMethod::ResumeRecording}) {
    EXPECT_EQ(parseCommandMethod(commandName(method)), method);
  }
  EXPECT_EQ(parseCommandMethod("pauserecording"), CommandMethod::PauseRecording);
  EXPECT_EQ(commandName(CommandMethod::DeleteRecording), "DELETERECORDING");
  EXPECT_FALSE(parseCommandMethod("recordings"));
  EXPECT_FALSE(parseCommandMethod(""));
}

TEST(CommandEnvelope, ParsesRecordingIdAndReplyId) {
  auto envelope = parseCommandEnvelope(command(
      "STORERECORDING",
      {{"method", "storerecording"}, {"recordingId", "rec-1"}, {"replyId", "tok"}, {"x", 1}}));
  ASSERT_TRUE(envelope) << envelope.error().message;
  EXPECT_EQ(envelope->method, CommandMethod::StoreRecording);
  EXPECT_EQ(envelope->recording_id, "rec-1");
  EXPECT_EQ(envelope->reply_id, "tok");

  auto without_method = parseCommandEnvelope(command("STOPRECORDING", {{"recordingId", "r"}}));
  ASSERT_TRUE(without_method);
  EXPECT_FALSE(without_method->reply_id);
}

TEST(CommandEnvelope, RejectsBadEnvelopesNamingTheField) {
  struct Case {
    json body;
    std::string field;
  };
  const Case cases[] = {
      {json::array(), "body:"},
      {json("text"), "body:"},
      {{{"method", "DELETERECORDING"}, {"recordingId", "r"}}, "method:"},
      {{{"method", 7}, {"recordingId", "r"}}, "method:"},
      {json::object(), "recordingId: is required"},
      {{{"recordingId", ""}}, "recordingId: must not be empty"},
      {{{"recordingId", 12}}, "recordingId: must be a string"},
      {{{"recordingId", std::string(129, 'r')}}, "recordingId: longer than 128"},
      {{{"recordingId", "r"}, {"replyId", 5}}, "replyId: must be a string"},
      {{{"recordingId", "r"}, {"replyId", ""}}, "replyId: must not be empty"},
  };
  for (const auto& c : cases) {
    auto result = parseCommandEnvelope(command("STORERECORDING", c.body));
    ASSERT_FALSE(result) << c.body.dump();
    EXPECT_EQ(result.error().code, 400) << c.body.dump();
    EXPECT_EQ(result.error().message.rfind(c.field, 0), 0u)
        << c.body.dump() << " -> " << result.error().message;
  }
}

TEST(CommandEnvelope, UnknownCommandIs404) {
  auto result = parseCommandEnvelope(command("EXPLODE", {{"recordingId", "r"}}));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, 404);
}

TEST(StoreRequestParser, DefaultsToLocalWavStereoWithoutEdits) {
  auto request = store({{"recordingId", "rec-1"}});
  ASSERT_TRUE(request) << request.error().message;
  EXPECT_EQ(request->domain, "acme");
  EXPECT_EQ(request->recording_id, "rec-1");
  EXPECT_EQ(request->destination, "local");
  EXPECT_FALSE(request->key_template);
  EXPECT_EQ(request->format, recording::AudioFormat::Wav);
  EXPECT_EQ(request->layout, recording::ChannelLayout::Stereo);
  EXPECT_TRUE(request->masks.empty());
  EXPECT_FALSE(request->trim);
}

TEST(StoreRequestParser, ReadsDestinationKeyFormatAndLayout) {
  auto request = store({{"destination", "archive"},
                        {"key", "{domain}/{recordingId}.{ext}"},
                        {"format", "FLAC"},
                        {"layout", "multitrack"}});
  ASSERT_TRUE(request) << request.error().message;
  EXPECT_EQ(request->destination, "archive");
  EXPECT_EQ(request->key_template, "{domain}/{recordingId}.{ext}");
  EXPECT_EQ(request->format, recording::AudioFormat::Flac);
  EXPECT_EQ(request->layout, recording::ChannelLayout::Multitrack);

  auto by_path = store({{"path", "calls/{recordingId}.{ext}"}, {"format", "opus"}});
  ASSERT_TRUE(by_path);
  EXPECT_EQ(by_path->key_template, "calls/{recordingId}.{ext}");
  EXPECT_EQ(by_path->format, recording::AudioFormat::Opus);
}

TEST(StoreRequestParser, HttpDestinationNeedsAUrlOthersRefuseOne) {
  auto builtin = store({{"destination", "http"}, {"url", "https://bucket.example/put?sig=1"}});
  ASSERT_TRUE(builtin) << builtin.error().message;
  EXPECT_EQ(builtin->url, "https://bucket.example/put?sig=1");
  auto configured = store({{"destination", "upload"}, {"url", "http://10.0.0.1/x"}});
  ASSERT_TRUE(configured) << configured.error().message;

  EXPECT_EQ(storeError({{"destination", "http"}}).rfind("url: is required", 0), 0u);
  EXPECT_EQ(storeError({{"destination", "upload"}}).rfind("url: is required", 0), 0u);
  EXPECT_EQ(storeError({{"destination", "http"}, {"url", "ftp://x/y"}}).rfind("url:", 0), 0u);
  EXPECT_EQ(storeError({{"url", "https://x/y"}}).rfind("url: only allowed", 0), 0u);
}

TEST(StoreRequestParser, RejectsUnknownOrMalformedTopLevelFields) {
  EXPECT_EQ(storeError({{"destination", "nowhere"}}).rfind("destination: unknown destination", 0),
            0u);
  EXPECT_NE(storeError({{"destination", "nowhere"}}).find("archive"), std::string::npos);
  EXPECT_EQ(storeError({{"destination", 3}}).rfind("destination: must be a string", 0), 0u);
  EXPECT_EQ(storeError({{"format", "aiff"}}).rfind("format: unknown format \"aiff\"", 0), 0u);
  EXPECT_EQ(storeError({{"layout", "surround"}}).rfind("layout: unknown layout", 0), 0u);
  EXPECT_EQ(storeError({{"key", "a"}, {"path", "b"}}).rfind("path:", 0), 0u);
  EXPECT_EQ(storeError({{"key", ""}}).rfind("key: must not be empty", 0), 0u);
  EXPECT_EQ(storeError({{"key", "../../outside.{ext}"}}).rfind("key:", 0), 0u);
  EXPECT_EQ(storeError({{"path", "{nope}.wav"}}).rfind("path:", 0), 0u);
  EXPECT_EQ(storeError({{"key", "/abs/{recordingId}"}}).rfind("key:", 0), 0u);
  EXPECT_EQ(storeError({{"modificationParams", "trim"}}).rfind("modificationParams: must be", 0),
            0u);
  EXPECT_EQ(storeError({{"modificationParams", {{"absoluteTimes", "yes"}}}})
                .rfind("modificationParams.absoluteTimes:", 0),
            0u);
  EXPECT_EQ(storeError({{"modificationParams", {{"trimm", {{"from", 1}}}}}})
                .rfind("modificationParams.trimm: unknown field", 0),
            0u);
}

TEST(StoreRequestParser, RelativeTimesAreOffsetsFromTheStart) {
  auto request = store({{"modificationParams",
                         {{"trim", {{"from", 1000}, {"to", 20000}}},
                          {"mask", {{"from", 5000}, {"to", 7500}, {"type", "silence"}}}}}});
  ASSERT_TRUE(request) << request.error().message;
  ASSERT_TRUE(request->trim);
  EXPECT_EQ(request->trim->from_ms, kStart + 1000);
  EXPECT_EQ(request->trim->to_ms, kStart + 20000);
  ASSERT_EQ(request->masks.size(), 1u);
  EXPECT_EQ(request->masks[0].span.from_ms, kStart + 5000);
  EXPECT_EQ(request->masks[0].span.to_ms, kStart + 7500);
  EXPECT_EQ(request->masks[0].kind, recording::MaskKind::Silence);
}

TEST(StoreRequestParser, AbsoluteTimesAreKeptAsEpochMilliseconds) {
  auto request = store({{"modificationParams",
                         {{"absoluteTimes", true},
                          {"trim", {{"from", kStart + 10}, {"to", kStart + 900}}},
                          {"mask",
                           {{{"from", kStart + 100}, {"to", kStart + 200}},
                            {{"from", kStart + 300}, {"to", kStart + 400}, {"type", "BEEP"}}}}}}});
  ASSERT_TRUE(request) << request.error().message;
  EXPECT_EQ(request->trim->from_ms, kStart + 10);
  EXPECT_EQ(request->trim->to_ms, kStart + 900);
  ASSERT_EQ(request->masks.size(), 2u);
  EXPECT_EQ(request->masks[0].kind, recording::MaskKind::Beep);  // the default type
  EXPECT_EQ(request->masks[1].span.from_ms, kStart + 300);
  EXPECT_EQ(request->masks[1].kind, recording::MaskKind::Beep);
}

TEST(StoreRequestParser, OpenTrimEndsTakeTheRecordingsBounds) {
  auto from_only = store({{"modificationParams", {{"trim", {{"from", 2000}}}}}});
  ASSERT_TRUE(from_only) << from_only.error().message;
  EXPECT_EQ(from_only->trim->from_ms, kStart + 2000);
  EXPECT_EQ(from_only->trim->to_ms, kStart + 60'000);
  auto to_only = store({{"modificationParams", {{"trim", {{"to", 3000}}}}}});
  ASSERT_TRUE(to_only);
  EXPECT_EQ(to_only->trim->from_ms, kStart);
  EXPECT_EQ(to_only->trim->to_ms, kStart + 3000);
  // A start beyond the end of the recording leaves nothing.
  EXPECT_EQ(storeError({{"modificationParams", {{"trim", {{"from", 70'000}}}}}})
                .rfind("modificationParams.trim.from:", 0),
            0u);
}

TEST(StoreRequestParser, FractionalMillisecondsAreRounded) {
  auto request = store({{"modificationParams", {{"trim", {{"from", 10.6}, {"to", 20.2}}}}}});
  ASSERT_TRUE(request) << request.error().message;
  EXPECT_EQ(request->trim->from_ms, kStart + 11);
  EXPECT_EQ(request->trim->to_ms, kStart + 20);
}

TEST(StoreRequestParser, InvalidWindowsNameTheField) {
  struct Case {
    json params;
    std::string prefix;
  };
  const Case cases[] = {
      {{{"trim", {{"from", 500}, {"to", 100}}}}, "modificationParams.trim.to: must be greater"},
      {{{"trim", {{"from", 500}, {"to", 500}}}}, "modificationParams.trim.to: must be greater"},
      {{{"trim", {{"from", -1}, {"to", 100}}}},
       "modificationParams.trim.from: must not be negative"},
      {{{"trim", {{"from", "10"}, {"to", 100}}}}, "modificationParams.trim.from: must be a number"},
      {{{"trim", json::object()}}, "modificationParams.trim.from: is required"},
      {{{"trim", {{"from", 1}, {"until", 2}}}}, "modificationParams.trim.until: unknown field"},
      {{{"trim", 5}}, "modificationParams.trim: must be an object"},
      {{{"mask", {{"from", 10}}}}, "modificationParams.mask.to: is required"},
      {{{"mask", {{"to", 10}}}}, "modificationParams.mask.from: is required"},
      {{{"mask", {{"from", 10}, {"to", 20}, {"type", "bleep"}}}},
       "modificationParams.mask.type: unknown mask type \"bleep\""},
      {{{"mask", {{"from", 10}, {"to", 20}, {"type", 1}}}}, "modificationParams.mask.type:"},
      {{{"mask", {{{"from", 1}, {"to", 2}}, {{"from", 30}, {"to", 20}}}}},
       "modificationParams.mask[1].to: must be greater"},
      {{{"mask", {{{"from", 1}, {"to", 2}}, "x"}}},
       "modificationParams.mask[1]: must be an object"},
      {{{"mask", {{{"from", 1}, {"to", 2}, {"kind", "beep"}}}}},
       "modificationParams.mask[0].kind: unknown field"},
      {{{"mask", {{{"from", 1}, {"to", nullptr}}}}}, "modificationParams.mask[0].to: must be"},
      {{{"trim", {{"from", 1e300}, {"to", 2e300}}}}, "modificationParams.trim.from: is too large"},
  };
  for (const auto& c : cases) {
    const std::string message = storeError({{"modificationParams", c.params}});
    EXPECT_EQ(message.rfind(c.prefix, 0), 0u) << c.params.dump() << " -> " << message;
  }
}

TEST(StoreRequestParser, NullModificationParamsMeanNone) {
  auto request = store({{"modificationParams", nullptr}});
  ASSERT_TRUE(request);
  auto empty_parts = store({{"modificationParams", {{"trim", nullptr}, {"mask", json::array()}}}});
  ASSERT_TRUE(empty_parts);
  EXPECT_FALSE(empty_parts->trim);
  EXPECT_TRUE(empty_parts->masks.empty());
}

}  // namespace
}  // namespace siprecd::control
