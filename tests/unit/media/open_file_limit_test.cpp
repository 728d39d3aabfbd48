#include "media/open_file_limit.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include "base/unique_fd.hpp"

namespace siprecd::media {
namespace {

TEST(OpenFileLimit, RaisesTheSoftLimitToTheHardOne) {
  rlimit original{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &original), 0);
  if (original.rlim_max == RLIM_INFINITY || original.rlim_max < 256) {
    GTEST_SKIP() << "hard open-file limit unsuitable for the test";
  }
  rlimit lowered = original;
  lowered.rlim_cur = 128;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &lowered), 0);
  const auto raised = raiseOpenFileLimit();
  rlimit now{};
  ::getrlimit(RLIMIT_NOFILE, &now);
  ::setrlimit(RLIMIT_NOFILE, &original);
  ASSERT_TRUE(raised) << raised.error().message;
  EXPECT_EQ(raised->soft_before, 128U);
  EXPECT_EQ(raised->soft, original.rlim_max);
  EXPECT_EQ(raised->hard, original.rlim_max);
  EXPECT_EQ(now.rlim_cur, original.rlim_max);
}

TEST(OpenFileLimit, CountsOpenDescriptors) {
  const int64_t before = openDescriptorCount();
  ASSERT_GE(before, 3);  // at least stdin, stdout, stderr
  {
    UniqueFd one(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    UniqueFd two(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(one.valid() && two.valid());
    EXPECT_EQ(openDescriptorCount(), before + 2);
  }
  EXPECT_EQ(openDescriptorCount(), before);
}

}  // namespace
}  // namespace siprecd::media
