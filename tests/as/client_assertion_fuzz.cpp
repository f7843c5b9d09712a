// libFuzzer target for private_key_jwt client assertions (as/checks/client_assertion.hpp): the
// unverified issuer lookup and the full verification, under the FAPI 2.0 policy (aud a string,
// the issuer) and the FAPI 1.0 one (issuer or token endpoint, string or array). The input is
// the compact JWT, or, in sign mode (as_fuzz_common.hpp), the claims set that the target signs
// with the client's EdDSA key. Seeds: tests/fuzz/corpus/client_assertion. Invariants, each an
// abort:
//  - every refusal is invalid_client (the policies always name an audience);
//  - an accepted assertion has iss = sub = client_id, an aud of the policy (a string under the
//    FAPI 2.0 policy), exp present, not past and at most skew + max lifetime ahead, exp - iat
//    within the max lifetime, nbf and iat not in the future, a jti of 1..256 bytes; the
//    returned jti and exp are the claims' own;
//  - whatever verifies also passes the unverified issuer lookup, which returns client_id.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "as/as_fuzz_common.hpp"
#include "as/checks/client_assertion.hpp"
#include "jose/jws.hpp"
#include "fuzz/numeric_date.hpp"
#include "jose/jwt_claims.hpp"

namespace {

using namespace fapigate;
using namespace fapigate::as;
using i128 = __int128;

std::optional<i128> date(const boost::json::object& c, std::string_view name) {
  return fuzz_support::numeric_date(c, name);
}

bool one_of(std::string_view s, const std::vector<std::string>& set) {
  for (const auto& x : set) {
    if (x == s) {
      return true;
    }
  }
  return false;
}

void check_accepted(std::string_view jwt, const VerifiedAssertion& v, const AssertionPolicy& p) {
  auto parsed = jose::parse_compact(jwt, jose::kAllAlgs);
  FAPI_FUZZ_CHECK(parsed);
  auto c = jose::parse_claims(parsed->payload);
  FAPI_FUZZ_CHECK(c);
  const auto* iss = c->if_contains("iss");
  const auto* sub = c->if_contains("sub");
  FAPI_FUZZ_CHECK(iss && iss->is_string() && iss->get_string() == fuzz::kClientId);
  FAPI_FUZZ_CHECK(sub && sub->is_string() && sub->get_string() == fuzz::kClientId);
  const auto* aud = c->if_contains("aud");
  FAPI_FUZZ_CHECK(aud != nullptr);
  if (aud->is_string()) {
    FAPI_FUZZ_CHECK(one_of(aud->get_string(), p.audiences));
  } else {
    FAPI_FUZZ_CHECK(!p.aud_string_only && aud->is_array());
    bool found = false;
    for (const auto& a : aud->get_array()) {
      found = found || (a.is_string() && one_of(a.get_string(), p.audiences));
    }
    FAPI_FUZZ_CHECK(found);
  }
  const i128 now = p.now;
  const i128 skew = p.skew_seconds;
  const auto exp = date(*c, "exp");
  const auto nbf = date(*c, "nbf");
  const auto iat = date(*c, "iat");
  FAPI_FUZZ_CHECK(exp && now <= *exp + skew);
  FAPI_FUZZ_CHECK(*exp <= now + skew + p.max_lifetime_seconds);
  FAPI_FUZZ_CHECK(!iat || *exp - *iat <= p.max_lifetime_seconds);
  FAPI_FUZZ_CHECK(!nbf || *nbf <= now + skew);
  FAPI_FUZZ_CHECK(!iat || *iat <= now + skew);
  const auto* jti = c->if_contains("jti");
  FAPI_FUZZ_CHECK(jti && jti->is_string() && jti->get_string() == v.jti);
  FAPI_FUZZ_CHECK(!v.jti.empty() && v.jti.size() <= 256);
  FAPI_FUZZ_CHECK(static_cast<i128>(v.exp) == *exp);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)fuzz::client();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto& keys = fuzz::FuzzKeys::get();
  const std::string jwt =
      fuzz::sign_mode(input) ? jose::fuzz::sign_with(keys.client_eddsa, input) : std::string(input);

  auto issuer = assertion_issuer_unverified(jwt);
  if (!issuer) {
    FAPI_FUZZ_CHECK(issuer.error().code == OAuthErrc::InvalidClient);
  }

  AssertionPolicy fapi2;
  fapi2.now = fuzz::kNow;
  fapi2.audiences = {std::string(fuzz::kIssuer)};
  AssertionPolicy fapi1 = fapi2;
  fapi1.audiences.push_back(std::string(fuzz::kIssuer) + "/token");
  fapi1.aud_string_only = false;

  for (const AssertionPolicy* policy : {&fapi2, &fapi1}) {
    auto v = verify_client_assertion(jwt, fuzz::client(), *policy);
    if (!v) {
      FAPI_FUZZ_CHECK(v.error().code == OAuthErrc::InvalidClient);
      continue;
    }
    check_accepted(jwt, *v, *policy);
    FAPI_FUZZ_CHECK(issuer && *issuer == fuzz::kClientId);
  }
  return 0;
}
