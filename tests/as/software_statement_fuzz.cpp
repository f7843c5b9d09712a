// libFuzzer target for Open Banking software statements (RFC 7591 §2.3; as/checks/
// software_statement.hpp): verification against the fixed directory (PS256 and ES256 keys of
// jose/fuzz_keys.hpp, iss "FuzzDirectory"), then the merge into a fixed private_key_jwt
// registration and the metadata policy. The input is the compact JWS, or, in sign mode
// (as_fuzz_common.hpp), the claims set that the target signs with the directory's ES256 key.
// Seeds: tests/fuzz/corpus/software_statement. Invariants, each an abort:
//  - refusals are invalid_software_statement or unapproved_software_statement;
//  - an accepted statement is PS256/ES256, signed by a directory key, has iss = the directory,
//    iat present, not in the future and at most max_age old, exp (if any) not past; the claims
//    returned hold none of the registered JWT claims;
//  - the merge gives the statement's members precedence and keeps every redirect URI within
//    software_redirect_uris; an accepted registration satisfies dcr_fuzz_checks.hpp.
#include <boost/json/parse.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "as/as_fuzz_common.hpp"
#include "as/checks/software_statement.hpp"
#include "as/dcr_fuzz_checks.hpp"
#include "fuzz/numeric_date.hpp"
#include "jose/jws.hpp"
#include "jose/jwt_claims.hpp"

namespace {

using namespace fapigate;
using namespace fapigate::as;
using i128 = __int128;

std::optional<i128> date(const boost::json::object& c, std::string_view name) {
  return fuzz_support::numeric_date(c, name);
}

const boost::json::object& base_metadata() {
  static const boost::json::object o = [] {
    boost::json::object m;
    m["token_endpoint_auth_method"] = "private_key_jwt";
    m["jwks"] = boost::json::parse(fuzz::FuzzKeys::get().client_fast_jwks_json);
    m["redirect_uris"] = boost::json::array{std::string(fuzz::kRedirectUri)};
    m["grant_types"] = boost::json::array{"authorization_code"};
    return m;
  }();
  return o;
}

void check_statement(std::string_view statement, const boost::json::object& claims) {
  const auto& trust = fuzz::directory_trust();
  auto parsed = jose::parse_compact(statement, {jose::Alg::PS256, jose::Alg::ES256});
  FAPI_FUZZ_CHECK(parsed);
  FAPI_FUZZ_CHECK(parsed->kid.empty() || parsed->kid == "other-ps256" ||
                  parsed->kid == "other-es256");
  auto full = jose::parse_claims(parsed->payload, 16 * 1024, 8);
  FAPI_FUZZ_CHECK(full);
  const auto* iss = full->if_contains("iss");
  FAPI_FUZZ_CHECK(iss && iss->is_string() && iss->get_string() == trust.issuer);
  const i128 now = fuzz::kNow;
  const auto iat = date(*full, "iat");
  const auto exp = date(*full, "exp");
  FAPI_FUZZ_CHECK(iat && *iat <= now + trust.skew && now - *iat <= trust.max_age);
  FAPI_FUZZ_CHECK(!exp || now <= *exp + trust.skew);
  for (std::string_view registered : {"iss", "sub", "aud", "exp", "nbf", "iat", "jti"}) {
    FAPI_FUZZ_CHECK(!claims.contains(registered));
  }
}

void check_merged(const boost::json::object& claims, const boost::json::object& merged) {
  for (const auto& [key, value] : claims) {
    if (key != "software_redirect_uris") {
      const auto* m = merged.if_contains(key);
      FAPI_FUZZ_CHECK(m && *m == value);
    }
  }
  const auto* bound = claims.if_contains("software_redirect_uris");
  if (bound == nullptr || bound->is_null()) {
    return;
  }
  const auto* uris = merged.if_contains("redirect_uris");
  FAPI_FUZZ_CHECK(uris != nullptr);
  if (const auto* arr = uris->if_array()) {
    for (const auto& u : *arr) {
      bool listed = false;
      for (const auto& b : bound->get_array()) {
        listed = listed || b == u;
      }
      FAPI_FUZZ_CHECK(listed);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)fuzz::directory_trust();
  (void)base_metadata();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string statement =
      fuzz::sign_mode(input) ? jose::fuzz::sign_with(fuzz::FuzzKeys::get().other_es256, input)
                             : std::string(input);
  auto claims = verify_software_statement(statement, fuzz::directory_trust(), fuzz::kNow);
  if (!claims) {
    FAPI_FUZZ_CHECK(claims.error().code == OAuthErrc::InvalidSoftwareStatement ||
                    claims.error().code == OAuthErrc::UnapprovedSoftwareStatement);
    return 0;
  }
  check_statement(statement, *claims);
  auto merged = apply_software_statement(base_metadata(), *claims);
  if (!merged) {
    FAPI_FUZZ_CHECK(merged.error().code == OAuthErrc::InvalidSoftwareStatement ||
                    merged.error().code == OAuthErrc::InvalidRedirectUri);
    return 0;
  }
  check_merged(*claims, *merged);
  auto out = validate_client_metadata(*merged, fuzz::as_settings());
  if (!out) {
    FAPI_FUZZ_CHECK(fuzz::registration_error(out.error().code));
    return 0;
  }
  fuzz::check_registered(*out);
  return 0;
}
