#include "jose/jwt_claims.hpp"

#include <cmath>
#include <limits>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include "core/json.hpp"
#include "jose/jose_errc.hpp"

namespace fapigate::jose {
namespace {

namespace json = boost::json;

ErrorCode err(JoseErrc e) { return make_error_code(e); }

enum class Member { Absent, Invalid, Present };

// RFC 7519 §2 NumericDate: a JSON number of seconds, possibly fractional. Booleans, strings
// ("1700000000") and numbers outside int64 are invalid.
Member numeric_date(const json::object& claims, std::string_view name, std::int64_t& out) {
  auto it = claims.find(name);
  if (it == claims.end()) {
    return Member::Absent;
  }
  const auto& v = it->value();
  if (const auto* i = v.if_int64()) {
    out = *i;
    return Member::Present;
  }
  if (const auto* u = v.if_uint64()) {
    if (*u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return Member::Invalid;
    }
    out = static_cast<std::int64_t>(*u);
    return Member::Present;
  }
  if (const auto* d = v.if_double()) {
    // 2^62 keeps the conversion exact-or-smaller and far from overflow.
    if (!std::isfinite(*d) || std::fabs(*d) > 4.6e18) {
      return Member::Invalid;
    }
    out = static_cast<std::int64_t>(std::floor(*d));
    return Member::Present;
  }
  return Member::Invalid;
}

bool string_or_absent(const json::object& claims, std::string_view name) {
  auto it = claims.find(name);
  return it == claims.end() || it->value().is_string();
}

bool aud_well_typed(const json::object& claims) {
  auto it = claims.find("aud");
  if (it == claims.end() || it->value().is_string()) {
    return true;
  }
  const auto* arr = it->value().if_array();
  if (arr == nullptr) {
    return false;
  }
  for (const auto& a : *arr) {
    if (!a.is_string()) {
      return false;
    }
  }
  return true;
}

// Saturating a + b: an attacker-chosen exp near INT64_MAX must not wrap around.
std::int64_t sat_add(std::int64_t a, std::int64_t b) {
  std::int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) {
    return b > 0 ? std::numeric_limits<std::int64_t>::max()
                 : std::numeric_limits<std::int64_t>::min();
  }
  return r;
}

std::int64_t sat_sub(std::int64_t a, std::int64_t b) {
  std::int64_t r = 0;
  if (__builtin_sub_overflow(a, b, &r)) {
    return b < 0 ? std::numeric_limits<std::int64_t>::max()
                 : std::numeric_limits<std::int64_t>::min();
  }
  return r;
}

}  // namespace

Result<boost::json::object> parse_claims(std::string_view payload, std::size_t max_bytes,
                                         std::size_t max_depth) {
  auto claims = core::parse_json_object(payload, core::JsonLimits{max_bytes, max_depth});
  if (!claims) {
    return err(claims.error() == core::JsonErrc::TooLarge ? JoseErrc::TooLarge
                                                           : JoseErrc::PayloadNotJson);
  }
  return claims;
}

Result<void> check_claims(const boost::json::object& claims, const ClaimExpectations& expect) {
  std::int64_t exp = 0;
  std::int64_t nbf = 0;
  std::int64_t iat = 0;
  const Member has_exp = numeric_date(claims, "exp", exp);
  const Member has_nbf = numeric_date(claims, "nbf", nbf);
  const Member has_iat = numeric_date(claims, "iat", iat);
  if (has_exp == Member::Invalid || has_nbf == Member::Invalid || has_iat == Member::Invalid ||
      !string_or_absent(claims, "iss") || !string_or_absent(claims, "sub") ||
      !string_or_absent(claims, "jti") || !aud_well_typed(claims)) {
    return err(JoseErrc::ClaimInvalid);
  }

  if (expect.issuer) {
    auto iss = core::get_string(claims, "iss");
    // RFC 9207 / OIDC: simple string comparison, no normalisation.
    if (!iss || *iss != *expect.issuer) {
      return err(JoseErrc::IssuerMismatch);
    }
  }

  if (!expect.audiences.empty()) {
    bool found = false;
    for (const auto& a : audiences_of(claims)) {
      for (const auto& want : expect.audiences) {
        if (a == want) {
          found = true;
        }
      }
    }
    if (!found) {
      return err(JoseErrc::AudienceMismatch);
    }
  }

  const std::int64_t skew = expect.skew_seconds > 0 ? expect.skew_seconds : 0;
  if (has_exp == Member::Absent) {
    if (expect.require_exp || expect.max_lifetime) {
      return err(JoseErrc::ExpMissing);
    }
  } else if (expect.now > sat_add(exp, skew)) {
    return err(JoseErrc::Expired);
  }
  if (has_nbf == Member::Present && nbf > sat_add(expect.now, skew)) {
    return err(JoseErrc::NotYetValid);
  }
  if (has_iat == Member::Present && iat > sat_add(expect.now, skew)) {
    return err(JoseErrc::IssuedInFuture);
  }
  if (expect.max_lifetime) {
    const std::int64_t start = has_iat == Member::Present ? iat : expect.now;
    if (sat_sub(exp, start) > *expect.max_lifetime) {
      return err(JoseErrc::ClaimInvalid);
    }
  }
  return {};
}

std::vector<std::string> audiences_of(const boost::json::object& claims) {
  std::vector<std::string> out;
  auto it = claims.find("aud");
  if (it == claims.end()) {
    return out;
  }
  if (const auto* s = it->value().if_string()) {
    out.emplace_back(*s);
  } else if (const auto* arr = it->value().if_array()) {
    out.reserve(arr->size());
    for (const auto& a : *arr) {
      if (const auto* s = a.if_string()) {
        out.emplace_back(*s);
      }
    }
  }
  return out;
}

}  // namespace fapigate::jose
