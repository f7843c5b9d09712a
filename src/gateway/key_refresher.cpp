#include "gateway/key_refresher.hpp"

#include "gateway/jwks_cache.hpp"

namespace fapigate::gw {

KeyRefresher::KeyRefresher(std::vector<std::shared_ptr<IssuerKeys>> issuers,
                           std::chrono::milliseconds tick)
    : issuers_(std::move(issuers)), task_("jwks_refresh", tick, [this] { this->tick(); }) {}

void KeyRefresher::tick() {
  for (const auto& issuer : issuers_) {
    if (issuer->refresh_if_due()) {
      started_.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

}  // namespace fapigate::gw
