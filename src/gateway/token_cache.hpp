// Verified tokens by SHA-256 of the token, until their exp: a repeated call costs a hash and a
// lookup instead of a signature verification. Bounded (entries are evicted when full, expired
// first); sharded locks keep worker threads from contending. Only successes are cached, so a
// refusal is always re-evaluated.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "gateway/verified_token.hpp"

namespace fapigate::gw {

class TokenCache {
public:
  // max_entries 0 disables caching.
  explicit TokenCache(std::size_t max_entries);

  // nullptr on a miss or when the entry expired.
  std::shared_ptr<const VerifiedToken> find(const std::string& token_hash, std::int64_t now);
  void insert(const std::string& token_hash, std::shared_ptr<const VerifiedToken> token,
              std::int64_t now);

  std::uint64_t hits() const { return hits_; }
  std::uint64_t misses() const { return misses_; }
  std::size_t size() const;

private:
  static constexpr std::size_t kShards = 16;
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, std::shared_ptr<const VerifiedToken>> map;
  };
  Shard& shard_for(const std::string& hash);

  const std::size_t max_entries_;
  std::atomic<std::size_t> size_{0};
  std::array<Shard, kShards> shards_;
  std::atomic<std::uint64_t> hits_{0};
  std::atomic<std::uint64_t> misses_{0};
};

}  // namespace fapigate::gw
