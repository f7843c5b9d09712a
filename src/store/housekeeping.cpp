#include "store/housekeeping.hpp"

#include "core/log.hpp"

namespace fapigate::store {

Result<PurgeCounts> purge_once(Store& store, std::int64_t now,
                               std::int64_t revoked_grant_retention) {
  PurgeCounts counts;
  auto expired = store.purge_expired(now);
  if (!expired) {
    return expired.error();
  }
  counts.expired = *expired;
  auto replay = store.purge_replay(now);
  if (!replay) {
    return replay.error();
  }
  counts.replay = *replay;
  auto grants = store.purge_revoked_grants(now - revoked_grant_retention);
  if (!grants) {
    return grants.error();
  }
  counts.revoked_grants = *grants;
  return counts;
}

Housekeeper::Housekeeper(Store& store, const core::Clock& clock,
                         std::chrono::milliseconds interval, std::int64_t revoked_grant_retention)
    : store_(store),
      clock_(clock),
      retention_(revoked_grant_retention),
      task_("store_purge", interval, [this] { run(); }) {}

PurgeCounts Housekeeper::totals() const {
  return {expired_.load(std::memory_order_relaxed), replay_.load(std::memory_order_relaxed),
          revoked_grants_.load(std::memory_order_relaxed)};
}

void Housekeeper::run() {
  auto counts = purge_once(store_, clock_.now(), retention_);
  if (!counts) {
    failures_.fetch_add(1, std::memory_order_relaxed);
    core::log::warn("store_purge_failed", {{"error", counts.error().message()}});
    return;
  }
  expired_.fetch_add(counts->expired, std::memory_order_relaxed);
  replay_.fetch_add(counts->replay, std::memory_order_relaxed);
  revoked_grants_.fetch_add(counts->revoked_grants, std::memory_order_relaxed);
  if (counts->expired + counts->replay + counts->revoked_grants > 0) {
    core::log::info("store_purged",
                    {{"expired", static_cast<unsigned long>(counts->expired)},
                     {"replay", static_cast<unsigned long>(counts->replay)},
                     {"revoked_grants", static_cast<unsigned long>(counts->revoked_grants)}});
  }
}

}  // namespace fapigate::store
