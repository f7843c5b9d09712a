#include "as/client_cache.hpp"

namespace fapigate::as {

ClientCache::ClientCache(store::ClientStore& clients, const core::Clock& clock,
                         std::chrono::seconds ttl, std::size_t max_entries)
    : clients_(clients),
      clock_(clock),
      ttl_seconds_(ttl.count()),
      max_entries_(max_entries == 0 ? 1 : max_entries) {}

Result<std::optional<store::ClientRecord>> ClientCache::find(const std::string& client_id) {
  const std::int64_t now = clock_.now();
  std::uint64_t generation = 0;
  {
    std::lock_guard lock(mutex_);
    if (auto it = entries_.find(client_id); it != entries_.end()) {
      if (now < it->second.expires_at) {
        return std::optional<store::ClientRecord>(*it->second.record);
      }
      entries_.erase(it);
    }
    generation = generation_;
  }
  // The store read happens outside the lock: a slow read must not stall other clients.
  auto found = clients_.find_client(client_id);
  if (!found || !*found) {
    return found;
  }
  auto shared = std::make_shared<const store::ClientRecord>(**found);
  std::lock_guard lock(mutex_);
  // An invalidate() since the read started may have been for this very client: the row just
  // read could predate that write, so it is returned but not remembered.
  if (generation == generation_) {
    if (entries_.size() >= max_entries_) {
      entries_.clear();  // rare (more live clients than the bound); simplest safe eviction
    }
    entries_[client_id] = Entry{std::move(shared), now + ttl_seconds_};
  }
  return found;
}

void ClientCache::invalidate(const std::string& client_id) {
  std::lock_guard lock(mutex_);
  entries_.erase(client_id);
  ++generation_;
}

std::size_t ClientCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace fapigate::as
