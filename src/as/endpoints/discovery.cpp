// OpenID Connect Discovery 1.0 §3 / RFC 8414 §2 metadata. It lists what this server supports
// and nothing it does not (fapi-requirements A.12).
#include <boost/json/serialize.hpp>

#include "as/endpoints/endpoints.hpp"
#include "as/grants/grant_table.hpp"
#include "jose/alg.hpp"

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
  for (const auto& sc : s.scopes_supported) {
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
