// Background upkeep on its own thread: runs `work` every `interval` until destroyed, then stops
// and joins (a run in progress finishes first; the wait between runs ends at once). An
// exception from `work` is logged under the task's name and never ends the thread. Used for
// the gateway's issuer-key refresh and the store's purge of expired rows.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace fapigate::core {

class PeriodicTask {
public:
  PeriodicTask(std::string name, std::chrono::milliseconds interval, std::function<void()> work);
  ~PeriodicTask();
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

  // Completed runs of `work` (tests).
  std::uint64_t runs() const;

private:
  void loop();

  const std::string name_;
  const std::chrono::milliseconds interval_;
  const std::function<void()> work_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::uint64_t runs_ = 0;
  std::thread thread_;  // last: starts once everything above is set
};

}  // namespace fapigate::core
