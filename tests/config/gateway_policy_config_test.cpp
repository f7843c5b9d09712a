// The gateway policy keys: host, path placeholders, scopes_any, method_scopes, upstreams,
// upstream_tls, audiences, claim_headers, scope_header, trusted_proxies, upstream_retries.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "config/loader.hpp"

using namespace fapigate::config;

namespace {

const std::string kDataDir = std::string(FAPIGATE_TEST_DATA_DIR) + "/config";

const std::string kHead = R"(
gateway:
  enabled: true
  listener:
    port: 8445
    tls: {cert_file: pki/server.pem, key_file: pki/server.key, client_ca_file: pki/ca.pem}
  issuers:
    - {issuer: "https://as.example.com", jwks_uri: "https://as.example.com/jwks", audiences: [api]}
)";

LoadResult load(const std::string& tail) {
  return load_string(kHead + tail, "fapigate.yaml", kDataDir);
}

std::string all(const LoadResult& r) {
  std::string s;
  for (const auto& e : r.errors) {
    s += "  " + e + "\n";
  }
  return s;
}

#define EXPECT_ONLY_ERROR(r, msg)                                                          \
  do {                                                                                     \
    EXPECT_EQ((r).errors.size(), 1u) << all(r);                                            \
    EXPECT_TRUE(std::find((r).errors.begin(), (r).errors.end(), std::string(msg)) !=      \
                (r).errors.end())                                                          \
        << "want: " << (msg) << "\ngot:\n"                                                 \
        << all(r);                                                                         \
  } while (0)

TEST(GatewayPolicyConfig, EveryNewKeyIsRead) {
  auto r = load(R"(  trusted_proxies: [10.0.0.0/8, "::1"]
  upstream_retries: 2
  routes:
    - name: accounts
      host: api.bank.example
      path: /accounts/{id}
      methods: [GET, POST]
      scopes: [base]
      scopes_any: [gold, silver]
      method_scopes:
        GET: [accounts:read]
        POST: [accounts:write, audit]
      upstreams: [http://a.internal:1, https://b.internal:2]
      upstream_tls: {ca_file: pki/ca.pem, client_cert_file: pki/server.pem, client_key_file: pki/server.key}
      audiences: [https://accounts.api]
      claim_headers: {X-User: sub, X-Client-Id: client_id}
      scope_header: x-my-scope
      sender_constraint: none
)");
  ASSERT_TRUE(r.ok()) << all(r);
  const auto& g = r.config.gateway;
  EXPECT_EQ(g.trusted_proxies, (std::vector<std::string>{"10.0.0.0/8", "::1"}));
  EXPECT_EQ(g.upstream_retries, 2u);
  const auto& rt = g.routes.at(0);
  EXPECT_EQ(rt.host, "api.bank.example");
  EXPECT_EQ(rt.path, "/accounts/{id}");
  EXPECT_EQ(rt.scopes_any, (std::vector<std::string>{"gold", "silver"}));
  ASSERT_EQ(rt.method_scopes.size(), 2u);
  EXPECT_EQ(rt.method_scopes[0].method, "GET");
  EXPECT_EQ(rt.method_scopes[1].scopes, (std::vector<std::string>{"accounts:write", "audit"}));
  EXPECT_EQ(rt.upstreams.size(), 2u);
  ASSERT_TRUE(rt.upstream_tls);
  EXPECT_EQ(rt.upstream_tls->ca_file, kDataDir + "/pki/ca.pem");  // resolved against the file
  EXPECT_EQ(rt.audiences, (std::vector<std::string>{"https://accounts.api"}));
  ASSERT_EQ(rt.claim_headers.size(), 2u);
  EXPECT_EQ(rt.claim_headers[0].header, "X-User");
  EXPECT_EQ(rt.claim_headers[0].claim, "sub");
  EXPECT_EQ(rt.scope_header, "x-my-scope");
  EXPECT_EQ(rt.sender_constraint, SenderConstraint::None);
}

TEST(GatewayPolicyConfig, DefaultsStayBackwardsCompatible) {
  auto r = load(R"(  routes:
    - {name: p, path: /p, upstream: "http://u:1"}
)");
  ASSERT_TRUE(r.ok()) << all(r);
  const auto& g = r.config.gateway;
  EXPECT_TRUE(g.trusted_proxies.empty());
  EXPECT_EQ(g.upstream_retries, 1u);
  EXPECT_EQ(g.routes[0].sender_constraint, SenderConstraint::Mtls);  // mtls unless said
  EXPECT_TRUE(g.routes[0].upstreams.empty());
  EXPECT_FALSE(g.routes[0].upstream_tls);
}

TEST(GatewayPolicyConfig, BadTrustedProxyIsNamed) {
  auto r = load(R"(  trusted_proxies: [10.0.0.1/8]
  routes:
    - {name: p, path: /p, upstream: "http://u:1"}
)");
  EXPECT_ONLY_ERROR(r, "fapigate.yaml: gateway.trusted_proxies[0]: '10.0.0.1/8' is not an IP "
                       "address or CIDR range (e.g. 10.0.0.0/8), or has host bits set");
}

TEST(GatewayPolicyConfig, UpstreamRetriesRange) {
  auto r = load(R"(  upstream_retries: 11
  routes:
    - {name: p, path: /p, upstream: "http://u:1"}
)");
  EXPECT_ONLY_ERROR(r, "fapigate.yaml: gateway.upstream_retries: must be between 0 and 10");
}

TEST(GatewayPolicyConfig, UpstreamIdlePoolRange) {
  auto r = load(R"(  upstream_max_idle_connections: 100001
  routes:
    - {name: p, path: /p, upstream: "http://u:1"}
)");
  EXPECT_ONLY_ERROR(r,
                    "fapigate.yaml: gateway.upstream_max_idle_connections: must be between 0 and "
                    "100000");
}

TEST(GatewayPolicyConfig, PlaceholderMustBeAWholeSegment) {
  auto r = load(R"(  routes:
    - {name: p, path: "/a/x{id}", upstream: "http://u:1"}
)");
  EXPECT_ONLY_ERROR(r, "fapigate.yaml: gateway.routes[0].path: a '{name}' placeholder must be a "
                       "whole path segment");
  r = load(R"(  routes:
    - {name: p, path: "/a%2Fb", upstream: "http://u:1"}
)");
  EXPECT_ONLY_ERROR(r, "fapigate.yaml: gateway.routes[0].path: must not contain "
                       "percent-encoding (paths are matched decoded)");
}

TEST(GatewayPolicyConfig, HostMustBeAHostName) {
  auto r = load(R"(  routes:
    - {name: p, host: "api.example:8443", path: /p, upstream: "http://u:1"}
)");
  EXPECT_ONLY_ERROR(r, "fapigate.yaml: gateway.routes[0].host: 'api.example:8443' is not a host "
                       "name (letters, digits, '-', '.')");
}

TEST(GatewayPolicyConfig, MethodScopesAreChecked) {
  auto r = load(R"(  routes:
    - name: p
      path: /p
      methods: [GET]
      upstream: "http://u:1"
      method_scopes: {POST: [x]}
)");
  EXPECT_ONLY_ERROR(r, "fapigate.yaml: gateway.routes[0].method_scopes.POST: method 'POST' is not "
                       "in this route's methods");
  r = load(R"(  routes:
    - {name: p, path: /p, upstream: "http://u:1", method_scopes: {GET: []}}
)");
  EXPECT_ONLY_ERROR(r, "fapigate.yaml: gateway.routes[0].method_scopes.GET: must list at least "
                       "one scope");
  r = load(R"(  routes:
    - {name: p, path: /p, upstream: "http://u:1", method_scopes: {GET: read}}
)");
  EXPECT_ONLY_ERROR(r, "fapigate.yaml: gateway.routes[0].method_scopes.GET: expected a list of "
                       "strings, got a scalar");
}

TEST(GatewayPolicyConfig, UpstreamOrUpstreams) {
  auto r = load(R"(  routes:
    - {name: p, path: /p}
)");
  EXPECT_ONLY_ERROR(r, "fapigate.yaml: gateway.routes[0].upstream: required key is missing");
  r = load(R"(  routes:
    - {name: p, path: /p, upstreams: ["http://a:1", "ftp://b"]}
)");
  EXPECT_ONLY_ERROR(r, "fapigate.yaml: gateway.routes[0].upstreams[1]: must be an http:// or "
                       "https:// URL");
}

TEST(GatewayPolicyConfig, UpstreamTlsFiles) {
  auto r = load(R"(  routes:
    - {name: p, path: /p, upstream: "https://u:1", upstream_tls: {client_cert_file: pki/server.pem}}
)");
  EXPECT_ONLY_ERROR(r, "fapigate.yaml: gateway.routes[0].upstream_tls: client_cert_file and "
                       "client_key_file go together");
}

TEST(GatewayPolicyConfig, UpstreamTokenSigningIsRead) {
  auto r = load(R"(  upstream_token_signing:
    key_file: pki/server.key
    kid: gw-1
    issuer: https://gateway.bank.example
    lifetime_seconds: 120
  routes:
    - name: p
      path: /p
      upstream: "http://u:1"
      upstream_token: gateway
      upstream_audience: https://accounts.internal
    - {name: q, path: /q, upstream: "http://u:1"}
)");
  ASSERT_TRUE(r.errors.empty()) << all(r);
  const auto& g = r.config.gateway;
  ASSERT_TRUE(g.upstream_token_signing);
  EXPECT_EQ(g.upstream_token_signing->key_file, kDataDir + "/pki/server.key");
  EXPECT_EQ(g.upstream_token_signing->kid, "gw-1");
  EXPECT_EQ(g.upstream_token_signing->issuer, "https://gateway.bank.example");
  EXPECT_EQ(g.upstream_token_signing->lifetime, 120);
  EXPECT_EQ(g.routes[0].upstream_token, UpstreamToken::Gateway);
  EXPECT_EQ(g.routes[0].upstream_audience, "https://accounts.internal");
  EXPECT_EQ(g.routes[1].upstream_token, UpstreamToken::Incoming);
}

TEST(GatewayPolicyConfig, GatewayUpstreamTokenNeedsTheSigningKey) {
  auto r = load(R"(  routes:
    - {name: p, path: /p, upstream: "http://u:1", upstream_token: gateway}
)");
  EXPECT_ONLY_ERROR(r, "fapigate.yaml: gateway.routes[0].upstream_token: 'gateway' needs "
                       "gateway.upstream_token_signing (the key the gateway signs with)");
  auto audience = load(R"(  routes:
    - {name: p, path: /p, upstream: "http://u:1", upstream_audience: x}
)");
  EXPECT_ONLY_ERROR(audience, "fapigate.yaml: gateway.routes[0].upstream_audience: applies only "
                              "with upstream_token: gateway");
  auto unknown = load(R"(  routes:
    - {name: p, path: /p, upstream: "http://u:1", upstream_token: opaque}
)");
  ASSERT_EQ(unknown.errors.size(), 1u) << all(unknown);
  EXPECT_NE(unknown.errors[0].find("gateway.routes[0].upstream_token"), std::string::npos)
      << all(unknown);
}

TEST(GatewayPolicyConfig, UpstreamTokenSigningIsChecked) {
  auto r = load(R"(  upstream_token_signing: {key_file: pki/missing.key, lifetime_seconds: 0}
  routes:
    - {name: p, path: /p, upstream: "http://u:1"}
)");
  EXPECT_EQ(r.errors.size(), 3u) << all(r);
  const std::string text = all(r);
  EXPECT_NE(text.find("gateway.upstream_token_signing.key_file"), std::string::npos) << text;
  EXPECT_NE(text.find("gateway.upstream_token_signing.issuer"), std::string::npos) << text;
  EXPECT_NE(text.find("gateway.upstream_token_signing.lifetime_seconds: must be between 1 and "
                      "3600"),
            std::string::npos)
      << text;
}

TEST(GatewayPolicyConfig, ClaimHeadersCannotSpoofGatewayHeaders) {
  auto r = load(R"(  routes:
    - {name: p, path: /p, upstream: "http://u:1", claim_headers: {Client-Cert: sub}}
)");
  EXPECT_ONLY_ERROR(r, "fapigate.yaml: gateway.routes[0].claim_headers.Client-Cert: 'Client-Cert' "
                       "is set by the gateway itself and cannot carry a claim");
  r = load(R"(  routes:
    - {name: p, path: /p, upstream: "http://u:1", claim_headers: {"X User": sub}}
)");
  EXPECT_ONLY_ERROR(r, "fapigate.yaml: gateway.routes[0].claim_headers.X User: 'X User' is not a "
                       "valid header name");
}

TEST(GatewayPolicyConfig, ScopeHeaderNeedsTrustedProxies) {
  auto r = load(R"(  routes:
    - {name: p, path: /p, upstream: "http://u:1", scope_header: x-my-scope}
)");
  EXPECT_ONLY_ERROR(r, "fapigate.yaml: gateway.routes[0].scope_header: needs "
                       "gateway.trusted_proxies (the header is believed only from them)");
}

TEST(GatewayPolicyConfig, PlainListenerOnlyBehindTrustedProxies) {
  const std::string plain = R"(
gateway:
  enabled: true
  listener: {port: 8445}
  issuers:
    - {issuer: "https://as.example.com", jwks_uri: "https://as.example.com/jwks", audiences: [api]}
  routes:
    - {name: p, path: /p, upstream: "http://u:1"}
)";
  auto r = load_string(plain, "fapigate.yaml", kDataDir);
  EXPECT_ONLY_ERROR(r, "fapigate.yaml: gateway.listener.tls: required key is missing (this "
                       "listener must use TLS)");
  r = load_string(plain + "  trusted_proxies: [127.0.0.1]\n", "fapigate.yaml", kDataDir);
  EXPECT_TRUE(r.ok()) << all(r);
}

}  // namespace

// jwt_revocation_check introspects like opaque_tokens, so it needs the same: a client
// certificate for mTLS, this gateway's client_id at the issuer, and the introspection endpoint
// where discovery is off (jwks_uri given).
TEST(GatewayPolicyConfig, JwtRevocationCheckNeedsWhatIntrospectionNeeds) {
  const std::string route = "  routes:\n    - {name: p, path: /p, upstream: \"http://u:1\"}\n";
  auto bare = load(R"(    - {issuer: "https://as2.example.com", jwks_uri: "https://as2.example.com/jwks",
       audiences: [api], jwt_revocation_check: 30}
)" + route);
  EXPECT_EQ(bare.errors.size(), 3u) << all(bare);
  for (const char* msg :
       {"fapigate.yaml: gateway.issuers[1].introspection_client_id: required key is missing",
        "fapigate.yaml: gateway.issuers[1].introspection_endpoint: required when "
        "jwt_revocation_check is set and jwks_uri is set (no discovery)",
        "fapigate.yaml: gateway.issuers[1].client_cert_file: required when jwt_revocation_check "
        "is set (introspection is authenticated with mTLS)"}) {
    EXPECT_NE(std::find(bare.errors.begin(), bare.errors.end(), std::string(msg)),
              bare.errors.end())
        << "want: " << msg << "\ngot:\n"
        << all(bare);
  }
  const std::string complete = R"(    - issuer: "https://as2.example.com"
      jwks_uri: "https://as2.example.com/jwks"
      audiences: [api]
      client_cert_file: pki/server.pem
      client_key_file: pki/server.key
      introspection_client_id: gateway-client
      introspection_endpoint: "https://as2.example.com/introspect"
)";
  auto ok = load(complete + "      jwt_revocation_check: 30\n" + route);
  ASSERT_TRUE(ok.ok()) << all(ok);
  EXPECT_EQ(ok.config.gateway.issuers.at(1).jwt_revocation_check, 30);
  EXPECT_EQ(ok.config.gateway.issuers.at(0).jwt_revocation_check, 0);  // off by default
  EXPECT_ONLY_ERROR(load(complete + "      jwt_revocation_check: 3601\n" + route),
                    "fapigate.yaml: gateway.issuers[1].jwt_revocation_check: must be between 0 "
                    "and 3600 seconds");
}
