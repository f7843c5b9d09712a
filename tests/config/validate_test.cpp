// validate() on configurations built in code, as the demo does.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "config/loader.hpp"
#include "jose/jwe.hpp"

using namespace fapigate::config;

namespace {

const std::string kPki = std::string(FAPIGATE_TEST_DATA_DIR) + "/config/pki/";

Tls tls(ClientCertMode mode) {
  Tls t;
  t.cert_file = kPki + "server.pem";
  t.key_file = kPki + "server.key";
  t.client_ca_file = kPki + "ca.pem";
  t.client_cert = mode;
  return t;
}

// Every role on, valid: the shape of the demo configuration.
Config demo() {
  Config c;
  c.source = "demo";
  c.store.sqlite_path = "/tmp/demo.db";
  auto& as = c.authorization_server;
  as.enabled = true;
  as.issuer = "https://localhost:8443";
  as.mtls_base_url = "https://localhost:8444";
  as.front = {"127.0.0.1", 8443, tls(ClientCertMode::None)};
  as.mtls = {"127.0.0.1", 8444, tls(ClientCertMode::Required)};
  as.scopes_supported = {"accounts", "payments"};
  ClientRegistration partner;
  partner.client_id = "partner-client";
  partner.tls_client_auth_subject_dn = "CN=partner-client";
  partner.grant_types = {"client_credentials", "authorization_code"};
  partner.scopes = {"accounts", "payments"};
  as.clients.push_back(partner);
  auto& gw = c.gateway;
  gw.enabled = true;
  gw.listener = {"127.0.0.1", 8445, tls(ClientCertMode::Required)};
  Issuer is;
  is.issuer = "https://localhost:8443";
  is.jwks_uri = "https://localhost:8443/jwks";
  is.audiences = {"https://localhost:8445"};
  gw.issuers.push_back(is);
  Route r;
  r.name = "payments";
  r.path = "/domestic-payments";
  r.methods = {"POST"};
  r.scopes = {"payments"};
  r.upstream = "http://127.0.0.1:8446";
  gw.routes.push_back(r);
  c.demo_api.enabled = true;
  c.demo_api.listener = {"127.0.0.1", 8446, std::nullopt};
  return c;
}

std::string all(const std::vector<std::string>& errors) {
  std::string s;
  for (const auto& e : errors) {
    s += "  " + e + "\n";
  }
  return s;
}

// Exactly one problem, and this one.
#define EXPECT_ONLY(config, msg)                                     \
  do {                                                               \
    auto errs_ = validate(config);                                   \
    EXPECT_EQ(errs_.size(), 1u) << all(errs_);                       \
    EXPECT_TRUE(std::find(errs_.begin(), errs_.end(), std::string(msg)) != errs_.end()) \
        << "want: " << (msg) << "\ngot:\n" << all(errs_);            \
  } while (0)

}  // namespace

TEST(ConfigValidate, DemoShapedConfigIsValid) {
  auto errs = validate(demo());
  EXPECT_TRUE(errs.empty()) << all(errs);
}

TEST(ConfigValidate, DisabledRolesAreNotChecked) {
  Config c;
  c.gateway.routes.push_back(Route{});  // half-written, but the gateway is off
  c.authorization_server.issuer = "nonsense";
  EXPECT_TRUE(validate(c).empty());
}

TEST(ConfigValidate, NoSourceMeansNoPrefix) {
  Config c = demo();
  c.source.clear();
  c.authorization_server.signing_alg = "HS256";
  EXPECT_ONLY(c, "authorization_server.signing_alg: invalid value 'HS256'; must be one of: "
                 "PS256, ES256, EdDSA");
}

TEST(ConfigValidate, IssuerIsHttpsWithoutQueryFragmentOrTrailingSlash) {
  Config c = demo();
  c.authorization_server.issuer = "https://localhost:8443/";
  EXPECT_ONLY(c, "demo: authorization_server.issuer: must not end with '/'");
  c.authorization_server.issuer = "https://localhost:8443?x=1";
  EXPECT_ONLY(c, "demo: authorization_server.issuer: must not have a query or fragment");
  c.authorization_server.issuer = "https://localhost:8443#f";
  EXPECT_ONLY(c, "demo: authorization_server.issuer: must not have a query or fragment");
  c.authorization_server.issuer = "http://localhost:8443";
  EXPECT_ONLY(c, "demo: authorization_server.issuer: must be an https:// URL");
  c.authorization_server.issuer = "localhost";
  EXPECT_ONLY(c, "demo: authorization_server.issuer: must be an https:// URL");
  c.authorization_server.issuer = "";
  EXPECT_ONLY(c, "demo: authorization_server.issuer: required key is missing");
  c.authorization_server.issuer = "https://as.example.com/tenant-a";  // a path is fine
  EXPECT_TRUE(validate(c).empty());
}

TEST(ConfigValidate, GatewayIssuerMayEndWithSlash) {
  Config c = demo();
  c.gateway.issuers[0].issuer = "https://tenant.example.com/";
  EXPECT_TRUE(validate(c).empty()) << all(validate(c));
}

TEST(ConfigValidate, TlsFilesMustExist) {
  Config c = demo();
  c.gateway.listener.tls->cert_file = kPki + "nope.pem";
  EXPECT_ONLY(c, "demo: gateway.listener.tls.cert_file: cannot read '" + kPki +
                     "nope.pem': No such file or directory");
  c = demo();
  c.gateway.listener.tls->key_file = kPki;
  EXPECT_ONLY(c, "demo: gateway.listener.tls.key_file: '" + kPki + "' is not a regular file");
  c = demo();
  c.gateway.issuers[0].ca_file = "/nonexistent/ca.pem";
  EXPECT_ONLY(c, "demo: gateway.issuers[0].ca_file: cannot read '/nonexistent/ca.pem': No such "
                 "file or directory");
}

TEST(ConfigValidate, RequiredClientCertNeedsClientCa) {
  Config c = demo();
  c.gateway.listener.tls->client_ca_file.clear();
  EXPECT_ONLY(c, "demo: gateway.listener.tls.client_ca_file: required when client_cert is "
                 "'required'");
}

TEST(ConfigValidate, MtlsListenersMustAskForACertificate) {
  Config c = demo();
  c.authorization_server.mtls.tls->client_cert = ClientCertMode::None;
  EXPECT_ONLY(c, "demo: authorization_server.mtls.tls.client_cert: the mTLS listener must "
                 "request a client certificate (required or optional)");
  c = demo();
  c.gateway.listener.tls->client_cert = ClientCertMode::None;
  EXPECT_ONLY(c, "demo: gateway.listener.tls.client_cert: routes with sender_constraint 'mtls' "
                 "need a client certificate (required or optional)");
  c.gateway.routes[0].sender_constraint = SenderConstraint::None;
  EXPECT_TRUE(validate(c).empty());
}

TEST(ConfigValidate, GatewayNeedsAnIssuerAndARoute) {
  Config c = demo();
  c.gateway.issuers.clear();
  c.gateway.routes.clear();
  auto errs = validate(c);
  ASSERT_EQ(errs.size(), 2u) << all(errs);
  EXPECT_EQ(errs[0], "demo: gateway.issuers: the gateway needs at least one issuer");
  EXPECT_EQ(errs[1], "demo: gateway.routes: the gateway needs at least one route");
}

TEST(ConfigValidate, RoutesReferenceKnownIssuers) {
  Config c = demo();
  c.gateway.routes[0].issuers = {"https://localhost:8443", "https://evil.example"};
  EXPECT_ONLY(c, "demo: gateway.routes[0].issuers[1]: unknown issuer 'https://evil.example'; it "
                 "must be one of gateway.issuers");
}

TEST(ConfigValidate, RoutePathStartsWithSlash) {
  Config c = demo();
  c.gateway.routes[0].path = "payments";
  EXPECT_ONLY(c, "demo: gateway.routes[0].path: must start with '/'");
  c.gateway.routes[0].path = "/a*/b";
  EXPECT_ONLY(c, "demo: gateway.routes[0].path: '*' is only allowed as the last character (a "
                 "prefix match)");
  c.gateway.routes[0].path = "/a/*";
  EXPECT_TRUE(validate(c).empty());
}

TEST(ConfigValidate, MethodsAreHttpTokens) {
  Config c = demo();
  c.gateway.routes[0].methods = {"GET", "GET POST", ""};
  auto errs = validate(c);
  ASSERT_EQ(errs.size(), 2u) << all(errs);
  EXPECT_EQ(errs[0], "demo: gateway.routes[0].methods[1]: 'GET POST' is not a valid HTTP method");
  EXPECT_EQ(errs[1], "demo: gateway.routes[0].methods[2]: '' is not a valid HTTP method");
}

TEST(ConfigValidate, RouteScopesAreScopeTokens) {
  Config c = demo();
  c.gateway.routes[0].scopes = {"a b"};
  EXPECT_ONLY(c, "demo: gateway.routes[0].scopes[0]: 'a b' is not a valid scope (printable "
                 "ASCII, no space, '\"' or '\\')");
}

TEST(ConfigValidate, UpstreamUrl) {
  Config c = demo();
  c.gateway.routes[0].upstream = "127.0.0.1:8446";
  EXPECT_ONLY(c, "demo: gateway.routes[0].upstream: must be an http:// or https:// URL");
  c.gateway.routes[0].upstream = "http://127.0.0.1:8446/?q=1";
  EXPECT_ONLY(c, "demo: gateway.routes[0].upstream: must not have a query, fragment or user "
                 "information");
}

TEST(ConfigValidate, DuplicateRouteNames) {
  Config c = demo();
  c.gateway.routes.push_back(c.gateway.routes[0]);
  EXPECT_ONLY(c, "demo: gateway.routes[1].name: duplicate route name 'payments'");
}

TEST(ConfigValidate, IssuerSettings) {
  Config c = demo();
  c.gateway.issuers.push_back(c.gateway.issuers[0]);
  c.gateway.issuers[1].jwks_uri = "http://localhost/jwks";
  c.gateway.issuers[1].audiences.clear();
  c.gateway.issuers[1].client_cert_file = kPki + "server.pem";
  c.gateway.issuers[1].clock_skew = 3600;
  c.gateway.issuers[1].fetch_timeout_ms = 0;
  auto errs = validate(c);
  for (const char* want : {
           "demo: gateway.issuers[1].issuer: duplicate issuer 'https://localhost:8443'",
           "demo: gateway.issuers[1].jwks_uri: must be an https:// URL",
           "demo: gateway.issuers[1].audiences: must list at least one audience",
           "demo: gateway.issuers[1]: client_cert_file and client_key_file go together",
           "demo: gateway.issuers[1].clock_skew: must be between 0 and 300 seconds",
           "demo: gateway.issuers[1].fetch_timeout_ms: must be between 1 and 60000 milliseconds",
       }) {
    EXPECT_TRUE(std::find(errs.begin(), errs.end(), want) != errs.end())
        << "want: " << want << "\ngot:\n" << all(errs);
  }
  EXPECT_EQ(errs.size(), 6u) << all(errs);
}

TEST(ConfigValidate, ClientsHaveUniqueIds) {
  Config c = demo();
  c.authorization_server.clients.push_back(c.authorization_server.clients[0]);
  EXPECT_ONLY(c, "demo: authorization_server.clients[1].client_id: duplicate client_id "
                 "'partner-client' (also authorization_server.clients[0])");
}

TEST(ConfigValidate, ClientAuthMethodIsKnown) {
  Config c = demo();
  c.authorization_server.clients[0].token_endpoint_auth_method = "client_secret_post";
  EXPECT_ONLY(c, "demo: authorization_server.clients[0].token_endpoint_auth_method: invalid "
                 "value 'client_secret_post'; must be one of: tls_client_auth, "
                 "self_signed_tls_client_auth, private_key_jwt");
}

TEST(ConfigValidate, TlsClientAuthNeedsExactlyOneSubjectOrSan) {
  Config c = demo();
  auto& cl = c.authorization_server.clients[0];
  cl.tls_client_auth_subject_dn.clear();
  EXPECT_ONLY(c, "demo: authorization_server.clients[0]: tls_client_auth needs "
                 "tls_client_auth_subject_dn or one tls_client_auth_san_* key");
  cl.tls_client_auth_san_uri = "spiffe://partner";
  EXPECT_TRUE(validate(c).empty());
  cl.tls_client_auth_san_email = "ops@partner.example";
  EXPECT_ONLY(c, "demo: authorization_server.clients[0]: tls_client_auth takes exactly one of "
                 "tls_client_auth_subject_dn and the tls_client_auth_san_* keys (RFC 8705 "
                 "2.1.2)");
}

TEST(ConfigValidate, KeyBasedClientsNeedAJwksFile) {
  Config c = demo();
  auto& cl = c.authorization_server.clients[0];
  cl.token_endpoint_auth_method = "private_key_jwt";
  EXPECT_ONLY(c, "demo: authorization_server.clients[0].jwks_file: required for "
                 "token_endpoint_auth_method private_key_jwt");
  cl.jwks_file = std::string(FAPIGATE_TEST_DATA_DIR) + "/config/keys/tpp.jwks.json";
  EXPECT_TRUE(validate(c).empty());
}

TEST(ConfigValidate, ClientsMayHaveTheOpenidScopeWithoutItBeingListed) {
  Config c = demo();
  auto& as = c.authorization_server;
  as.scopes_supported.erase(std::remove(as.scopes_supported.begin(), as.scopes_supported.end(),
                                        std::string("openid")),
                            as.scopes_supported.end());
  ASSERT_FALSE(as.scopes_supported.empty());
  as.clients[0].scopes.push_back("openid");
  EXPECT_TRUE(validate(c).empty()) << all(validate(c));
}

TEST(ConfigValidate, IdTokenEncryptionSettings) {  // OIDC Registration §2, F1-13
  Config c = demo();
  auto& cl = c.authorization_server.clients[0];  // tls_client_auth, no jwks_file
  cl.id_token_encrypted_response_enc = "A256GCM";
  EXPECT_ONLY(c, "demo: authorization_server.clients[0].id_token_encrypted_response_enc: needs "
                 "id_token_encrypted_response_alg (OIDC Registration 2)");
  cl.id_token_encrypted_response_alg = "RSA-OAEP-256";
  EXPECT_ONLY(c, "demo: authorization_server.clients[0].jwks_file: required for "
                 "id_token_encrypted_response_alg: the client's RSA key to encrypt ID tokens to");
  cl.jwks_file = std::string(FAPIGATE_TEST_DATA_DIR) + "/config/keys/tpp.jwks.json";
  EXPECT_TRUE(validate(c).empty()) << all(validate(c));
  cl.id_token_encrypted_response_alg = "RSA1_5";
  cl.id_token_encrypted_response_enc = "A192GCM";
  auto errs = validate(c);
  for (const char* want : {
           "demo: authorization_server.clients[0].id_token_encrypted_response_alg: invalid "
           "value 'RSA1_5'; must be one of: RSA-OAEP-256, RSA-OAEP",
           "demo: authorization_server.clients[0].id_token_encrypted_response_enc: invalid "
           "value 'A192GCM'; must be one of: A128CBC-HS256, A256CBC-HS512, A128GCM, A256GCM",
       }) {
    EXPECT_TRUE(std::find(errs.begin(), errs.end(), want) != errs.end())
        << "want: " << want << "\ngot:\n" << all(errs);
  }
  EXPECT_EQ(errs.size(), 2u) << all(errs);
}

TEST(ConfigValidate, IdTokenEncryptionAcceptsWhatTheJoseModuleOffers) {
  // config/ cannot depend on jose/, so it lists the names itself; they must stay the same.
  Config c = demo();
  auto& cl = c.authorization_server.clients[0];
  cl.jwks_file = std::string(FAPIGATE_TEST_DATA_DIR) + "/config/keys/tpp.jwks.json";
  for (auto alg : fapigate::jose::kKeyManagementAlgs) {
    for (auto enc : fapigate::jose::kContentEncryptions) {
      cl.id_token_encrypted_response_alg = std::string(fapigate::jose::key_management_alg_name(alg));
      cl.id_token_encrypted_response_enc = std::string(fapigate::jose::content_encryption_name(enc));
      EXPECT_TRUE(validate(c).empty()) << cl.id_token_encrypted_response_alg << " "
                                       << cl.id_token_encrypted_response_enc << "\n"
                                       << all(validate(c));
    }
  }
}

TEST(ConfigValidate, ClientGrantTypesScopesAndRedirects) {
  Config c = demo();
  auto& cl = c.authorization_server.clients[0];
  cl.grant_types = {"password"};
  cl.scopes = {"admin"};
  cl.redirect_uris = {"http://partner.example/cb", "https://partner.example/cb#x"};
  auto errs = validate(c);
  for (const char* want : {
           "demo: authorization_server.clients[0].grant_types[0]: invalid value 'password'; "
           "must be one of: authorization_code, client_credentials, refresh_token, "
           "urn:openid:params:grant-type:ciba",
           "demo: authorization_server.clients[0].scopes[0]: scope 'admin' is not in "
           "authorization_server.scopes_supported",
           "demo: authorization_server.clients[0].redirect_uris[0]: must be an https:// URL",
           "demo: authorization_server.clients[0].redirect_uris[1]: must not have a fragment",
       }) {
    EXPECT_TRUE(std::find(errs.begin(), errs.end(), want) != errs.end())
        << "want: " << want << "\ngot:\n" << all(errs);
  }
  EXPECT_EQ(errs.size(), 4u) << all(errs);
}

TEST(ConfigValidate, NoDuplicateListenerAddress) {
  Config c = demo();
  c.demo_api.listener.port = 8445;
  EXPECT_ONLY(c, "demo: demo_api.listener: address 127.0.0.1:8445 is already used by "
                 "gateway.listener");
  c.demo_api.listener.address = "0.0.0.0";  // the wildcard overlaps every address
  EXPECT_ONLY(c, "demo: demo_api.listener: address 0.0.0.0:8445 is already used by "
                 "gateway.listener");
  c.demo_api.listener.port = 0;  // ephemeral ports never collide
  c.gateway.listener.port = 0;
  EXPECT_TRUE(validate(c).empty());
}

TEST(ConfigValidate, AccessTokenLifetimeRange) {
  Config c = demo();
  c.authorization_server.access_token_lifetime = 0;
  EXPECT_ONLY(c, "demo: authorization_server.access_token_lifetime: must be between 1 and 86400 "
                 "seconds");
}

TEST(ConfigValidate, RealmIsSafeInAQuotedString) {
  Config c = demo();
  c.gateway.realm = "a\"b";
  EXPECT_ONLY(c, "demo: gateway.realm: must be a non-empty string without '\"', '\\' or line "
                 "breaks");
}

// --- Client authentication: required_any and the assertion audience --------------------------

namespace {

const std::string kJwks = std::string(FAPIGATE_TEST_DATA_DIR) + "/config/keys/tpp.jwks.json";

Config with_self_signed_client() {
  Config c = demo();
  ClientRegistration self;
  self.client_id = "self-signed";
  self.token_endpoint_auth_method = "self_signed_tls_client_auth";
  self.jwks_file = kJwks;
  self.scopes = {"accounts"};
  c.authorization_server.clients.push_back(self);
  return c;
}

}  // namespace

TEST(ConfigValidate, SelfSignedClientsNeedRequiredAnyOnTheMtlsListener) {
  Config c = with_self_signed_client();
  EXPECT_ONLY(c, "demo: authorization_server.mtls.tls.client_cert: must be 'required_any' for "
                 "self_signed_tls_client_auth clients (authorization_server.clients[1])");
  c.authorization_server.mtls.tls->client_cert = ClientCertMode::Optional;
  EXPECT_ONLY(c, "demo: authorization_server.mtls.tls.client_cert: must be 'required_any' for "
                 "self_signed_tls_client_auth clients (authorization_server.clients[1])");
  c.authorization_server.mtls.tls->client_cert = ClientCertMode::RequiredAny;
  EXPECT_TRUE(validate(c).empty()) << all(validate(c));
}

TEST(ConfigValidate, RequiredAnyNeedsAClientCa) {
  Config c = with_self_signed_client();
  c.authorization_server.mtls.tls->client_cert = ClientCertMode::RequiredAny;
  c.authorization_server.mtls.tls->client_ca_file.clear();
  EXPECT_ONLY(c, "demo: authorization_server.mtls.tls.client_ca_file: required when client_cert "
                 "is 'required_any'");
}

TEST(ConfigValidate, GatewayRefusesRequiredAny) {
  Config c = demo();
  c.gateway.listener.tls->client_cert = ClientCertMode::RequiredAny;
  EXPECT_ONLY(c, "demo: gateway.listener.tls.client_cert: 'required_any' is only for the "
                 "authorization server's mtls listener; use 'required'");
}

TEST(ConfigLoadClientAuth, RequiredAnyAndAssertionAudienceAreRead) {
  const std::string yaml = R"(
authorization_server:
  mtls: {tls: {client_cert: required_any}}
  client_assertion_audience: issuer_or_endpoint
)";
  LoadResult r = load_string(yaml, "fapigate.yaml", std::string(FAPIGATE_TEST_DATA_DIR) + "/config");
  ASSERT_TRUE(r.config.authorization_server.mtls.tls);
  EXPECT_EQ(r.config.authorization_server.mtls.tls->client_cert, ClientCertMode::RequiredAny);
  EXPECT_EQ(r.config.authorization_server.client_assertion_audience,
            ClientAssertionAudience::IssuerOrEndpoint);
}

TEST(ConfigLoadAcr, LoginAcrDefaultsToCustomerAuthenticationAndMustBeAToken) {
  LoadResult ok = load_string("authorization_server: {}\n", "fapigate.yaml");
  EXPECT_EQ(ok.config.authorization_server.login_acr, "urn:openbanking:psd2:ca");
  LoadResult r =
      load_string("authorization_server: {enabled: true, login_acr: \"two words\"}\n", "fapigate.yaml");
  EXPECT_NE(std::find(r.errors.begin(), r.errors.end(),
                      "fapigate.yaml: authorization_server.login_acr: must be 1 to 256 printable "
                      "characters without spaces, '\"' or '\\'"),
            r.errors.end())
      << all(r.errors);
}

TEST(ConfigLoadLoginThrottle, KeysAreReadAndBounded) {
  LoadResult ok = load_string(
      "authorization_server: {login_max_failures_per_user: 3, login_max_failures_per_address: 50,"
      " login_failure_window: 600}\n",
      "fapigate.yaml");
  EXPECT_EQ(ok.config.authorization_server.login_max_failures_per_user, 3);
  EXPECT_EQ(ok.config.authorization_server.login_max_failures_per_address, 50);
  EXPECT_EQ(ok.config.authorization_server.login_failure_window, 600);
  LoadResult r = load_string(
      "authorization_server: {enabled: true, login_max_failures_per_user: 0,"
      " login_max_failures_per_address: 100001, login_failure_window: 59}\n",
      "fapigate.yaml");
  for (const char* msg :
       {"fapigate.yaml: authorization_server.login_max_failures_per_user: must be between 1 and "
        "1000",
        "fapigate.yaml: authorization_server.login_max_failures_per_address: must be between 1 "
        "and 100000",
        "fapigate.yaml: authorization_server.login_failure_window: must be between 60 and 86400 "
        "seconds"}) {
    EXPECT_NE(std::find(r.errors.begin(), r.errors.end(), msg), r.errors.end())
        << "want: " << msg << "\ngot:\n"
        << all(r.errors);
  }
}

TEST(ConfigLoadClientAuth, AssertionAudienceDefaultsToIssuerAndRefusesOtherValues) {
  LoadResult ok = load_string("authorization_server: {}\n", "fapigate.yaml");
  EXPECT_EQ(ok.config.authorization_server.client_assertion_audience,
            ClientAssertionAudience::Issuer);
  LoadResult r = load_string("authorization_server: {client_assertion_audience: any}\n",
                             "fapigate.yaml");
  EXPECT_NE(std::find(r.errors.begin(), r.errors.end(),
                      "fapigate.yaml: authorization_server.client_assertion_audience: invalid "
                      "value 'any'; must be one of: issuer, issuer_or_endpoint"),
            r.errors.end())
      << all(r.errors);
}

// ---- signing keys: rotation timing and the key-encryption key file ----------------------------

TEST(ConfigValidateKeys, DefaultsAreValid) {
  Config c = demo();
  EXPECT_EQ(c.authorization_server.key_publish_ahead, 300);
  EXPECT_EQ(c.authorization_server.key_refresh_interval, 30);
  EXPECT_TRUE(c.authorization_server.key_encryption_key_file.empty());
  EXPECT_TRUE(validate(c).empty());
}

TEST(ConfigValidateKeys, PublishAheadMustCoverTheRefreshInterval) {
  Config c = demo();
  c.authorization_server.key_publish_ahead = 10;
  c.authorization_server.key_refresh_interval = 11;
  EXPECT_ONLY(c, "demo: authorization_server.key_publish_ahead: must be at least "
                 "key_refresh_interval (11 seconds)");
}

TEST(ConfigValidateKeys, RefreshIntervalIsBounded) {
  Config c = demo();
  c.authorization_server.key_refresh_interval = 0;
  EXPECT_ONLY(c, "demo: authorization_server.key_refresh_interval: must be between 1 and 3600 "
                 "seconds");
  c.authorization_server.key_refresh_interval = 3601;
  c.authorization_server.key_publish_ahead = 4000;
  EXPECT_ONLY(c, "demo: authorization_server.key_refresh_interval: must be between 1 and 3600 "
                 "seconds");
}

TEST(ConfigValidateKeys, PublishAheadIsBounded) {
  Config c = demo();
  c.authorization_server.key_publish_ahead = 8 * 86'400;
  EXPECT_ONLY(c, "demo: authorization_server.key_publish_ahead: must be between 0 and 604800 "
                 "seconds");
}

TEST(ConfigValidateKeys, MissingKekFileIsNamed) {
  Config c = demo();
  c.authorization_server.key_encryption_key_file = "/nonexistent/fapigate-kek";
  EXPECT_ONLY(c, "demo: authorization_server.key_encryption_key_file: cannot read "
                 "'/nonexistent/fapigate-kek': No such file or directory");
}

TEST(ConfigLoadKeys, KeysAreReadAndTheKekPathIsResolved) {
  const std::string yaml = R"(
authorization_server:
  key_encryption_key_file: secrets/kek
  key_publish_ahead: 120
  key_refresh_interval: 5
)";
  LoadResult r = load_string(yaml, "fapigate.yaml", "/etc/fapigate");
  const auto& as = r.config.authorization_server;
  EXPECT_EQ(as.key_encryption_key_file, "/etc/fapigate/secrets/kek");
  EXPECT_EQ(as.key_publish_ahead, 120);
  EXPECT_EQ(as.key_refresh_interval, 5);
  LoadResult bad = load_string("authorization_server: {key_publish_ahead: soon}\n", "f.yaml");
  EXPECT_FALSE(bad.errors.empty());
}

TEST(ConfigLoadKeys, TheFullExampleCarriesTheKeySettings) {
  LoadResult r = load_file(std::string(FAPIGATE_TEST_DATA_DIR) + "/config/full.yaml");
  const auto& as = r.config.authorization_server;
  EXPECT_EQ(as.key_encryption_key_file,
            std::string(FAPIGATE_TEST_DATA_DIR) + "/config/keys/test-kek.b64");
  EXPECT_EQ(as.key_publish_ahead, 600);
  EXPECT_EQ(as.key_refresh_interval, 15);
}
