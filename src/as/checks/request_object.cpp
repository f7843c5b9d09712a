#include "as/checks/request_object.hpp"

#include "as/checks/client_assertion.hpp"
#include "core/json.hpp"
#include "core/strings.hpp"
#include "jose/jws.hpp"
#include "jose/jwt_claims.hpp"

namespace fapigate::as {
namespace {

constexpr std::int64_t kMaxAgeSeconds = 60 * 60;

OAuthError refused(std::string description, std::string detail) {
  return oauth_error(OAuthErrc::InvalidRequestObject, std::move(description), std::move(detail));
}

std::string_view jose_reason(const ErrorCode& ec) {
  switch (static_cast<jose::JoseErrc>(ec.value())) {
    case jose::JoseErrc::AlgNotAllowed:
    case jose::JoseErrc::AlgMissing:
      return "the request object must be signed with PS256, ES256 or EdDSA";
    case jose::JoseErrc::KidNotFound:
    case jose::JoseErrc::AlgKeyMismatch:
    case jose::JoseErrc::BadSignature:
      return "the request object is not signed by a key registered for the client";
    case jose::JoseErrc::Expired:
      return "the request object has expired";
    case jose::JoseErrc::ExpMissing:
      return "the request object needs exp";
    case jose::JoseErrc::NotYetValid:
      return "the request object is not valid yet (nbf)";
    case jose::JoseErrc::IssuedInFuture:
      return "the request object is issued in the future (iat)";
    case jose::JoseErrc::IssuerMismatch:
      return "the request object's iss must be the client_id";
    case jose::JoseErrc::AudienceMismatch:
      return "the request object's aud must be the issuer";
    default:
      return "the request object is invalid";
  }
}

bool typ_allowed(std::string_view typ) {
  if (typ.empty()) {
    return true;
  }
  std::string_view t = typ;
  if (t.size() > 12 && core::iequals(t.substr(0, 12), "application/")) {
    t = t.substr(12);
  }
  return core::iequals(t, "oauth-authz-req+jwt") || core::iequals(t, "jwt");
}

}  // namespace

OAuthResult<boost::json::object> verify_request_object(std::string_view jwt,
                                                       const store::ClientRecord& client,
                                                       const RequestObjectPolicy& policy) {
  const jose::AlgList allowed = policy.required_alg ? jose::AlgList{*policy.required_alg}
                                                    : jose::kAllAlgs;
  // Unsigned or wrongly signed objects are refused before any key is touched.
  auto parsed = jose::parse_compact(jwt, jose::kAllAlgs);
  if (!parsed) {
    return refused(std::string(jose_reason(parsed.error())),
                   "request object of " + client.client_id + ": " + parsed.error().message());
  }
  if (policy.required_alg && parsed->alg != *policy.required_alg) {
    return refused("the request object is not signed with the client's registered alg",
                   "request object alg differs from request_object_signing_alg");
  }
  if (!typ_allowed(parsed->typ)) {
    return refused("the request object's typ must be oauth-authz-req+jwt",
                   "request object typ " + parsed->typ.substr(0, 40));
  }
  if (client.jwks_json.empty()) {
    return refused("the client has no registered keys to verify the request object",
                   client.client_id + " has no jwks");
  }
  auto jwks = parse_client_jwks(client.jwks_json);
  if (!jwks) {
    return refused("the client has no usable registered keys",
                   "jwks of " + client.client_id + ": " + jwks.error().message());
  }
  const jose::VerifierSet keys(*jwks);
  auto jws = jose::verify_compact(jwt, allowed, keys);
  if (!jws) {
    return refused(std::string(jose_reason(jws.error())),
                   "request object of " + client.client_id + ": " + jws.error().message());
  }
  auto claims = jose::parse_claims(jws->payload);
  if (!claims) {
    return refused("the request object payload is not a JSON object",
                   claims.error().message());
  }

  jose::ClaimExpectations expect;
  expect.issuer = client.client_id;
  expect.audiences = {policy.issuer};
  expect.now = policy.now;
  expect.skew_seconds = policy.skew_seconds;
  expect.require_exp = true;
  if (auto ok = jose::check_claims(*claims, expect); !ok) {
    return refused(std::string(jose_reason(ok.error())),
                   "request object of " + client.client_id + ": " + ok.error().message());
  }
  // check_claims accepted the types; nbf and exp are numbers (or absent) from here on.
  const auto exp = core::get_int(*claims, "exp");
  const auto nbf = core::get_int(*claims, "nbf");
  if (!exp) {
    return refused("the request object needs exp", "exp not an integer");
  }
  if (!nbf) {
    // FAPI 1.0 Part 2 §5.2.2-17, F2MS 5.3.1-3.
    return refused("the request object needs nbf", "request object without nbf");
  }
  // Compared without subtracting the attacker's nbf from now: nbf near INT64_MIN made
  // now - nbf overflow (undefined; wrapped, it passed this check and the next; regression in
  // tests/fuzz/regressions/request_object). From here on now - 60 min <= nbf <= now + skew,
  // so exp - nbf fits.
  if (*nbf < policy.now - kMaxAgeSeconds) {
    return refused("the request object's nbf is more than 60 minutes in the past",
                   "nbf " + std::to_string(*nbf) + " at " + std::to_string(policy.now));
  }
  if (*exp - *nbf > kMaxAgeSeconds) {
    // FAPI 1.0 Part 2 §5.2.2-13: the lifetime (exp - nbf) is at most 60 minutes.
    return refused("the request object's lifetime (exp - nbf) exceeds 60 minutes",
                   "exp - nbf = " + std::to_string(*exp - *nbf) + " s");
  }
  if (const auto* id = claims->if_contains("client_id")) {
    // RFC 9101 §5: the object is the client's own.
    if (!id->is_string() || id->get_string() != client.client_id) {
      return refused("the request object's client_id does not match the client",
                     "client_id inside differs from " + client.client_id);
    }
  }
  if (claims->contains("request") || claims->contains("request_uri")) {
    return refused("request and request_uri are not allowed inside a request object",
                   "nested request/request_uri");
  }
  return std::move(*claims);
}

}  // namespace fapigate::as
