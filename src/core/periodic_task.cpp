#include "core/periodic_task.hpp"

#include <exception>

#include "core/log.hpp"

namespace fapigate::core {

PeriodicTask::PeriodicTask(std::string name, std::chrono::milliseconds interval,
                           std::function<void()> work)
    : name_(std::move(name)),
      interval_(interval),
      work_(std::move(work)),
      thread_([this] { loop(); }) {}

PeriodicTask::~PeriodicTask() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

std::uint64_t PeriodicTask::runs() const {
  std::lock_guard lock(mu_);
  return runs_;
}

void PeriodicTask::loop() {
  std::unique_lock lock(mu_);
  while (!wake_.wait_for(lock, interval_, [this] { return stop_; })) {
    lock.unlock();
    try {
      work_();
    } catch (const std::exception& e) {
      log::error("periodic_task_failed", {{"task", name_}, {"reason", e.what()}});
    } catch (...) {
      log::error("periodic_task_failed", {{"task", name_}});
    }
    lock.lock();
    ++runs_;
  }
}

}  // namespace fapigate::core
