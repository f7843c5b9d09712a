// One issuer's verification keys: its JWKS fetched over HTTPS and prepared once per key
// (jose::VerifierSet), plus configured extra keys. The JWKS URI is configured or discovered
// (OIDC Discovery §4, with the discovered issuer checked, RFC 8414 §3.3). A JWKS lives for its
// Cache-Control max-age bounded to [jwks_min_age, jwks_max_age] (jwks_max_age without cache
// headers) and is refreshed in the background once 80% of that has passed, while the current
// keys keep serving. An unknown kid triggers a refetch at most once per
// `jwks_refetch_min_interval`. An unreachable issuer leaves the cached keys in place for up to
// `jwks_max_stale` past their age, then they are dropped (fail closed). Keys of different issuers
// never mix: each issuer has its own IssuerKeys.
// Thread-safe; callbacks may run on the HTTP client's thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/model.hpp"
#include "core/clock.hpp"
#include "crypto/signature.hpp"
#include "http/message.hpp"
#include "jose/jws.hpp"

namespace fapigate::gw {

// What a key lookup found.
struct KeyLookup {
  enum class Outcome {
    Found,            // verifier is set
    NoSuchKey,        // keys are loaded, none has that kid (after any allowed refetch)
    AlgMismatch,      // the kid exists but its key does not fit the header's alg
    Unavailable,      // no keys could be loaded for this issuer
  };
  Outcome outcome = Outcome::Unavailable;
  std::shared_ptr<const crypto::Verifier> verifier;
};

class IssuerKeys : public std::enable_shared_from_this<IssuerKeys> {
public:
  using Found = std::function<void(KeyLookup)>;

  IssuerKeys(config::Issuer settings, std::shared_ptr<http::Client> client,
             const core::Clock& clock, std::shared_ptr<const jose::VerifierSet> extra_keys);

  const config::Issuer& settings() const { return settings_; }

  // The verifier for (kid, alg), fetching the JWKS first when the kid is unknown and a refetch
  // is allowed (at most once per jwks_refetch_min_interval, also while the keys never loaded,
  // since the kid and iss of an unverified token are attacker-chosen). `done` runs exactly
  // once, possibly on the HTTP client's thread, never under this object's lock.
  void find(std::string kid, jose::Alg alg, Found done);

  // Starts a fetch now (startup warm-up); completion is not reported.
  void prefetch();

  // Starts a background fetch when one is due without any lookup: the keys have passed 80% of
  // their lifetime, or never loaded, or lookups are held for the next permitted refetch; a
  // failing issuer no more often than find() would retry it. True when a fetch started. For
  // gw::KeyRefresher.
  bool refresh_if_due();
  // Set by the gateway when a gw::KeyRefresher calls refresh_if_due() for this issuer: an
  // unknown kid that arrives within jwks_refetch_min_interval of the last fetch, with the next
  // permitted fetch at most kMaxHoldSeconds away, then waits for that fetch instead of being
  // refused. Without a refresher nothing would start that fetch, so it stays refused at once.
  void hold_unknown_kids_for_next_fetch(bool on);
  static constexpr std::int64_t kMaxHoldSeconds = 2;
  static constexpr std::size_t kMaxHeldLookups = 256;

  std::uint64_t fetch_count() const;
  // Fetches that brought no usable JWKS (transport error, HTTP status, invalid document).
  std::uint64_t fetch_failure_count() const;
  // True once a JWKS fetch has succeeded (extra keys do not count): readiness.
  bool keys_loaded() const;
  // The introspection endpoint: configured, else discovered (empty until discovery ran, or
  // when the issuer publishes none).
  std::string introspection_endpoint() const;
  // How long the current JWKS lives (from its cache headers), for tests and metrics.
  std::int64_t keys_ttl() const;

  // RFC 7662 introspection of `token` at this issuer over its (mTLS) client, asking for the
  // RFC 9701 JWT answer. Runs discovery first when the endpoint is not known yet. `done` gets
  // the HTTP answer or a transport error, exactly once, never under this object's lock.
  void introspect(const std::string& token, std::function<void(Result<http::Response>)> done);
  std::uint64_t introspection_count() const { return introspections_.load(); }
  std::uint64_t introspection_failure_count() const { return introspection_failures_.load(); }

  // Waiters still pending (a fetch in flight) are answered Unavailable.
  ~IssuerKeys();

private:
  KeyLookup lookup_locked(std::string_view kid, jose::Alg alg, std::int64_t now) const;
  // Loaded keys past 80% of their lifetime, not already being fetched, and not retried sooner
  // than allowed after a failed refresh.
  bool refresh_due_locked(std::int64_t now) const;
  // How often an unknown kid may make the gateway fetch again.
  std::int64_t refetch_interval_locked() const;
  void send_jwks_fetch();
  void on_discovered(Result<http::Response> response);
  // Marks a fetch as started; the caller sends it with send_fetch() after unlocking.
  void begin_fetch_locked();
  void send_fetch();
  void on_fetched(Result<http::Response> response);

  config::Issuer settings_;
  std::shared_ptr<http::Client> client_;
  const core::Clock& clock_;
  std::shared_ptr<const jose::VerifierSet> extra_;

  mutable std::mutex mu_;
  std::shared_ptr<const jose::VerifierSet> keys_;
  std::int64_t fetched_at_ = 0;        // last successful fetch
  std::int64_t ttl_ = 0;               // lifetime of keys_ from its cache headers
  std::string jwks_uri_;               // configured or discovered
  std::string introspection_endpoint_;
  std::int64_t last_attempt_ = 0;      // last fetch started
  bool fetching_ = false;
  bool hold_unknown_kids_ = false;
  std::uint64_t fetches_ = 0;
  std::uint64_t fetch_failures_ = 0;
  struct Waiter {
    std::string kid;
    jose::Alg alg;
    Found done;
  };
  std::vector<Waiter> waiters_;
  std::atomic<std::uint64_t> introspections_{0};
  std::atomic<std::uint64_t> introspection_failures_{0};
};

}  // namespace fapigate::gw
