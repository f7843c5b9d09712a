// libFuzzer target for signed request objects (as/checks/request_object.hpp) and what PAR and
// /authorize do with their claims (as/authz_request.hpp). The input is the compact JWT, or, in
// sign mode (as_fuzz_common.hpp), the claims set that the target signs with the client's
// EdDSA key. Seeds: tests/fuzz/corpus/request_object. Invariants, each an abort:
//  - an accepted object satisfies every documented rule, recomputed here in 128-bit arithmetic:
//    iss = client_id, aud the issuer, exp present and not past, nbf present, not in the future
//    and at most 60 min old, exp - nbf at most 60 min, iat not in the future, client_id (if
//    any) the client's, no request / request_uri inside, the registered alg when one is set;
//  - every refusal is invalid_request_object;
//  - an authorization request validated from the claims has a registered redirect_uri, code or
//    code id_token, only registered scopes (plus openid), bounded printable state and nonce, a
//    43-character S256 challenge, and survives its own to_json / from_json (what PAR stores).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "as/as_fuzz_common.hpp"
#include "as/authz_request.hpp"
#include "as/checks/request_object.hpp"
#include "fuzz/numeric_date.hpp"
#include "jose/jws.hpp"

namespace {

using namespace fapigate;
using namespace fapigate::as;
using i128 = __int128;

std::optional<i128> date(const boost::json::object& c, std::string_view name) {
  return fuzz_support::numeric_date(c, name);
}

void check_accepted(const boost::json::object& c, const RequestObjectPolicy& policy) {
  const auto* iss = c.if_contains("iss");
  FAPI_FUZZ_CHECK(iss && iss->is_string() && iss->get_string() == fuzz::kClientId);
  bool aud_ok = false;
  if (const auto* aud = c.if_contains("aud")) {
    if (aud->is_string()) {
      aud_ok = aud->get_string() == policy.issuer;
    } else if (const auto* arr = aud->if_array()) {
      for (const auto& a : *arr) {
        aud_ok = aud_ok || (a.is_string() && a.get_string() == policy.issuer);
      }
    }
  }
  FAPI_FUZZ_CHECK(aud_ok);
  const i128 now = policy.now;
  const i128 skew = policy.skew_seconds;
  const auto exp = date(c, "exp");
  const auto nbf = date(c, "nbf");
  const auto iat = date(c, "iat");
  FAPI_FUZZ_CHECK(exp && nbf);
  FAPI_FUZZ_CHECK(now <= *exp + skew);
  FAPI_FUZZ_CHECK(*nbf <= now + skew);
  FAPI_FUZZ_CHECK(now - *nbf <= 3600);
  FAPI_FUZZ_CHECK(*exp - *nbf <= 3600);
  FAPI_FUZZ_CHECK(!iat || *iat <= now + skew);
  if (const auto* id = c.if_contains("client_id")) {
    FAPI_FUZZ_CHECK(id->is_string() && id->get_string() == fuzz::kClientId);
  }
  FAPI_FUZZ_CHECK(!c.contains("request") && !c.contains("request_uri"));
}

bool printable(std::string_view s) {
  for (char ch : s) {
    if (ch < 0x20 || ch >= 0x7f) {
      return false;
    }
  }
  return true;
}

void check_authorization_request(const boost::json::object& claims, const ClientPolicy& policy) {
  const auto& client = fuzz::client();
  auto r = validate_authorization_request(client, policy, params_of_claims(claims), true);
  if (!r) {
    return;
  }
  FAPI_FUZZ_CHECK(r->client_id == client.client_id);
  FAPI_FUZZ_CHECK(r->redirect_uri == fuzz::kRedirectUri);
  FAPI_FUZZ_CHECK(r->response_type == "code" || r->response_type == "code id_token");
  FAPI_FUZZ_CHECK(policy.profile != FapiProfile::Fapi2 || r->response_type == "code");
  FAPI_FUZZ_CHECK(!r->scopes.empty());
  for (const auto& s : r->scopes) {
    FAPI_FUZZ_CHECK(s == "openid" || s == "accounts" || s == "payments");
  }
  FAPI_FUZZ_CHECK(r->state.size() <= kMaxStateBytes && printable(r->state));
  FAPI_FUZZ_CHECK(r->nonce.size() <= kMaxNonceBytes && printable(r->nonce));
  FAPI_FUZZ_CHECK(r->code_challenge.size() == 43);
  FAPI_FUZZ_CHECK(r->signed_request);
  auto back = AuthorizationRequest::from_json(r->to_json());
  FAPI_FUZZ_CHECK(back.has_value());
  FAPI_FUZZ_CHECK(back->client_id == r->client_id && back->response_type == r->response_type &&
                  back->response_mode == r->response_mode &&
                  back->redirect_uri == r->redirect_uri && back->scopes == r->scopes &&
                  back->state == r->state && back->has_state == r->has_state &&
                  back->nonce == r->nonce && back->code_challenge == r->code_challenge &&
                  back->signed_request == r->signed_request);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)fuzz::client();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto& keys = fuzz::FuzzKeys::get();
  const std::string jwt = fuzz::sign_mode(input) ? jose::fuzz::sign_with(keys.client_eddsa, input,
                                                                         "oauth-authz-req+jwt")
                                                 : std::string(input);

  RequestObjectPolicy any;
  any.issuer = std::string(fuzz::kIssuer);
  any.now = fuzz::kNow;
  RequestObjectPolicy es256_only = any;
  es256_only.required_alg = jose::Alg::ES256;

  for (const RequestObjectPolicy* policy : {&any, &es256_only}) {
    auto claims = verify_request_object(jwt, fuzz::client(), *policy);
    if (!claims) {
      FAPI_FUZZ_CHECK(claims.error().code == OAuthErrc::InvalidRequestObject);
      FAPI_FUZZ_CHECK(!claims.error().description.empty());
      continue;
    }
    check_accepted(*claims, *policy);
    auto parsed = jose::parse_compact(jwt, jose::kAllAlgs);
    FAPI_FUZZ_CHECK(parsed);
    FAPI_FUZZ_CHECK(!policy->required_alg || parsed->alg == *policy->required_alg);
    if (policy == &any) {
      ClientPolicy fapi2;
      fapi2.response_types = {"code"};
      check_authorization_request(*claims, fapi2);
      ClientPolicy fapi1;
      fapi1.profile = FapiProfile::Fapi1Advanced;
      fapi1.response_types = {"code id_token", "code"};
      check_authorization_request(*claims, fapi1);
    }
  }
  return 0;
}
