// Keeps every issuer's JWKS fresh without traffic: once per tick each issuer is asked whether
// its keys are due (IssuerKeys::refresh_if_due: 80% of their cache lifetime, or never loaded,
// within the same retry bounds as a lookup). Traffic refreshes them too; this covers an idle
// gateway, whose first request after a quiet spell would otherwise wait for a fetch or meet
// keys past jwks_max_stale, and keeps readiness honest. The fetches run on the issuers' HTTP
// clients; the task only decides. Stops with its destructor.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/periodic_task.hpp"

namespace fapigate::gw {

class IssuerKeys;

class KeyRefresher {
public:
  KeyRefresher(std::vector<std::shared_ptr<IssuerKeys>> issuers, std::chrono::milliseconds tick);

  // Fetches this refresher started (tests and logs).
  std::uint64_t started_fetches() const { return started_.load(std::memory_order_relaxed); }

private:
  void tick();

  std::vector<std::shared_ptr<IssuerKeys>> issuers_;
  std::atomic<std::uint64_t> started_{0};
  core::PeriodicTask task_;  // last: runs tick() once the members above exist
};

}  // namespace fapigate::gw
