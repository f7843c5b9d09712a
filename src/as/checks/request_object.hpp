// Signed request objects (JAR, RFC 9101), as FAPI 1.0 Part 2 §5.2.2 and FAPI 2.0 Message
// Signing §5.3.1 constrain them. Pure: time, issuer and the client's keys are parameters.
// Every refusal is invalid_request_object (RFC 9101 §7) with a static description; the detail
// is log-only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "as/oauth_error.hpp"
#include "jose/alg.hpp"
#include "store/store.hpp"

namespace fapigate::as {

struct RequestObjectPolicy {
  std::string issuer;  // "aud" must be it, or an array containing it (F1-07, F2MS 5.3.1-2)
  std::int64_t now = 0;
  // FAPI 2.0 SP §5.3.2.1-13: nbf/iat up to 10 s ahead pass, more than 60 s ahead fail.
  std::int64_t skew_seconds = 30;
  // The client's registered request_object_signing_alg, when it registered one.
  std::optional<jose::Alg> required_alg;
};

// Checks, in order: compact JWS with alg in {PS256, ES256, EdDSA} (none, HMAC, RS256 refused:
// F1-24, F2-32) and matching required_alg; "typ", when present, is oauth-authz-req+jwt or JWT
// (RFC 9101 §4, F2MS 5.3.1-5); the signature by a key of the client's registered JWKS
// (RFC 9101 §6.2; another client's key fails); iss = client_id; aud; exp present and not past
// (F1-05); nbf present, not in the future beyond the skew, at most 60 min old (F1-06); exp - nbf
// at most 60 min (F1-05); iat not in the future; client_id, if present, = the client; no
// "request" or "request_uri" inside (RFC 9126 §2.1, N-23). Returns the claims: the only
// authorization parameters used (F1-04, RFC 9101 §6.3).
[[nodiscard]] OAuthResult<boost::json::object> verify_request_object(
    std::string_view jwt, const store::ClientRecord& client, const RequestObjectPolicy& policy);

}  // namespace fapigate::as
