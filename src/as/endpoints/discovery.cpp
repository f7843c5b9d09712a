// OpenID Connect Discovery 1.0 §3 / RFC 8414 §2 metadata. It lists what this server supports
// and nothing it does not (fapi-requirements A.12).
#include <boost/json/serialize.hpp>

#include "as/endpoints/endpoints.hpp"
#include "as/grants/grant_table.hpp"

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
  doc["jwks_uri"] = base + "/jwks";
  doc["grant_types_supported"] = grants;
  doc["scopes_supported"] = scopes;
  doc["token_endpoint_auth_methods_supported"] = boost::json::array{"tls_client_auth"};
  doc["introspection_endpoint_auth_methods_supported"] = boost::json::array{"tls_client_auth"};
  // RFC 8705 §3.3 and §5.
  doc["tls_client_certificate_bound_access_tokens"] = true;
  doc["mtls_endpoint_aliases"] = boost::json::object{
      {"token_endpoint", mtls + "/token"},
      {"introspection_endpoint", mtls + "/introspect"},
  };
  doc["access_token_signing_alg_values_supported"] = alg;

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
