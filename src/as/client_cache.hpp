// Registered clients, kept in memory between requests. Every token, PAR and introspection
// request authenticates its client; reading and decoding the client's row each time cost a
// store read transaction per request on the token endpoint's hot path. Entries live for a
// short TTL so a store shared by several instances (one of which handles an RFC 7592 update or
// delete) is seen within that bound; writes through this process invalidate at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "store/store.hpp"

namespace fapigate::as {

class ClientCache {
public:
  static constexpr std::chrono::seconds kDefaultTtl{10};
  static constexpr std::size_t kDefaultMaxEntries = 10000;

  ClientCache(store::ClientStore& clients, const core::Clock& clock,
              std::chrono::seconds ttl = kDefaultTtl, std::size_t max_entries = kDefaultMaxEntries);

  // The client's record, from memory when fresh; std::nullopt for an unknown client_id.
  // Unknown ids are not remembered, so probing random ids cannot fill the cache.
  [[nodiscard]] Result<std::optional<store::ClientRecord>> find(const std::string& client_id);

  // Call after any write to the client (registration update or delete).
  void invalidate(const std::string& client_id);

  [[nodiscard]] std::size_t size() const;

private:
  struct Entry {
    std::shared_ptr<const store::ClientRecord> record;
    std::int64_t expires_at = 0;
  };

  store::ClientStore& clients_;
  const core::Clock& clock_;
  const std::int64_t ttl_seconds_;
  const std::size_t max_entries_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  std::uint64_t generation_ = 0;  // bumped by invalidate(): a read racing a write is not kept
};

}  // namespace fapigate::as
