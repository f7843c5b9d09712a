// private_key_jwt (RFC 7523 §2.2 and §3, OIDC Core §9): the client_assertion JWT checked
// against one client's registered keys. Pure and synchronous: time and the accepted audiences
// are parameters; the one-time use of the jti is the caller's (a ReplayStore), done only after
// this succeeded so that a forged assertion cannot burn a jti.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "as/oauth_error.hpp"
#include "jose/jwk.hpp"
#include "store/store.hpp"

namespace fapigate::as {

// RFC 7523 §2.2.
inline constexpr std::string_view kJwtBearerAssertionType =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

struct AssertionPolicy {
  std::int64_t now = 0;
  // "aud" must be one of these (the issuer first). With aud_string_only, "aud" must be a JSON
  // string (FAPI 2.0 SP §5.3.2.1-8); otherwise an array containing one of them also passes.
  std::vector<std::string> audiences;
  bool aud_string_only = true;
  // FAPI 2.0 SP §5.3.2.1-13: iat/nbf up to 10 s ahead must pass, beyond 60 s must fail; exp is
  // given the same leeway.
  std::int64_t skew_seconds = 30;
  // exp at most this far after iat (or now, without iat): it bounds how long the jti must be
  // remembered.
  std::int64_t max_lifetime_seconds = 600;
};

struct VerifiedAssertion {
  std::string jti;
  std::int64_t exp = 0;
};

// The parts of an assertion read before its signature is checked, to find the client: the
// protected "alg" is in the allow-list (PS256/ES256/EdDSA), the payload is a JSON object, and
// "iss" (if a string) is returned. invalid_client otherwise.
[[nodiscard]] OAuthResult<std::string> assertion_issuer_unverified(std::string_view assertion);

// Signature with one of the client's registered keys (`client.jwks_json`, private members
// refused), then iss = sub = client_id, aud, exp (required), nbf, iat, jti (required, at most
// 256 bytes). Every failure is invalid_client with a log-only detail.
[[nodiscard]] OAuthResult<VerifiedAssertion> verify_client_assertion(
    std::string_view assertion, const store::ClientRecord& client, const AssertionPolicy& policy);

// A client's registered JWKS as stored: bounded, public keys only (a private member means the
// client handed over its secret, which is refused rather than silently kept).
[[nodiscard]] Result<jose::Jwks> parse_client_jwks(std::string_view jwks_json);

}  // namespace fapigate::as
