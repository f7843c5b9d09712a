// OpenID Connect Discovery 1.0 §3 / RFC 8414 §2 metadata. It lists what this server supports
// and nothing it does not (fapi-requirements A.12).
#include <boost/json/serialize.hpp>

#include "as/endpoints/endpoints.hpp"
#include "as/grants/grant_table.hpp"
#include "jose/alg.hpp"
#include "jose/jwe.hpp"

namespace fapigate::as {

http::Response discovery_endpoint(const AsContext& ctx) {
  const auto& s = ctx.settings;
  const std::string& base = s.issuer;
  const std::string& mtls = s.mtls_base_url.empty() ? s.issuer : s.mtls_base_url;

  boost::json::array grants;
  for (auto& g : supported_grant_types()) {
    grants.emplace_back(g);
  }
  boost::json::array scopes;
  // OIDC Discovery §3: a server that issues ID tokens supports (and lists) openid.
  scopes.emplace_back("openid");
  for (const auto& sc : s.scopes_supported) {
    if (sc == "openid") {
      continue;
    }
    scopes.emplace_back(sc);
  }
  boost::json::array alg{boost::json::string(s.signing_alg)};

  boost::json::object doc;
  doc["issuer"] = base;
  doc["token_endpoint"] = base + "/token";
  doc["introspection_endpoint"] = base + "/introspect";
  doc["revocation_endpoint"] = base + "/revoke";
  doc["jwks_uri"] = base + "/jwks";
  doc["grant_types_supported"] = grants;
  doc["scopes_supported"] = scopes;
  // FAPI 2.0 SP §5.3.2.1-6 / FAPI 1.0 Advanced §5.2.2-14: only these methods exist here, and
  // assertions only in the FAPI algorithms (§5.4.1); the same at every endpoint that
  // authenticates clients (RFC 8414 §2).
  boost::json::array auth_methods;
  for (const auto& m : supported_client_auth_methods()) {
    auth_methods.emplace_back(m);
  }
  boost::json::array auth_algs;
  for (auto a : jose::kAllAlgs) {
    auth_algs.emplace_back(jose::alg_name(a));
  }
  doc["token_endpoint_auth_methods_supported"] = auth_methods;
  doc["token_endpoint_auth_signing_alg_values_supported"] = auth_algs;
  doc["introspection_endpoint_auth_methods_supported"] = auth_methods;
  doc["introspection_endpoint_auth_signing_alg_values_supported"] = auth_algs;
  doc["revocation_endpoint_auth_methods_supported"] = auth_methods;
  doc["revocation_endpoint_auth_signing_alg_values_supported"] = auth_algs;
  // RFC 8705 §3.3 and §5.
  doc["tls_client_certificate_bound_access_tokens"] = true;
  doc["mtls_endpoint_aliases"] = boost::json::object{
      {"token_endpoint", mtls + "/token"},
      {"introspection_endpoint", mtls + "/introspect"},
      {"revocation_endpoint", mtls + "/revoke"},
  };
  if (s.registration.enabled) {
    // RFC 7591 §3 / RFC 8414 §2. Registration is served on the mTLS listener only (a client
    // certificate is demanded), so that is where registration_endpoint points too (RFC 8705 §5).
    doc["registration_endpoint"] = mtls + "/register";
    doc["mtls_endpoint_aliases"].as_object()["registration_endpoint"] = mtls + "/register";
  }
  // The authorization-code front channel (RFC 8414 §2, RFC 9126 §5, RFC 9101 §10.5, JARM §4,
  // RFC 9207 §3, RFC 7636 §6.2).
  doc["authorization_endpoint"] = base + "/authorize";
  // PAR is served on both listeners: the front one for private_key_jwt clients, the mTLS alias
  // for certificate-authenticated clients (and for code binding to the certificate).
  doc["pushed_authorization_request_endpoint"] = base + "/par";
  doc["mtls_endpoint_aliases"].as_object()["pushed_authorization_request_endpoint"] =
      mtls + "/par";
  // True unless a configured FAPI 1.0 Advanced client may send its request object by value;
  // each client's own requirement is its require_pushed_authorization_requests metadata.
  bool par_required = true;
  for (const auto& c : s.clients) {
    if (c.profile == "fapi1_advanced" && !c.require_pushed_authorization_requests) {
      par_required = false;
    }
  }
  doc["require_pushed_authorization_requests"] = par_required;
  // Request objects by value at /authorize (FAPI 1.0 Advanced); request_uri only as issued by
  // PAR, never fetched from a client's URL (OIDC Discovery defaults this to true, hence false).
  doc["request_parameter_supported"] = true;
  doc["request_uri_parameter_supported"] = false;
  doc["request_object_signing_alg_values_supported"] = auth_algs;
  doc["response_types_supported"] = boost::json::array{"code", "code id_token"};
  doc["response_modes_supported"] =
      boost::json::array{"query", "fragment", "jwt", "query.jwt", "form_post.jwt"};
  doc["authorization_response_iss_parameter_supported"] = true;
  doc["code_challenge_methods_supported"] = boost::json::array{"S256"};
  boost::json::array jarm_algs;
  for (const auto& k : ctx.keys->view()->by_alg) {
    jarm_algs.emplace_back(jose::alg_name(k.alg));
  }
  doc["authorization_signing_alg_values_supported"] = jarm_algs;
  // ID tokens (OIDC Discovery §3): signed with every alg the AS keeps a key for, chosen per
  // client by id_token_signed_response_alg; the claims they carry (no user attributes).
  doc["id_token_signing_alg_values_supported"] = jarm_algs;
  // OIDC Discovery §3 / Registration §2: encrypted to the client's RSA key when it registered
  // id_token_encrypted_response_alg (jose/jwe.hpp; no RSA1_5, FAPI 1.0 Part 2 §8.6.1).
  boost::json::array jwe_algs;
  for (auto a : jose::kKeyManagementAlgs) {
    jwe_algs.emplace_back(jose::key_management_alg_name(a));
  }
  boost::json::array jwe_encs;
  for (auto e : jose::kContentEncryptions) {
    jwe_encs.emplace_back(jose::content_encryption_name(e));
  }
  doc["id_token_encryption_alg_values_supported"] = std::move(jwe_algs);
  doc["id_token_encryption_enc_values_supported"] = std::move(jwe_encs);
  doc["claims_supported"] = boost::json::array{"iss", "sub", "aud", "exp", "iat", "auth_time",
                                               "nonce", "acr", "azp", "at_hash", "c_hash",
                                               "s_hash"};
  doc["subject_types_supported"] = boost::json::array{"public"};
  // OIDC Discovery §3: the one acr a sign-in here produces.
  doc["acr_values_supported"] = boost::json::array{boost::json::string(s.login_acr)};
  doc["access_token_signing_alg_values_supported"] = alg;
  // RFC 9701 §7: the JWT introspection answer is signed with the AS signing key, never
  // encrypted (so no introspection_encryption_* members).
  doc["introspection_signing_alg_values_supported"] = alg;

  auto r = http::Response::json(200, boost::json::serialize(doc));
  r.headers.add("Cache-Control", "max-age=300");
  return r;
}

http::Response jwks_endpoint(const AsContext& ctx) {
  auto r = http::Response::json(200, ctx.keys->jwks_json());
  r.headers.set("Content-Type", "application/jwk-set+json");
  r.headers.add("Cache-Control", "max-age=300");
  return r;
}

}  // namespace fapigate::as
