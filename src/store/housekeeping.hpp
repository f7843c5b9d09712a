// The store's upkeep: rows that can no longer matter are removed, so the database holds what
// is live and not every token ever issued. Tokens and codes go once past their exp (a used
// code is kept until then so a second use is still recognised), replay-cache entries (client
// assertion jtis) once past theirs, and revoked-grant marks once older than the longest any
// token of a grant can live (until then a racing issuance must still find them).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

#include "core/clock.hpp"
#include "core/periodic_task.hpp"
#include "core/result.hpp"
#include "store/store.hpp"

namespace fapigate::store {

struct PurgeCounts {
  std::size_t expired = 0;         // tokens and authorization codes
  std::size_t replay = 0;          // replay-cache entries
  std::size_t revoked_grants = 0;  // revoked-grant marks
};

// One pass at `now`. revoked_grant_retention: seconds a revoked-grant mark is kept.
[[nodiscard]] Result<PurgeCounts> purge_once(Store& store, std::int64_t now,
                                             std::int64_t revoked_grant_retention);

// purge_once every `interval` on a background thread, logging what it removed
// (store_purged) and any failure (store_purge_failed); totals for the metrics.
class Housekeeper {
public:
  Housekeeper(Store& store, const core::Clock& clock, std::chrono::milliseconds interval,
              std::int64_t revoked_grant_retention);

  PurgeCounts totals() const;
  std::uint64_t failures() const { return failures_.load(std::memory_order_relaxed); }

private:
  void run();

  Store& store_;
  const core::Clock& clock_;
  const std::int64_t retention_;
  std::atomic<std::size_t> expired_{0};
  std::atomic<std::size_t> replay_{0};
  std::atomic<std::size_t> revoked_grants_{0};
  std::atomic<std::uint64_t> failures_{0};
  core::PeriodicTask task_;  // last: runs once the members above exist
};

}  // namespace fapigate::store
