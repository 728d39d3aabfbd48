#include "storage/s3_part_plan.hpp"

#include <gtest/gtest.h>

#include "storage/aws_sigv4.hpp"
#include "support/temp_dir.hpp"

namespace siprecd::storage {
namespace {

constexpr uint64_t kMiB = 1ULL << 20;

TEST(S3PartPlan, MultipartFromTheThresholdOnOrBeyondOnePutsLimit) {
  EXPECT_FALSE(useMultipartUpload(16 * kMiB - 1, 16 * kMiB));
  EXPECT_TRUE(useMultipartUpload(16 * kMiB, 16 * kMiB));
  EXPECT_TRUE(useMultipartUpload(kS3MaxSinglePutBytes + 1, UINT64_MAX));
}

TEST(S3PartPlan, CutsFullPartsAndARemainder) {
  auto parts = planParts(17 * kMiB + 5, 8 * kMiB);
  ASSERT_TRUE(parts);
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[0].number, 1u);
  EXPECT_EQ((*parts)[0].offset, 0u);
  EXPECT_EQ((*parts)[0].size, 8 * kMiB);
  EXPECT_EQ((*parts)[1].offset, 8 * kMiB);
  EXPECT_EQ((*parts)[2].number, 3u);
  EXPECT_EQ((*parts)[2].offset, 16 * kMiB);
  EXPECT_EQ((*parts)[2].size, kMiB + 5);
}

TEST(S3PartPlan, ExactMultipleHasNoEmptyTail) {
  auto parts = planParts(10 * kMiB, 5 * kMiB);
  ASSERT_TRUE(parts);
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[1].size, 5 * kMiB);
}

TEST(S3PartPlan, RaisesPartsBelowTheS3Minimum) {
  auto parts = planParts(12 * kMiB, kMiB);
  ASSERT_TRUE(parts);
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[0].size, kS3MinPartBytes);
}

TEST(S3PartPlan, GrowsPartsToStayWithinTenThousand) {
  const uint64_t size = 100'000 * kMiB;  // ~98 GiB at 5 MiB would need 20000 parts
  auto parts = planParts(size, 5 * kMiB);
  ASSERT_TRUE(parts);
  EXPECT_LE(parts->size(), kS3MaxParts);
  EXPECT_EQ((*parts)[0].size % kMiB, 0u);
  EXPECT_EQ(parts->back().offset + parts->back().size, size);
}

TEST(S3PartPlan, EmptyObjectIsOneEmptyPartAndTooLargeFails) {
  auto parts = planParts(0, 8 * kMiB);
  ASSERT_TRUE(parts);
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].size, 0u);
  EXPECT_FALSE(planParts(kS3MaxObjectBytes + 1, 8 * kMiB));
}

TEST(S3PartPlan, DigestsTheFileAndEachPartInOnePass) {
  test_support::TempDir temp;
  std::string content(11 * kMiB + 3, '\0');
  for (std::size_t i = 0; i < content.size(); ++i) {
    content[i] = static_cast<char>((i * 131) % 251);
  }
  const auto file = temp.write("big.wav", content);
  auto parts = planParts(content.size(), 5 * kMiB);
  ASSERT_TRUE(parts);
  auto digests = digestParts(file, *parts);
  ASSERT_TRUE(digests) << digests.error().message;
  EXPECT_EQ(digests->file_size, content.size());
  EXPECT_EQ(digests->file_sha256, sha256Hex(content));
  ASSERT_EQ(digests->part_sha256.size(), 3u);
  for (std::size_t i = 0; i < parts->size(); ++i) {
    EXPECT_EQ(digests->part_sha256[i],
              sha256Hex(std::string_view(content).substr((*parts)[i].offset, (*parts)[i].size)));
  }
}

TEST(S3PartPlan, DigestFailsWhenTheFileDiffersFromThePlan) {
  test_support::TempDir temp;
  const auto file = temp.write("a.wav", "0123456789");
  EXPECT_FALSE(digestParts(file, {{1, 0, 5}}));   // larger than planned
  EXPECT_FALSE(digestParts(file, {{1, 0, 20}}));  // smaller
  EXPECT_FALSE(digestParts(temp.path() / "missing", {{1, 0, 1}}));
}

}  // namespace
}  // namespace siprecd::storage
