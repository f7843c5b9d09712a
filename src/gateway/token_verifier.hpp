// Verifies a JWT access token (RFC 9068 §4): compact JWS with an allowed algorithm, typ at+jwt,
// a configured issuer, a signature by one of that issuer's keys, aud naming this gateway, exp /
// nbf / iat within the skew. Successes are cached by token hash until exp (or, where the
// issuer's JWTs are also checked for revocation by introspection, for jwt_revocation_check
// seconds). Opaque tokens are introspected at the one issuer that takes them.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "gateway/gw_errc.hpp"
#include "gateway/jwks_cache.hpp"
#include "gateway/key_refresher.hpp"
#include "gateway/token_cache.hpp"
#include "gateway/verified_token.hpp"

namespace fapigate::gw {

using VerifyResult = Result<std::shared_ptr<const VerifiedToken>>;

class TokenVerifier {
public:
  TokenVerifier(std::vector<std::shared_ptr<IssuerKeys>> issuers, std::size_t cache_entries,
                const core::Clock& clock);

  // `done` runs exactly once, possibly on another thread (after a JWKS fetch). Errors are
  // GwErrc values.
  // The token is only read during the call: whatever an asynchronous lookup needs later (the
  // parsed JWS, the hash, the opaque token for introspection) is copied first, so a cache hit
  // costs no copy of it.
  void verify(std::string_view token, std::function<void(VerifyResult)> done);

  // Starts a JWKS fetch for every issuer (startup warm-up).
  void prefetch_all();
  // Keeps every issuer's keys fresh without traffic (gw::KeyRefresher), checking each tick;
  // a second call is ignored. Stopped when the verifier goes.
  void start_background_refresh(std::chrono::milliseconds tick);

  const TokenCache& cache() const { return cache_; }
  // By issuer identifier (metrics and readiness read them).
  const std::map<std::string, std::shared_ptr<IssuerKeys>, std::less<>>& issuers() const {
    return issuers_;
  }

  // The "token_introspection" object of a verified, "active" RFC 9701 answer, and the answer.
  struct SignedIntrospection {
    boost::json::object claims;
    std::string jwt;
  };

private:
  // Introspects `token` at `issuer` (RFC 7662 over mTLS, asking for the signed RFC 9701
  // answer, believed only with the issuer's signature, iss, aud = this gateway, a fresh iat).
  // Errors: IntrospectionUnavailable (no trustworthy answer), TokenInactive ("active": false,
  // also remembered in the cache for introspection_inactive_cache seconds).
  void introspect_signed(std::shared_ptr<IssuerKeys> issuer, std::string token, std::string hash,
                         std::function<void(Result<SignedIntrospection>)> done);
  // Phantom token (RFC 7662 + RFC 9701) at the issuer that takes opaque tokens.
  void verify_opaque(std::string hash, std::string_view token,
                     std::function<void(VerifyResult)> done);
  // A verified JWT of an issuer with jwt_revocation_check: active at the issuer, it is cached
  // for that many seconds; inactive or unanswered, it is refused.
  void check_not_revoked(std::shared_ptr<VerifiedToken> verified,
                         std::shared_ptr<IssuerKeys> issuer, std::string token,
                         std::function<void(VerifyResult)> done);

  std::map<std::string, std::shared_ptr<IssuerKeys>, std::less<>> issuers_;
  std::shared_ptr<IssuerKeys> opaque_issuer_;  // null: opaque tokens are malformed
  TokenCache cache_;
  const core::Clock& clock_;
  std::unique_ptr<KeyRefresher> refresher_;  // last: stops before the rest goes
};

}  // namespace fapigate::gw
