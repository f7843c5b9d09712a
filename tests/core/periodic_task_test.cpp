// core::PeriodicTask: runs again and again, survives a throwing run, and stops at once when
// destroyed even with a long interval.
#include "core/periodic_task.hpp"

#include "support/wait_until.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

namespace fapigate::core {
namespace {

using namespace std::chrono_literals;

using testing::wait_until;

TEST(PeriodicTask, RunsRepeatedlyUntilDestroyed) {
  std::atomic<int> calls{0};
  {
    PeriodicTask task("test", 5ms, [&] { ++calls; });
    EXPECT_TRUE(wait_until([&] { return calls.load() >= 3; }));
    EXPECT_GE(task.runs(), 2u);
  }
  const int after = calls.load();
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(calls.load(), after) << "nothing runs after the destructor";
}

TEST(PeriodicTask, AThrowingRunDoesNotEndTheTask) {
  std::atomic<int> calls{0};
  PeriodicTask task("test", 5ms, [&] {
    if (++calls == 1) {
      throw std::runtime_error("first run fails");
    }
  });
  EXPECT_TRUE(wait_until([&] { return calls.load() >= 3; }));
}

TEST(PeriodicTask, DestroyingDoesNotWaitForTheInterval) {
  const auto t0 = std::chrono::steady_clock::now();
  { PeriodicTask task("test", std::chrono::hours(1), [] {}); }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
}

}  // namespace
}  // namespace fapigate::core
