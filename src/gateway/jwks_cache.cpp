#include "gateway/jwks_cache.hpp"

#include "core/log.hpp"
#include "jose/jose_errc.hpp"
#include "jose/jwk.hpp"

namespace fapigate::gw {
namespace {

// While an issuer's keys have never loaded, retry a little sooner than the unknown-kid
// interval, but still rate-limited.
constexpr std::int64_t kFirstLoadRetrySeconds = 5;

}  // namespace

IssuerKeys::IssuerKeys(config::Issuer settings, std::shared_ptr<http::Client> client,
                       const core::Clock& clock,
                       std::shared_ptr<const jose::VerifierSet> extra_keys)
    : settings_(std::move(settings)),
      client_(std::move(client)),
      clock_(clock),
      extra_(std::move(extra_keys)) {}

IssuerKeys::~IssuerKeys() {
  // The Responder contract is exactly once: requests waiting on a fetch that will never be
  // delivered to us are answered now.
  for (auto& w : waiters_) {
    w.done(KeyLookup{});
  }
}

KeyLookup IssuerKeys::lookup_locked(std::string_view kid, jose::Alg alg) const {
  bool mismatch = false;
  for (const auto* set : {keys_.get(), extra_.get()}) {
    if (!set) {
      continue;
    }
    auto v = set->select(kid, alg);
    if (v) {
      return {KeyLookup::Outcome::Found, *v};
    }
    mismatch = mismatch || v.error() == jose::JoseErrc::AlgKeyMismatch;
  }
  if (mismatch) {
    return {KeyLookup::Outcome::AlgMismatch, nullptr};
  }
  if (!keys_ && !extra_) {
    return {KeyLookup::Outcome::Unavailable, nullptr};
  }
  return {KeyLookup::Outcome::NoSuchKey, nullptr};
}

void IssuerKeys::find(std::string kid, jose::Alg alg, Found done) {
  std::unique_lock lock(mu_);
  const std::int64_t now = clock_.now();
  KeyLookup found = lookup_locked(kid, alg);
  if (found.outcome == KeyLookup::Outcome::Found ||
      found.outcome == KeyLookup::Outcome::AlgMismatch) {
    // A stale snapshot is refreshed in the background while it keeps serving.
    const bool refresh = keys_ && !fetching_ && now - fetched_at_ >= settings_.jwks_max_age;
    if (refresh) {
      begin_fetch_locked();
    }
    lock.unlock();
    if (refresh) {
      send_fetch();
    }
    done(std::move(found));
    return;
  }
  const std::int64_t interval = keys_ ? settings_.jwks_refetch_min_interval
                                      : std::min(settings_.jwks_refetch_min_interval,
                                                 kFirstLoadRetrySeconds);
  const bool may_refetch = fetches_ == 0 || now - last_attempt_ >= interval;
  if (!fetching_ && !may_refetch) {
    // A made-up kid (or iss) must not make the gateway hammer the issuer.
    lock.unlock();
    done(std::move(found));
    return;
  }
  waiters_.push_back({std::move(kid), alg, std::move(done)});
  if (fetching_) {
    return;
  }
  begin_fetch_locked();
  lock.unlock();
  send_fetch();
}

void IssuerKeys::prefetch() {
  {
    std::lock_guard lock(mu_);
    if (fetching_) {
      return;
    }
    begin_fetch_locked();
  }
  send_fetch();
}

std::uint64_t IssuerKeys::fetch_count() const {
  std::lock_guard lock(mu_);
  return fetches_;
}

std::uint64_t IssuerKeys::fetch_failure_count() const {
  std::lock_guard lock(mu_);
  return fetch_failures_;
}

bool IssuerKeys::keys_loaded() const {
  std::lock_guard lock(mu_);
  return keys_ != nullptr;
}

void IssuerKeys::begin_fetch_locked() {
  fetching_ = true;
  last_attempt_ = clock_.now();
  ++fetches_;
}

void IssuerKeys::send_fetch() {
  http::ClientRequest req;
  req.method = "GET";
  req.url = settings_.jwks_uri;
  req.headers.add("Accept", "application/jwk-set+json, application/json");
  req.timeout = std::chrono::milliseconds(5000);
  // weak: the gateway may be torn down while a fetch is in flight (the destructor answers the
  // waiters then).
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

  std::vector<std::pair<Found, KeyLookup>> answers;
  {
    std::lock_guard lock(mu_);
    fetching_ = false;
    if (fresh) {
      keys_ = std::move(fresh);
      fetched_at_ = clock_.now();
    } else {
      ++fetch_failures_;
    }
    for (auto& w : waiters_) {
      answers.emplace_back(std::move(w.done), lookup_locked(w.kid, w.alg));
    }
    waiters_.clear();
  }
  for (auto& [done, result] : answers) {
    done(std::move(result));
  }
}

}  // namespace fapigate::gw
