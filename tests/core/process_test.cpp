#include "core/process.hpp"

#include <sys/resource.h>

#include <gtest/gtest.h>

namespace fapigate::core {
namespace {

// A server holds one descriptor per keep-alive connection: the soft limit goes up to the hard
// one at start, whatever it was.
TEST(Process, RaisesTheOpenFilesSoftLimitToTheHardLimit) {
  rlimit lim{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &lim), 0);
  if (lim.rlim_max > 64) {
    rlimit lowered = lim;
    lowered.rlim_cur = 64;  // as a restrictive shell would leave it
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &lowered), 0);
  }
  const FdLimit r = raise_open_files_limit();
  EXPECT_EQ(r.hard, lim.rlim_max);
  EXPECT_EQ(r.after, lim.rlim_max);
  if (lim.rlim_max > 64) {
    EXPECT_EQ(r.before, 64u);
  }
  rlimit now{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &now), 0);
  EXPECT_EQ(now.rlim_cur, lim.rlim_max);
}

TEST(Process, RaisingTwiceChangesNothing) {
  const FdLimit first = raise_open_files_limit();
  const FdLimit second = raise_open_files_limit();
  EXPECT_EQ(second.before, first.after);
  EXPECT_EQ(second.after, first.after);
}

}  // namespace
}  // namespace fapigate::core
