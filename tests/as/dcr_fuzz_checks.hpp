// What every accepted dynamic registration must satisfy (shared by the dcr_metadata and
// software_statement fuzz targets). Each violated rule aborts.
#pragma once

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <string>

#include "as/as_fuzz_common.hpp"
#include "as/checks/client_assertion.hpp"
#include "as/checks/client_auth.hpp"
#include "as/checks/client_metadata.hpp"
#include "as/client_policy.hpp"
#include "core/json.hpp"
#include "jose/jwe.hpp"

namespace fapigate::as::fuzz {

template <class C, class V>
bool has(const C& c, const V& v) {
  return std::find(c.begin(), c.end(), v) != c.end();
}

// OpenSSL's RSA public-key check (SP 800-56B, EVP_PKEY_public_check) runs Miller-Rabin with
// random bases on the modulus: for a modulus that is not a product of two large primes (any
// mutated one) it may refuse on one parse and accept on the next (seen at about 1 in 40). A
// second parse refusing an RSA key is therefore not a violation here; real keys always pass.
inline bool rsa_key_refused(const OAuthError& e) {
  return e.description.rfind("jwks.keys[", 0) == 0 &&
         e.description.find("not a usable public key") != std::string::npos;
}

// The stored client is one the rest of the server can use: the same rules hold when it is read
// back (client_policy, parse_client_jwks at authentication time, RFC 7592 re-registration of
// the returned metadata gives the same client).
inline void check_registered(const RegisteredMetadata& out) {
  const auto& rec = out.record;
  const auto& as = as_settings();
  FAPI_FUZZ_CHECK(has(supported_client_auth_methods(), rec.token_endpoint_auth_method));
  FAPI_FUZZ_CHECK(!rec.grant_types.empty());
  for (const auto& g : rec.grant_types) {
    FAPI_FUZZ_CHECK(g == "authorization_code" || g == "client_credentials" || g == "refresh_token");
  }
  const bool code = has(rec.grant_types, std::string("authorization_code"));
  FAPI_FUZZ_CHECK(!code || !rec.redirect_uris.empty());
  for (const auto& uri : rec.redirect_uris) {
    FAPI_FUZZ_CHECK(!redirect_uri_problem(uri));
  }
  FAPI_FUZZ_CHECK(!rec.scopes.empty());
  for (const auto& s : rec.scopes) {
    FAPI_FUZZ_CHECK(s == "openid" || has(as.scopes_supported, s));
  }
  if (rec.token_endpoint_auth_method == "tls_client_auth") {
    const int fields = !rec.tls_client_auth_subject_dn.empty() +
                       !rec.tls_client_auth_san_dns.empty() + !rec.tls_client_auth_san_uri.empty() +
                       !rec.tls_client_auth_san_ip.empty() + !rec.tls_client_auth_san_email.empty();
    FAPI_FUZZ_CHECK(fields == 1);
  } else {
    // private_key_jwt / self_signed_tls_client_auth authenticate with the registered keys:
    // they must parse as the authentication code will parse them.
    FAPI_FUZZ_CHECK(!rec.jwks_json.empty());
  }
  if (!rec.jwks_json.empty()) {
    auto jwks = parse_client_jwks(rec.jwks_json);
    FAPI_FUZZ_CHECK(jwks);
    FAPI_FUZZ_CHECK(rec.token_endpoint_auth_method != "private_key_jwt" || !jwks->keys.empty() ||
                    rec.jwks_json.find("\"RSA\"") != std::string::npos);
  }
  // The stored metadata is what client_policy and the RFC 7592 read parse.
  auto meta = core::parse_json_object(rec.metadata_json, core::JsonLimits{256 * 1024, 16});
  FAPI_FUZZ_CHECK(meta);
  FAPI_FUZZ_CHECK(*meta == out.metadata);
  const ClientPolicy policy = client_policy(rec, as);
  const auto* prof = out.metadata.if_contains("fapi_profile");
  FAPI_FUZZ_CHECK(prof && prof->is_string());
  FAPI_FUZZ_CHECK((policy.profile == FapiProfile::Fapi2) == (prof->get_string() == "fapi2"));
  if (policy.profile == FapiProfile::Fapi2) {
    FAPI_FUZZ_CHECK(policy.require_pushed_authorization_requests);
    FAPI_FUZZ_CHECK(!policy.refresh_token_rotation);
  }
  // An encrypting client has a key for its alg: none of its ID tokens can fail to encrypt.
  if (!policy.id_token_encrypted_response_alg.empty()) {
    auto alg = jose::parse_key_management_alg(policy.id_token_encrypted_response_alg);
    FAPI_FUZZ_CHECK(alg);
    FAPI_FUZZ_CHECK(policy.id_token_encrypted_response_enc.empty() ||
                    jose::parse_content_encryption(policy.id_token_encrypted_response_enc));
    FAPI_FUZZ_CHECK(jose::find_encryption_key(rec.jwks_json, *alg));
  } else {
    FAPI_FUZZ_CHECK(!out.metadata.contains("id_token_encrypted_response_enc"));
  }
  // Registering the returned metadata again (RFC 7592 §2.2 PUT) yields the same client.
  auto again = validate_client_metadata(out.metadata, as);
  if (!again && rsa_key_refused(again.error())) {
    return;
  }
  if (!again) {
    std::fprintf(stderr, "re-registration refused: %s\n", again.error().description.c_str());
  }
  FAPI_FUZZ_CHECK(again);
  FAPI_FUZZ_CHECK(again->record.token_endpoint_auth_method == rec.token_endpoint_auth_method);
  FAPI_FUZZ_CHECK(again->record.grant_types == rec.grant_types);
  FAPI_FUZZ_CHECK(again->record.scopes == rec.scopes);
  FAPI_FUZZ_CHECK(again->record.redirect_uris == rec.redirect_uris);
  FAPI_FUZZ_CHECK(again->record.jwks_json == rec.jwks_json);
  FAPI_FUZZ_CHECK(again->record.metadata_json == rec.metadata_json);
}

inline bool registration_error(OAuthErrc code) {
  return code == OAuthErrc::InvalidClientMetadata || code == OAuthErrc::InvalidRedirectUri ||
         code == OAuthErrc::InvalidSoftwareStatement ||
         code == OAuthErrc::UnapprovedSoftwareStatement;
}

}  // namespace fapigate::as::fuzz
