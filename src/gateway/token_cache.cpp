#include "gateway/token_cache.hpp"

namespace fapigate::gw {

TokenCache::TokenCache(std::size_t max_entries)
    : max_per_shard_(std::max<std::size_t>(1, max_entries / kShards)) {}

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
  if (it->second->expires_at <= now) {
    s.map.erase(it);
    ++misses_;
    return nullptr;
  }
  ++hits_;
  return it->second;
}

void TokenCache::insert(const std::string& token_hash, std::shared_ptr<const VerifiedToken> token,
                        std::int64_t now) {
  Shard& s = shard_for(token_hash);
  std::lock_guard lock(s.mu);
  if (s.map.size() >= max_per_shard_) {
    std::erase_if(s.map, [now](const auto& kv) { return kv.second->expires_at <= now; });
    if (s.map.size() >= max_per_shard_) {
      // Still full of live tokens: drop an arbitrary one. Losing a cache entry costs one
      // verification later, never correctness.
      s.map.erase(s.map.begin());
    }
  }
  s.map[token_hash] = std::move(token);
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
