// libFuzzer target for JWT claims (jose/jwt_claims.hpp): any bytes as the payload, parsed with
// parse_claims and checked by check_claims under a matrix of expectations (now at the fixed
// fuzz time and at the int64 extremes, skew 0 / 30 / INT64_MAX, with and without max_lifetime).
// Seeds: tests/fuzz/corpus/jwt_claims. Invariants, each an abort:
//  - an accepted claims set satisfies what check_claims documents, recomputed here in 128-bit
//    arithmetic so that no overflow can hide: iss equal, aud containing an expected audience,
//    exp present (when required) and now <= exp + skew, nbf <= now + skew, iat <= now + skew,
//    exp - (iat or now) <= max_lifetime;
//  - a larger skew never turns an acceptance into a refusal;
//  - every refusal is a JoseErrc.
#include <boost/json/value.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>

#include "jose/fuzz_keys.hpp"
#include "fuzz/numeric_date.hpp"
#include "jose/jwt_claims.hpp"

namespace {

using namespace fapigate;
using namespace fapigate::jose;
using i128 = __int128;

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();

std::optional<i128> date(const boost::json::object& c, std::string_view name) {
  return fuzz_support::numeric_date(c, name);
}

void check_accepted(const boost::json::object& c, const ClaimExpectations& e) {
  if (e.issuer) {
    const auto* iss = c.if_contains("iss");
    FAPI_FUZZ_CHECK(iss && iss->is_string() && std::string_view(iss->get_string()) == *e.issuer);
  }
  if (!e.audiences.empty()) {
    bool found = false;
    for (const auto& a : audiences_of(c)) {
      for (const auto& w : e.audiences) {
        found = found || a == w;
      }
    }
    FAPI_FUZZ_CHECK(found);
  }
  const i128 skew = e.skew_seconds > 0 ? e.skew_seconds : 0;
  const auto exp = date(c, "exp");
  const auto nbf = date(c, "nbf");
  const auto iat = date(c, "iat");
  if (e.require_exp || e.max_lifetime) {
    FAPI_FUZZ_CHECK(exp.has_value());
  }
  if (exp) {
    FAPI_FUZZ_CHECK(*exp <= kMax && *exp >= kMin);
    FAPI_FUZZ_CHECK(static_cast<i128>(e.now) <= *exp + skew);
  }
  if (nbf) {
    FAPI_FUZZ_CHECK(*nbf <= static_cast<i128>(e.now) + skew);
  }
  if (iat) {
    FAPI_FUZZ_CHECK(*iat <= static_cast<i128>(e.now) + skew);
  }
  if (e.max_lifetime) {
    const i128 start = iat ? *iat : static_cast<i128>(e.now);
    FAPI_FUZZ_CHECK(*exp - start <= *e.max_lifetime);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  auto claims = parse_claims(payload);
  if (!claims) {
    FAPI_FUZZ_CHECK(claims.error() == JoseErrc::PayloadNotJson ||
                    claims.error() == JoseErrc::TooLarge);
    FAPI_FUZZ_CHECK(claims.error() != JoseErrc::TooLarge || size > 16 * 1024);
    return 0;
  }
  (void)audiences_of(*claims);
  for (std::int64_t now : {fuzz::kNow, std::int64_t{0}, kMax, kMin}) {
    for (int variant = 0; variant < 4; ++variant) {
      bool accepted_before = false;
      for (std::int64_t skew : {std::int64_t{0}, std::int64_t{30}, kMax}) {
        ClaimExpectations e;
        e.now = now;
        e.skew_seconds = skew;
        if (variant & 1) {
          e.issuer = "https://as.example";
          e.audiences = {"https://as.example", "https://as.example/token"};
        }
        if (variant & 2) {
          e.require_exp = false;
        } else {
          e.max_lifetime = 600;
        }
        auto ok = check_claims(*claims, e);
        if (ok) {
          check_accepted(*claims, e);
        } else {
          FAPI_FUZZ_CHECK(ok.error().category() == make_error_code(JoseErrc::Malformed).category());
          FAPI_FUZZ_CHECK(!accepted_before);
        }
        accepted_before = accepted_before || static_cast<bool>(ok);
      }
    }
  }
  return 0;
}
