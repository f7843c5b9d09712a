#include "gateway/token_cache.hpp"

namespace fapigate::gw {

TokenCache::TokenCache(std::size_t max_entries) : max_entries_(max_entries) {}

TokenCache::Shard& TokenCache::shard_for(const std::string& hash) {
  // The key is already a uniformly distributed digest; its first byte picks the shard.
  unsigned char b = hash.empty() ? 0 : static_cast<unsigned char>(hash[0]);
  return shards_[b % kShards];
}

std::shared_ptr<const VerifiedToken> TokenCache::find(const std::string& token_hash,
                                                      std::int64_t now) {
  Shard& s = shard_for(token_hash);
  std::lock_guard lock(s.mu);
  auto it = s.map.find(token_hash);
  if (it == s.map.end()) {
    ++misses_;
    return nullptr;
  }
  if (it->second->cached_until() <= now) {
    s.map.erase(it);
    --size_;
    ++misses_;
    return nullptr;
  }
  ++hits_;
  return it->second;
}

void TokenCache::insert(const std::string& token_hash, std::shared_ptr<const VerifiedToken> token,
                        std::int64_t now) {
  if (max_entries_ == 0) {
    return;
  }
  Shard& s = shard_for(token_hash);
  std::lock_guard lock(s.mu);
  if (auto it = s.map.find(token_hash); it != s.map.end()) {
    it->second = std::move(token);
    return;
  }
  // A slot is reserved atomically so concurrent inserts never overshoot the bound.
  auto reserve = [this] {
    std::size_t n = size_.load();
    while (n < max_entries_) {
      if (size_.compare_exchange_weak(n, n + 1)) {
        return true;
      }
    }
    return false;
  };
  if (!reserve()) {
    size_ -= std::erase_if(s.map,
                           [now](const auto& kv) { return kv.second->cached_until() <= now; });
    if (!reserve()) {
      if (s.map.empty()) {
        return;  // the live entries sit in other shards; skipping one insert is harmless
      }
      // Full of live tokens: replace one. Losing a cache entry costs one verification later,
      // never correctness.
      s.map.erase(s.map.begin());
      s.map.emplace(token_hash, std::move(token));
      return;
    }
  }
  s.map.emplace(token_hash, std::move(token));
}

std::size_t TokenCache::size() const {
  std::size_t n = 0;
  for (auto& s : shards_) {
    std::lock_guard lock(const_cast<std::mutex&>(s.mu));
    n += s.map.size();
  }
  return n;
}

}  // namespace fapigate::gw
