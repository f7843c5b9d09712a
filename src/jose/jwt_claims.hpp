// JWT claim checks (RFC 7519 §4.1, RFC 8725 §3.8-3.9): iss, aud (string or array), exp, nbf,
// iat with a configurable skew. Time is a parameter.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "core/result.hpp"

namespace fapigate::jose {

struct ClaimExpectations {
  std::optional<std::string> issuer;             // when set, iss must equal it
  std::vector<std::string> audiences;            // when non-empty, aud must contain one of them
  std::int64_t now = 0;
  std::int64_t skew_seconds = 10;                // FAPI 2.0 SP §5.3.2.1-13 suggests tolerance
  bool require_exp = true;
  std::optional<std::int64_t> max_lifetime;      // when set, exp - iat (or now) may not exceed it
};

[[nodiscard]] Result<void> check_claims(const boost::json::object& claims,
                                        const ClaimExpectations& expect);

// "aud" as a list whether it was a string or an array (non-strings dropped).
std::vector<std::string> audiences_of(const boost::json::object& claims);

}  // namespace fapigate::jose
