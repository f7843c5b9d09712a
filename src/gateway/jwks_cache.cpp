#include "gateway/jwks_cache.hpp"

#include "core/log.hpp"
#include "jose/jwk.hpp"

namespace fapigate::gw {

IssuerKeys::IssuerKeys(config::Issuer settings, std::shared_ptr<http::Client> client,
                       const core::Clock& clock,
                       std::shared_ptr<const jose::VerifierSet> extra_keys)
    : settings_(std::move(settings)),
      client_(std::move(client)),
      clock_(clock),
      extra_(std::move(extra_keys)) {}

std::shared_ptr<const crypto::Verifier> IssuerKeys::lookup(std::string_view kid,
                                                           jose::Alg alg) const {
  if (keys_) {
    if (auto v = keys_->find(kid, alg)) {
      return v;
    }
  }
  if (extra_) {
    return extra_->find(kid, alg);
  }
  return nullptr;
}

void IssuerKeys::find(std::string kid, jose::Alg alg, Found done) {
  std::unique_lock lock(mu_);
  const std::int64_t now = clock_.now();
  auto found = lookup(kid, alg);
  if (found) {
    // Stale snapshot: refresh in the background, keep serving the one we have.
    if (keys_ && !fetching_ && now - fetched_at_ >= settings_.jwks_max_age) {
      start_fetch_locked();
    }
    lock.unlock();
    done(std::move(found), true);
    return;
  }
  const bool never_loaded = !keys_;
  const bool may_refetch = never_loaded || now - last_attempt_ >= settings_.jwks_refetch_min_interval;
  if (!fetching_ && !may_refetch) {
    // Unknown kid within the refetch interval: a token with a made-up kid must not make the
    // gateway hammer the issuer.
    const bool loaded = keys_ != nullptr || extra_ != nullptr;
    lock.unlock();
    done(nullptr, loaded);
    return;
  }
  waiters_.push_back({std::move(kid), alg, std::move(done)});
  if (!fetching_) {
    start_fetch_locked();
  }
}

void IssuerKeys::prefetch() {
  std::lock_guard lock(mu_);
  if (!fetching_) {
    start_fetch_locked();
  }
}

std::uint64_t IssuerKeys::fetch_count() const {
  std::lock_guard lock(mu_);
  return fetches_;
}

void IssuerKeys::start_fetch_locked() {
  fetching_ = true;
  last_attempt_ = clock_.now();
  ++fetches_;
  http::ClientRequest req;
  req.method = "GET";
  req.url = settings_.jwks_uri;
  req.headers.add("Accept", "application/jwk-set+json, application/json");
  req.timeout = std::chrono::milliseconds(5000);
  // weak: the gateway may be torn down while a fetch is in flight.
  std::weak_ptr<IssuerKeys> weak = weak_from_this();
  client_->send(std::move(req), [weak](Result<http::Response> r) {
    if (auto self = weak.lock()) {
      self->on_fetched(std::move(r));
    }
  });
}

void IssuerKeys::on_fetched(Result<http::Response> response) {
  std::shared_ptr<const jose::VerifierSet> fresh;
  if (!response) {
    core::log::warn("jwks_fetch_failed",
                    {{"issuer", settings_.issuer}, {"error", response.error().message()}});
  } else if (response->status != 200) {
    core::log::warn("jwks_fetch_failed",
                    {{"issuer", settings_.issuer}, {"status", response->status}});
  } else {
    auto jwks = jose::parse_jwks(response->body);
    if (!jwks) {
      core::log::warn("jwks_invalid",
                      {{"issuer", settings_.issuer}, {"error", jwks.error().message()}});
    } else {
      fresh = std::make_shared<const jose::VerifierSet>(*jwks);
      core::log::info("jwks_loaded", {{"issuer", settings_.issuer},
                                      {"keys", static_cast<unsigned long>(fresh->size())}});
    }
  }

  std::vector<Waiter> waiters;
  {
    std::lock_guard lock(mu_);
    fetching_ = false;
    if (fresh) {
      keys_ = std::move(fresh);
      fetched_at_ = clock_.now();
    }
    waiters.swap(waiters_);
  }
  for (auto& w : waiters) {
    std::shared_ptr<const crypto::Verifier> v;
    bool loaded;
    {
      std::lock_guard lock(mu_);
      v = lookup(w.kid, w.alg);
      loaded = keys_ != nullptr || extra_ != nullptr;
    }
    w.done(std::move(v), loaded);
  }
}

}  // namespace fapigate::gw
