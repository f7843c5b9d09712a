// Time is a parameter: code below cli/ takes a Clock& and never calls now() itself, so tests can
// move time (STYLE.md §9.3). Seconds since the Unix epoch are what JWT claims use.
#pragma once

#include <chrono>
#include <atomic>
#include <cstdint>

namespace fapigate::core {

class Clock {
public:
  virtual ~Clock() = default;
  // Seconds since the Unix epoch.
  virtual std::int64_t now() const = 0;
};

class SystemClock final : public Clock {
public:
  std::int64_t now() const override {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// A clock tests set by hand.
// Atomic: background threads (gw::KeyRefresher) read it while a test moves it.
class ManualClock final : public Clock {
public:
  explicit ManualClock(std::int64_t t) : t_(t) {}
  std::int64_t now() const override { return t_.load(std::memory_order_relaxed); }
  void set(std::int64_t t) { t_.store(t, std::memory_order_relaxed); }
  void advance(std::int64_t d) { t_.fetch_add(d, std::memory_order_relaxed); }

private:
  std::atomic<std::int64_t> t_;
};

}  // namespace fapigate::core
