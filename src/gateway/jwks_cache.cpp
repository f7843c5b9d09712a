#include "gateway/jwks_cache.hpp"

#include <algorithm>

#include "core/json.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "jose/jose_errc.hpp"
#include "jose/jwk.hpp"

namespace fapigate::gw {
namespace {

// While an issuer's keys have never loaded, retry a little sooner than the unknown-kid
// interval, but still rate-limited.
constexpr std::int64_t kFirstLoadRetrySeconds = 5;
constexpr std::size_t kMaxCacheControl = 1024;

// RFC 9111 §5.2: the max-age directive of Cache-Control, if any; no-store / no-cache mean
// "do not reuse" (0). Bounded; a malformed header is ignored (nullopt).
std::optional<std::int64_t> max_age_of(const http::Headers& headers) {
  auto cc = headers.get("Cache-Control");
  if (!cc || cc->size() > kMaxCacheControl) {
    return std::nullopt;
  }
  std::optional<std::int64_t> out;
  for (auto d : core::split(*cc, ',')) {
    d = core::trim(d);
    if (core::iequals(d, "no-store") || core::iequals(d, "no-cache")) {
      return 0;
    }
    auto eq = d.find('=');
    if (eq == std::string_view::npos || !core::iequals(core::trim(d.substr(0, eq)), "max-age")) {
      continue;
    }
    auto v = core::trim(d.substr(eq + 1));
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
      v = v.substr(1, v.size() - 2);
    }
    std::int64_t n = 0;
    if (v.empty() || v.size() > 10) {
      continue;
    }
    bool digits = true;
    for (char c : v) {
      digits = digits && c >= '0' && c <= '9';
      n = n * 10 + (c - '0');
    }
    if (digits) {
      out = n;
    }
  }
  return out;
}

std::string well_known_of(const std::string& issuer) {
  std::string_view base = issuer;
  while (!base.empty() && base.back() == '/') {
    base.remove_suffix(1);
  }
  return std::string(base) + "/.well-known/openid-configuration";
}

}  // namespace

IssuerKeys::IssuerKeys(config::Issuer settings, std::shared_ptr<http::Client> client,
                       const core::Clock& clock,
                       std::shared_ptr<const jose::VerifierSet> extra_keys)
    : settings_(std::move(settings)),
      client_(std::move(client)),
      clock_(clock),
      extra_(std::move(extra_keys)),
      jwks_uri_(settings_.jwks_uri),
      introspection_endpoint_(settings_.introspection_endpoint) {}

IssuerKeys::~IssuerKeys() {
  // The Responder contract is exactly once: requests waiting on a fetch that will never be
  // delivered to us are answered now.
  for (auto& w : waiters_) {
    w.done(KeyLookup{});
  }
}

KeyLookup IssuerKeys::lookup_locked(std::string_view kid, jose::Alg alg,
                                    std::int64_t now) const {
  bool mismatch = false;
  // Past its age plus the stale allowance the JWKS no longer counts: a key the issuer may have
  // withdrawn long ago must not keep verifying because the issuer is down.
  const bool expired = keys_ && now - fetched_at_ > ttl_ + settings_.jwks_max_stale;
  const jose::VerifierSet* fetched = expired ? nullptr : keys_.get();
  for (const auto* set : {fetched, extra_.get()}) {
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
  if (!fetched && !extra_) {
    return {KeyLookup::Outcome::Unavailable, nullptr};
  }
  return {KeyLookup::Outcome::NoSuchKey, nullptr};
}

void IssuerKeys::find(std::string kid, jose::Alg alg, Found done) {
  std::unique_lock lock(mu_);
  const std::int64_t now = clock_.now();
  KeyLookup found = lookup_locked(kid, alg, now);
  if (found.outcome == KeyLookup::Outcome::Found ||
      found.outcome == KeyLookup::Outcome::AlgMismatch) {
    const bool refresh = refresh_due_locked(now);
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
  const std::int64_t next_fetch = last_attempt_ + refetch_interval_locked();
  const bool may_refetch = fetches_ == 0 || now >= next_fetch;
  if (!fetching_ && !may_refetch) {
    // A made-up kid (or iss) must not make the gateway hammer the issuer. But a key the issuer
    // published just after our last fetch (a rotation) is worth a short wait for the next
    // permitted one rather than a refusal: refresh_if_due() starts it. Bounded in time and in
    // how many lookups wait, so made-up kids cost neither fetches nor unbounded memory.
    if (hold_unknown_kids_ && next_fetch - now <= kMaxHoldSeconds &&
        waiters_.size() < kMaxHeldLookups) {
      waiters_.push_back({std::move(kid), alg, std::move(done)});
      return;
    }
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

// Refreshed ahead of expiry in the background while the current keys keep serving; a failing
// issuer is retried no more often than an unknown kid would be.
bool IssuerKeys::refresh_due_locked(std::int64_t now) const {
  const std::int64_t refresh_at = fetched_at_ + (ttl_ * 4) / 5;
  return keys_ && !fetching_ && now >= refresh_at &&
         (now - last_attempt_ >= std::min<std::int64_t>(settings_.jwks_refetch_min_interval,
                                                        kFirstLoadRetrySeconds) ||
          last_attempt_ <= fetched_at_);
}

std::int64_t IssuerKeys::refetch_interval_locked() const {
  return keys_ ? settings_.jwks_refetch_min_interval
               : std::min(settings_.jwks_refetch_min_interval, kFirstLoadRetrySeconds);
}

void IssuerKeys::hold_unknown_kids_for_next_fetch(bool on) {
  std::lock_guard lock(mu_);
  hold_unknown_kids_ = on;
}

bool IssuerKeys::refresh_if_due() {
  {
    std::lock_guard lock(mu_);
    const std::int64_t now = clock_.now();
    // What a lookup of an unknown kid would fetch now: keys never loaded (the warm-up failed),
    // or lookups that find() holds for the next permitted fetch.
    const bool lookup_due = !fetching_ && (!keys_ || !waiters_.empty()) &&
                            (fetches_ == 0 || now - last_attempt_ >= refetch_interval_locked());
    if (!lookup_due && !refresh_due_locked(now)) {
      return false;
    }
    begin_fetch_locked();
  }
  send_fetch();
  return true;
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

std::string IssuerKeys::introspection_endpoint() const {
  std::lock_guard lock(mu_);
  return introspection_endpoint_;
}

std::int64_t IssuerKeys::keys_ttl() const {
  std::lock_guard lock(mu_);
  return ttl_;
}

void IssuerKeys::begin_fetch_locked() {
  fetching_ = true;
  last_attempt_ = clock_.now();
  ++fetches_;
}

void IssuerKeys::send_fetch() {
  std::string uri;
  {
    std::lock_guard lock(mu_);
    uri = jwks_uri_;
  }
  if (!uri.empty()) {
    return send_jwks_fetch();
  }
  http::ClientRequest req;
  req.method = "GET";
  req.url = well_known_of(settings_.issuer);
  req.headers.add("Accept", "application/json");
  req.timeout = std::chrono::milliseconds(settings_.fetch_timeout_ms);
  std::weak_ptr<IssuerKeys> weak = weak_from_this();
  client_->send(std::move(req), [weak](Result<http::Response> r) {
    if (auto self = weak.lock()) {
      self->on_discovered(std::move(r));
    }
  });
}

void IssuerKeys::on_discovered(Result<http::Response> response) {
  if (!response || response->status != 200) {
    return on_fetched(response ? Result<http::Response>(make_error_code(
                                     boost::system::errc::protocol_error))
                               : std::move(response));
  }
  auto doc = core::parse_json_object(response->body, core::JsonLimits{64 * 1024, 8});
  // RFC 8414 §3.3 / OIDC Discovery §4.3: the document must name the very issuer it was fetched
  // for, or one issuer could hand out another's keys.
  // Absent members read as empty, which fails both checks (the configured issuer is never
  // empty).
  const std::string_view iss =
      doc ? core::get_string(*doc, "issuer").value_or(std::string_view()) : std::string_view();
  const std::string_view jwks =
      doc ? core::get_string(*doc, "jwks_uri").value_or(std::string_view()) : std::string_view();
  if (iss != settings_.issuer || jwks.rfind("https://", 0) != 0) {
    core::log::warn("issuer_discovery_invalid", {{"issuer", settings_.issuer}});
    return on_fetched(make_error_code(boost::system::errc::protocol_error));
  }
  {
    std::lock_guard lock(mu_);
    jwks_uri_ = std::string(jwks);
    if (introspection_endpoint_.empty()) {
      // RFC 8705 §5: the mTLS alias is what a client with a certificate must use.
      std::optional<std::string_view> ie;
      if (const auto* aliases = doc->if_contains("mtls_endpoint_aliases")) {
        if (const auto* o = aliases->if_object()) {
          ie = core::get_string(*o, "introspection_endpoint");
        }
      }
      if (!ie) {
        ie = core::get_string(*doc, "introspection_endpoint");
      }
      if (ie && ie->rfind("https://", 0) == 0) {
        introspection_endpoint_ = std::string(*ie);
      }
    }
  }
  send_jwks_fetch();
}

void IssuerKeys::introspect(const std::string& token,
                            std::function<void(Result<http::Response>)> done) {
  std::string endpoint = introspection_endpoint();
  if (endpoint.empty()) {
    // Discovery has not succeeded yet: a key lookup runs it (rate-limited like an unknown
    // kid), then this tries once more.
    std::weak_ptr<IssuerKeys> weak = weak_from_this();
    return find("", jose::Alg::PS256, [weak, token, done = std::move(done)](KeyLookup) mutable {
      auto self = weak.lock();
      if (!self || self->introspection_endpoint().empty()) {
        if (self) {
          ++self->introspection_failures_;
        }
        return done(make_error_code(boost::system::errc::operation_not_supported));
      }
      self->introspect(token, std::move(done));
    });
  }
  http::ClientRequest req;
  req.method = "POST";
  req.url = std::move(endpoint);
  // RFC 9701 §4: ask for the signed answer; it is what the upstream gets (phantom token).
  req.headers.add("Accept", "application/token-introspection+jwt");
  req.headers.add("Content-Type", "application/x-www-form-urlencoded");
  // RFC 8705 §2: with tls_client_auth the client_id names the client the certificate is for.
  req.body = core::form_encode({{"token", token},
                                {"token_type_hint", "access_token"},
                                {"client_id", settings_.introspection_client_id}});
  req.timeout = std::chrono::milliseconds(settings_.fetch_timeout_ms);
  ++introspections_;
  std::weak_ptr<IssuerKeys> weak = weak_from_this();
  client_->send(std::move(req), [weak, done = std::move(done)](Result<http::Response> r) {
    if (auto self = weak.lock(); self && (!r || r->status != 200)) {
      ++self->introspection_failures_;
    }
    done(std::move(r));
  });
}

void IssuerKeys::send_jwks_fetch() {
  http::ClientRequest req;
  req.method = "GET";
  {
    std::lock_guard lock(mu_);
    req.url = jwks_uri_;
  }
  req.headers.add("Accept", "application/jwk-set+json, application/json");
  req.timeout = std::chrono::milliseconds(settings_.fetch_timeout_ms);
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
  std::int64_t ttl = settings_.jwks_max_age;
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
      if (auto age = max_age_of(response->headers)) {
        ttl = std::clamp(*age, settings_.jwks_min_age, settings_.jwks_max_age);
      }
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
      ttl_ = ttl;
    } else {
      ++fetch_failures_;
    }
    for (auto& w : waiters_) {
      answers.emplace_back(std::move(w.done), lookup_locked(w.kid, w.alg, clock_.now()));
    }
    waiters_.clear();
  }
  for (auto& [done, result] : answers) {
    done(std::move(result));
  }
}

}  // namespace fapigate::gw
