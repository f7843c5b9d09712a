// JWT claim checks (RFC 7519 §4.1, RFC 8725 §3.8-3.9): iss, aud (string or array), exp, nbf,
// iat with a configurable skew. Time is a parameter.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "core/result.hpp"
#include "jose/jose_errc.hpp"

namespace fapigate::jose {

struct ClaimExpectations {
  std::optional<std::string> issuer;             // when set, iss must equal it
  std::vector<std::string> audiences;            // when non-empty, aud must contain one of them
  std::int64_t now = 0;
  std::int64_t skew_seconds = 10;                // FAPI 2.0 SP §5.3.2.1-13 suggests tolerance
  bool require_exp = true;
  std::optional<std::int64_t> max_lifetime;      // when set, exp - iat (or now) may not exceed it
};

// The JWT payload (ParsedJws::payload) as a JSON object, bounded: PayloadNotJson when it is not
// a JSON object or nests deeper than max_depth, TooLarge above max_bytes.
[[nodiscard]] Result<boost::json::object> parse_claims(std::string_view payload,
                                                       std::size_t max_bytes = 16 * 1024,
                                                       std::size_t max_depth = 8);

// Registered claims first get a type check (iss/sub/jti strings, aud a string or an array of
// strings, exp/nbf/iat numbers; ClaimInvalid otherwise), then in this order: iss
// (IssuerMismatch), aud (AudienceMismatch), exp (ExpMissing; Expired when now > exp + skew),
// nbf (NotYetValid when nbf > now + skew), iat (IssuedInFuture when iat > now + skew),
// max_lifetime (ClaimInvalid when exp - (iat, or now) exceeds it; ExpMissing without exp).
// A fractional NumericDate counts as its whole seconds, rounded down.
[[nodiscard]] Result<void> check_claims(const boost::json::object& claims,
                                        const ClaimExpectations& expect);

// "aud" as a list whether it was a string or an array (non-strings dropped).
std::vector<std::string> audiences_of(const boost::json::object& claims);

}  // namespace fapigate::jose
