#include "gateway/key_refresher.hpp"

#include "core/log.hpp"
#include "gateway/jwks_cache.hpp"

namespace fapigate::gw {

KeyRefresher::KeyRefresher(std::vector<std::shared_ptr<IssuerKeys>> issuers,
                           std::chrono::milliseconds tick)
    : issuers_(std::move(issuers)), tick_(tick), thread_([this] { run(); }) {}

KeyRefresher::~KeyRefresher() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

std::uint64_t KeyRefresher::started_fetches() const {
  std::lock_guard lock(mu_);
  return started_;
}

void KeyRefresher::run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (wake_.wait_for(lock, tick_, [this] { return stop_; })) {
      break;
    }
    lock.unlock();
    std::uint64_t started = 0;
    for (const auto& issuer : issuers_) {
      // refresh_if_due only sends (the answer comes on the issuer's client); never throws
      // past here: a failure would end the thread, so catch and log.
      try {
        started += issuer->refresh_if_due() ? 1 : 0;
      } catch (const std::exception& e) {
        core::log::error("jwks_refresh_failed",
                         {{"issuer", issuer->settings().issuer}, {"reason", e.what()}});
      }
    }
    lock.lock();
    started_ += started;
  }
}

}  // namespace fapigate::gw
