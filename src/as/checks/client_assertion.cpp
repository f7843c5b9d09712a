#include "as/checks/client_assertion.hpp"

#include <boost/json/value.hpp>

#include "core/json.hpp"
#include "jose/jws.hpp"
#include "jose/jwt_claims.hpp"

namespace fapigate::as {
namespace {

// Room for a few keys with certificate chains; a registration is not a key archive.
constexpr std::size_t kMaxClientJwksBytes = 64 * 1024;
constexpr std::size_t kMaxClientKeys = 20;
// A jti is an identifier, not a payload; bounding it bounds the replay table's rows.
constexpr std::size_t kMaxJtiBytes = 256;

OAuthError refused(std::string description, std::string detail) {
  return oauth_error(OAuthErrc::InvalidClient, std::move(description), std::move(detail));
}

std::string_view jose_reason(const ErrorCode& ec) {
  switch (static_cast<jose::JoseErrc>(ec.value())) {
    case jose::JoseErrc::Expired:
      return "the client assertion has expired";
    case jose::JoseErrc::NotYetValid:
      return "the client assertion is not valid yet (nbf)";
    case jose::JoseErrc::IssuedInFuture:
      return "the client assertion is issued in the future (iat)";
    case jose::JoseErrc::ExpMissing:
      return "the client assertion needs exp";
    case jose::JoseErrc::IssuerMismatch:
      return "the client assertion's iss must be the client_id";
    case jose::JoseErrc::AudienceMismatch:
      return "the client assertion's aud must be the issuer";
    case jose::JoseErrc::AlgNotAllowed:
    case jose::JoseErrc::AlgMissing:
      return "the client assertion must be signed with PS256, ES256 or EdDSA";
    case jose::JoseErrc::ClaimInvalid:
      return "the client assertion has an invalid or too long-lived claim";
    default:
      return "the client assertion is invalid";
  }
}

}  // namespace

Result<jose::Jwks> parse_client_jwks(std::string_view jwks_json) {
  jose::JwksLimits limits;
  limits.max_bytes = kMaxClientJwksBytes;
  limits.max_keys = kMaxClientKeys;
  auto jwks = jose::parse_jwks(jwks_json, limits);
  if (!jwks) {
    return jwks.error();
  }
  for (const auto& k : jwks->keys) {
    if (k.key.is_private()) {
      return make_error_code(jose::JoseErrc::JwkInvalid);
    }
  }
  return jwks;
}

OAuthResult<std::string> assertion_issuer_unverified(std::string_view assertion) {
  auto parsed = jose::parse_compact(assertion, jose::kAllAlgs);
  if (!parsed) {
    // FAPI 2.0 SP §5.4.1 / FAPI 1.0 Part 2 §8.6: none, HMAC and RS256 never pass (N-56).
    return refused(std::string(jose_reason(parsed.error())),
                   "client_assertion: " + parsed.error().message());
  }
  auto claims = jose::parse_claims(parsed->payload);
  if (!claims) {
    return refused("the client assertion is invalid",
                   "client_assertion payload: " + claims.error().message());
  }
  return std::string(core::get_string(*claims, "iss").value_or(""));
}

OAuthResult<VerifiedAssertion> verify_client_assertion(std::string_view assertion,
                                                       const store::ClientRecord& client,
                                                       const AssertionPolicy& policy) {
  if (policy.audiences.empty()) {
    // Without an audience to demand, any JWT of the client would do; never run that way.
    return oauth_error(OAuthErrc::ServerError, "the server could not complete the request",
                       "client assertion policy without audiences");
  }
  if (client.jwks_json.empty()) {
    return refused("client authentication failed",
                   "private_key_jwt client " + client.client_id + " has no registered keys");
  }
  auto jwks = parse_client_jwks(client.jwks_json);
  if (!jwks) {
    return refused("client authentication failed",
                   "registered jwks of " + client.client_id + " unusable: " +
                       jwks.error().message());
  }
  const jose::VerifierSet keys(*jwks);
  // The signature first: nothing else in an unauthenticated JWT is worth a precise answer.
  auto jws = jose::verify_compact(assertion, jose::kAllAlgs, keys);
  if (!jws) {
    return refused(std::string(jose_reason(jws.error())),
                   "client_assertion of " + client.client_id + ": " + jws.error().message());
  }
  auto claims = jose::parse_claims(jws->payload);
  if (!claims) {
    return refused("the client assertion is invalid",
                   "client_assertion payload: " + claims.error().message());
  }

  // RFC 7523 §3 items 1-5 (iss, aud, exp, nbf, iat), with OIDC Core §9's iss = client_id.
  jose::ClaimExpectations expect;
  expect.issuer = client.client_id;
  expect.audiences = policy.audiences;
  expect.now = policy.now;
  expect.skew_seconds = policy.skew_seconds;
  expect.require_exp = true;
  expect.max_lifetime = policy.max_lifetime_seconds;
  if (auto ok = jose::check_claims(*claims, expect); !ok) {
    return refused(std::string(jose_reason(ok.error())),
                   "client_assertion of " + client.client_id + ": " + ok.error().message());
  }
  // check_claims bounds exp relative to iat; without iat, relative to now.
  const auto exp = core::get_int(*claims, "exp");
  if (!exp || *exp > policy.now + policy.skew_seconds + policy.max_lifetime_seconds) {
    return refused("the client assertion has an invalid or too long-lived claim",
                   "client_assertion exp too far in the future");
  }
  const auto* aud = claims->if_contains("aud");
  if (aud == nullptr || (policy.aud_string_only && !aud->is_string())) {
    // FAPI 2.0 SP §5.3.2.1-8: the issuer identifier as a string, never an array.
    return refused("the client assertion's aud must be the issuer",
                   "client_assertion aud is not a string");
  }
  // RFC 7523 §3 item 2: sub is the client_id. Its absence also stops another JWT of the client
  // (a request object, which has no sub) from being replayed as an assertion (N-59).
  auto sub = core::get_string(*claims, "sub");
  if (!sub || *sub != client.client_id) {
    return refused("the client assertion's sub must be the client_id",
                   sub ? "client_assertion sub differs from client_id" : "client_assertion has no sub");
  }
  // RFC 7523 §3 item 7: a jti lets the server refuse a second use.
  auto jti = core::get_string(*claims, "jti");
  if (!jti || jti->empty() || jti->size() > kMaxJtiBytes) {
    return refused("the client assertion needs a jti",
                   jti ? "client_assertion jti empty or too long" : "client_assertion has no jti");
  }
  return VerifiedAssertion{std::string(*jti), *exp};
}

}  // namespace fapigate::as
