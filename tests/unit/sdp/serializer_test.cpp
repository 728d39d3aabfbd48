#include "sdp/serializer.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "sdp/parser.hpp"

namespace siprecd::sdp {
namespace {

std::string readFile(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream buffer;
  buffer << file.rdbuf();
  return buffer.str();
}

TEST(SdpSerializer, WritesCrlfLinesInRfcOrder) {
  // Lines deliberately out of RFC 4566 order; the serializer restores it.
  auto sdp = parseSdp(
      "v=0\n"
      "o=- 42 7 IN IP4 192.0.2.1\n"
      "a=tool:x\n"
      "t=0 0\n"
      "k=clear:abc\n"
      "b=CT:128\n"
      "c=IN IP4 192.0.2.1\n"
      "i=info\n"
      "s=session\n"
      "m=audio 4000/2 RTP/AVP 0 101\n"
      "a=rtpmap:101 telephone-event/8000\n"
      "k=prompt\n"
      "c=IN IP4 192.0.2.2\n"
      "i=media info\n"
      "b=AS:64\n"
      "a=rtcp-mux\n");
  ASSERT_TRUE(sdp) << sdp.error().message;
  EXPECT_EQ(serializeSdp(*sdp),
            "v=0\r\n"
            "o=- 42 7 IN IP4 192.0.2.1\r\n"
            "s=session\r\n"
            "i=info\r\n"
            "c=IN IP4 192.0.2.1\r\n"
            "b=CT:128\r\n"
            "t=0 0\r\n"
            "k=clear:abc\r\n"
            "a=tool:x\r\n"
            "m=audio 4000/2 RTP/AVP 0 101\r\n"
            "i=media info\r\n"
            "c=IN IP4 192.0.2.2\r\n"
            "b=AS:64\r\n"
            "k=prompt\r\n"
            "a=rtpmap:101 telephone-event/8000\r\n"
            "a=rtcp-mux\r\n");
}

TEST(SdpSerializer, WritesDefaultsForAnEmptyModel) {
  SessionDescription sdp;
  sdp.origin.session_id = "1";
  sdp.origin.session_version = "2";
  sdp.origin.address = "192.0.2.9";
  sdp.session_name.clear();
  EXPECT_EQ(serializeSdp(sdp), "v=0\r\no=- 1 2 IN IP4 192.0.2.9\r\ns=-\r\nt=0 0\r\n");
}

TEST(SdpSerializer, RoundTripOfEveryFixtureIsStable) {
  int fixtures = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(SIPRECD_TEST_DATA_DIR) + "/sdp")) {
    SCOPED_TRACE(entry.path().string());
    auto first = parseSdp(readFile(entry.path()));
    ASSERT_TRUE(first) << first.error().message;
    std::string text = serializeSdp(*first);
    auto second = parseSdp(text);
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_EQ(*first, *second);
    EXPECT_EQ(serializeSdp(*second), text);
    ++fixtures;
  }
  EXPECT_GE(fixtures, 2);
}

}  // namespace
}  // namespace siprecd::sdp
