#include "storage/destination_factory.hpp"

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

namespace siprecd::storage {
namespace {

TEST(DestinationFactory, BuildsAFileDestinationThatStores) {
  test_support::TempDir temp;
  DestinationSettings settings;
  settings.name = "archive";
  settings.type = "file";
  settings.path = temp.path() / "archive";
  auto destination = makeDestination(settings);
  ASSERT_TRUE(destination) << destination.error().message;
  EXPECT_EQ((*destination)->kind(), "file");
  auto stored = (*destination)->put(temp.write("a.wav", "abc"), "x/a.wav", "audio/wav");
  ASSERT_TRUE(stored);
  EXPECT_TRUE(std::filesystem::exists(temp.path() / "archive/x/a.wav"));
}

TEST(DestinationFactory, FileNeedsAPath) {
  DestinationSettings settings;
  settings.name = "archive";
  auto destination = makeDestination(settings);
  ASSERT_FALSE(destination);
  EXPECT_NE(destination.error().message.find("archive"), std::string::npos);
}

TEST(DestinationFactory, RejectsModesBeyondPermissionBits) {
  DestinationSettings settings;
  settings.path = "/tmp/x";
  settings.file_mode = 0100644;
  EXPECT_FALSE(makeDestination(settings));
}

TEST(DestinationFactory, BuildsAnHttpDestination) {
  DestinationSettings settings;
  settings.type = "http";
  auto destination = makeDestination(settings);
  ASSERT_TRUE(destination);
  EXPECT_EQ((*destination)->kind(), "http");
}

TEST(DestinationFactory, RejectsUnknownTypeNamingIt) {
  DestinationSettings settings;
  settings.type = "ftp";
  auto destination = makeDestination(settings);
  ASSERT_FALSE(destination);
  EXPECT_NE(destination.error().message.find("ftp"), std::string::npos);
}

}  // namespace
}  // namespace siprecd::storage
