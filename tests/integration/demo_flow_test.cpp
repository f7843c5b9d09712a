// The partner mTLS flow end to end against a real `fapigate demo` process, with curl as the
// partner: a certificate-bound token from the mTLS token endpoint, a payment through the
// gateway, and every refusal the gateway and the token endpoint owe a bad caller.
#include <sys/wait.h>

#include <fstream>
#include <sstream>

#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include "core/base64url.hpp"
#include "core/json.hpp"
#include "core/strings.hpp"
#include "crypto/x509.hpp"
#include "integration/demo_process.hpp"
#include "jose/jwk.hpp"
#include "jose/jws.hpp"

namespace fapigate::testing {
namespace {

boost::json::object json_of(const std::string& text) {
  auto o = core::parse_json_object(text, core::JsonLimits{1 << 20, 16});
  return o ? std::move(*o) : boost::json::object{};
}

std::string field(const boost::json::object& o, const char* key) {
  return std::string(core::get_string(o, key).value_or(""));
}

class DemoFlow : public ::testing::Test {
protected:
  static void SetUpTestSuite() { demo_ = new DemoProcess(); }
  static void TearDownTestSuite() {
    delete demo_;
    demo_ = nullptr;
  }

  static std::string url(int offset, const std::string& path) {
    return "https://localhost:" + std::to_string(demo_->port_base() + offset) + path;
  }
  static std::string tls_args(const char* who) {
    std::string args = "--cacert " + shell_quote(demo_->str("ca_file"));
    if (who) {
      args += " --cert " + shell_quote(demo_->partner(who, "cert_file")) + " --key " +
              shell_quote(demo_->partner(who, "key_file"));
    }
    return args + " ";
  }

  // client_credentials at the mTLS token endpoint with `who`'s certificate.
  static HttpResult token_request(const char* who, const std::string& client_id,
                                  const std::string& scope) {
    std::string data = "grant_type=client_credentials&client_id=" + client_id;
    if (!scope.empty()) {
      data += "&scope=" + scope;
    }
    return curl(tls_args(who) + "-X POST -H 'Content-Type: application/x-www-form-urlencoded' " +
                "--data " + shell_quote(data) + " " + shell_quote(url(1, "/token")));
  }

  static std::string partner_token(const std::string& scope = "accounts payments") {
    auto r = token_request("partner", "partner-client", scope);
    EXPECT_EQ(r.status, 200) << r.body;
    return field(json_of(r.body), "access_token");
  }

  static HttpResult call_gateway(const char* who, const std::string& method,
                                 const std::string& path, const std::string& token,
                                 const std::string& extra = "") {
    std::string args = tls_args(who) + "-X " + method + " ";
    if (!token.empty()) {
      args += "-H " + shell_quote("Authorization: Bearer " + token) + " ";
    }
    if (method == "POST") {
      args += "-H 'Content-Type: application/json' --data '{\"instructed_amount\":{\"amount\":\"5.00\",\"currency\":\"EUR\"}}' ";
    }
    return curl(args + extra + " " + shell_quote(url(2, path)));
  }

  static boost::json::object claims_of(const std::string& token) {
    auto parts = core::split(token, '.');
    if (parts.size() != 3) {
      return {};
    }
    auto payload = core::base64url_decode(parts[1]);
    return payload ? json_of(*payload) : boost::json::object{};
  }

  // Re-signs `claims` with the demo's gateway test key (trusted by the demo gateway for the demo
  // issuer only), so one property at a time can be changed.
  static std::string resign(const boost::json::object& claims, const char* typ = "at+jwt") {
    auto jwk = jose::parse_jwk(read_file_text(demo_->str("gateway_test_signing_key_file")));
    EXPECT_TRUE(jwk);
    auto token = jose::sign_compact(boost::json::serialize(claims), *jwk->alg, jwk->key, jwk->kid,
                                    typ);
    EXPECT_TRUE(token);
    return *token;
  }

  static std::string thumbprint_of(const char* who) {
    auto cert = crypto::parse_certificate_pem(read_file_text(demo_->partner(who, "cert_file")));
    EXPECT_TRUE(cert);
    return crypto::x5t_s256(cert->der);
  }

  static void expect_invalid_token(const HttpResult& r) {
    EXPECT_EQ(r.status, 401) << r.body;
    auto challenge = r.header("WWW-Authenticate");
    EXPECT_EQ(challenge.rfind("Bearer ", 0), 0u) << challenge;
    EXPECT_NE(challenge.find("error=\"invalid_token\""), std::string::npos) << challenge;
    EXPECT_FALSE(r.header("x-fapi-interaction-id").empty());
  }

  static DemoProcess* demo_;
};

DemoProcess* DemoFlow::demo_ = nullptr;

TEST_F(DemoFlow, ReadyLineAndDemoJsonFollowTheContract) {
  EXPECT_EQ(demo_->ready_line().rfind("ready", 0), 0u);
  const int n = demo_->port_base();
  EXPECT_EQ(demo_->str("name"), "fapigate");
  EXPECT_EQ(demo_->str("issuer"), "https://localhost:" + std::to_string(n));
  EXPECT_EQ(demo_->str("gateway_url"), "https://localhost:" + std::to_string(n + 2));
  for (const char* key : {"ca_file", "ca_key_file", "gateway_test_signing_key_file"}) {
    std::string path = demo_->str(key);
    EXPECT_EQ(path.front(), '/') << key << " must be absolute";
    EXPECT_FALSE(read_file_text(path).empty()) << key;
  }
  for (const char* who : {"partner", "other_partner"}) {
    EXPECT_FALSE(read_file_text(demo_->partner(who, "cert_file")).empty());
    EXPECT_FALSE(read_file_text(demo_->partner(who, "key_file")).empty());
  }
  EXPECT_EQ(demo_->partner("partner", "client_id"), "partner-client");
  EXPECT_EQ(demo_->partner("other_partner", "client_id"), "other-partner");
  const auto* resources = core::get_object(demo_->demo_json(), "resources");
  ASSERT_NE(resources, nullptr);
  EXPECT_EQ(field(*resources, "payments"), "POST /domestic-payments");
  EXPECT_EQ(field(*resources, "accounts"), "GET /accounts");
  auto key = jose::parse_jwk(read_file_text(demo_->str("gateway_test_signing_key_file")));
  ASSERT_TRUE(key);
  EXPECT_TRUE(key->key.is_private());
  EXPECT_FALSE(key->kid.empty());
  EXPECT_TRUE(key->alg.has_value());
}

TEST_F(DemoFlow, DiscoveryAdvertisesMtlsAliasesAndBoundTokens) {
  auto r = curl(tls_args(nullptr) + shell_quote(url(0, "/.well-known/openid-configuration")));
  ASSERT_EQ(r.status, 200);
  auto doc = json_of(r.body);
  EXPECT_EQ(field(doc, "issuer"), demo_->str("issuer"));
  EXPECT_EQ(doc["tls_client_certificate_bound_access_tokens"], true);
  const auto* aliases = core::get_object(doc, "mtls_endpoint_aliases");
  ASSERT_NE(aliases, nullptr);
  EXPECT_EQ(field(*aliases, "token_endpoint"), url(1, "/token"));
  auto jwks = curl(tls_args(nullptr) + shell_quote(field(doc, "jwks_uri")));
  ASSERT_EQ(jwks.status, 200);
  auto set = jose::parse_jwks(jwks.body);
  ASSERT_TRUE(set);
  EXPECT_GE(set->keys.size(), 1u);
  EXPECT_FALSE(set->keys[0].key.is_private()) << "the JWKS must publish public keys only";
}

TEST_F(DemoFlow, PartnerGetsBoundTokenAndPays) {
  auto t = token_request("partner", "partner-client", "payments");
  ASSERT_EQ(t.status, 200) << t.body;
  EXPECT_EQ(t.header("Cache-Control"), "no-store");
  auto body = json_of(t.body);
  EXPECT_EQ(field(body, "token_type"), "Bearer");
  EXPECT_EQ(field(body, "scope"), "payments");
  std::string token = field(body, "access_token");
  auto claims = claims_of(token);
  EXPECT_EQ(field(claims, "client_id"), "partner-client");
  EXPECT_EQ(field(claims, "iss"), demo_->str("issuer"));
  const auto* cnf = core::get_object(claims, "cnf");
  ASSERT_NE(cnf, nullptr);
  EXPECT_EQ(field(*cnf, "x5t#S256"), thumbprint_of("partner"));

  auto r = call_gateway("partner", "POST", "/domestic-payments", token);
  ASSERT_EQ(r.status, 200) << r.body;
  auto paid = json_of(r.body);
  EXPECT_EQ(field(paid, "status"), "AcceptedSettlementInProcess");
  const auto* caller = core::get_object(paid, "caller");
  ASSERT_NE(caller, nullptr);
  EXPECT_EQ(field(*caller, "client_id"), "partner-client");
  // The upstream saw the RFC 9440 Client-Cert of the very certificate the token is bound to.
  EXPECT_EQ(field(*caller, "certificate_thumbprint"), thumbprint_of("partner"));
}

TEST_F(DemoFlow, StolenTokenReplayedWithOtherCertificateIsRefused) {
  std::string token = partner_token();
  auto r = call_gateway("other_partner", "POST", "/domestic-payments", token);
  expect_invalid_token(r);
}

TEST_F(DemoFlow, ClientWithoutCertificateFailsTheHandshake) {
  std::string token = partner_token();
  auto r = call_gateway(nullptr, "POST", "/domestic-payments", token);
  EXPECT_NE(r.curl_exit, 0);
  EXPECT_EQ(r.status, 0) << "no HTTP answer without a client certificate";
}

TEST_F(DemoFlow, TokenLackingPaymentsScopeGetsInsufficientScope) {
  std::string token = partner_token("accounts");
  auto r = call_gateway("partner", "POST", "/domestic-payments", token);
  EXPECT_EQ(r.status, 403) << r.body;
  auto challenge = r.header("WWW-Authenticate");
  EXPECT_NE(challenge.find("error=\"insufficient_scope\""), std::string::npos) << challenge;
  EXPECT_NE(challenge.find("scope=\"payments\""), std::string::npos) << challenge;
  // The same token is fine where its scope is enough.
  auto ok = call_gateway("partner", "GET", "/accounts", token);
  EXPECT_EQ(ok.status, 200) << ok.body;
}

TEST_F(DemoFlow, ResignedTokenWithNothingChangedIsAccepted) {
  // The control for the tests below: the test key itself is trusted, so each refusal there is
  // for the one property changed.
  auto claims = claims_of(partner_token());
  auto r = call_gateway("partner", "POST", "/domestic-payments", resign(claims));
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(DemoFlow, JwtWithoutCnfIsRefused) {
  auto claims = claims_of(partner_token());
  claims.erase("cnf");
  expect_invalid_token(call_gateway("partner", "POST", "/domestic-payments", resign(claims)));
}

TEST_F(DemoFlow, OnePropertyChangedIsRefused) {
  const auto base = claims_of(partner_token());
  const std::int64_t now = core::get_int(base, "iat").value();

  auto expired = base;
  expired["exp"] = now - 3600;
  expired["iat"] = now - 7200;
  expect_invalid_token(call_gateway("partner", "POST", "/domestic-payments", resign(expired)));

  auto wrong_aud = base;
  wrong_aud["aud"] = "https://other-api.example";
  expect_invalid_token(call_gateway("partner", "POST", "/domestic-payments", resign(wrong_aud)));

  auto wrong_iss = base;
  wrong_iss["iss"] = "https://evil.example";
  expect_invalid_token(call_gateway("partner", "POST", "/domestic-payments", resign(wrong_iss)));

  auto future = base;
  future["nbf"] = now + 3600;
  expect_invalid_token(call_gateway("partner", "POST", "/domestic-payments", resign(future)));

  auto other_cnf = base;
  other_cnf["cnf"] = boost::json::object{{"x5t#S256", thumbprint_of("other_partner")}};
  expect_invalid_token(call_gateway("partner", "POST", "/domestic-payments", resign(other_cnf)));

  // RFC 9068 §4: an ID token (typ JWT) is not an access token.
  expect_invalid_token(call_gateway("partner", "POST", "/domestic-payments", resign(base, "JWT")));
}

TEST_F(DemoFlow, GarbageAndTamperedTokensAreRefused) {
  expect_invalid_token(call_gateway("partner", "GET", "/accounts", "not.a.jwt"));
  expect_invalid_token(call_gateway("partner", "GET", "/accounts", "abc"));
  std::string token = partner_token();
  std::string tampered = token;
  tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';
  expect_invalid_token(call_gateway("partner", "GET", "/accounts", tampered));
  // alg none, unsigned.
  std::string none = core::base64url_encode(R"({"alg":"none","typ":"at+jwt"})") + "." +
                     std::string(core::split(token, '.')[1]) + ".";
  expect_invalid_token(call_gateway("partner", "GET", "/accounts", none));
}

TEST_F(DemoFlow, MissingTokenGetsBareChallenge) {
  auto r = call_gateway("partner", "GET", "/accounts", "");
  EXPECT_EQ(r.status, 401);
  // RFC 6750 §3: no error attribute when no credentials were sent.
  EXPECT_EQ(r.header("WWW-Authenticate"), "Bearer realm=\"fapigate\"");
}

TEST_F(DemoFlow, TokenInQueryIsNotAccepted) {
  std::string token = partner_token();
  auto r = curl(tls_args("partner") + shell_quote(url(2, "/accounts?access_token=" + token)));
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.header("WWW-Authenticate").find("invalid_request"), std::string::npos);
}

TEST_F(DemoFlow, BearerSchemeIsCaseInsensitive) {
  std::string token = partner_token();
  auto r = curl(tls_args("partner") + "-H " + shell_quote("Authorization: bearer " + token) + " " +
                shell_quote(url(2, "/accounts")));
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(DemoFlow, InteractionIdIsEchoedOrGenerated) {
  std::string token = partner_token();
  auto echoed = call_gateway("partner", "GET", "/accounts", token,
                             "-H 'x-fapi-interaction-id: 3f1c2c1e-8f4a-4b38-9a61-0c1f5e0b9d11'");
  EXPECT_EQ(echoed.header("x-fapi-interaction-id"), "3f1c2c1e-8f4a-4b38-9a61-0c1f5e0b9d11");
  auto generated = call_gateway("partner", "GET", "/accounts", token);
  EXPECT_EQ(generated.header("x-fapi-interaction-id").size(), 36u);
  auto injected = call_gateway("partner", "GET", "/accounts", token,
                               "-H 'x-fapi-interaction-id: a\"b'");
  EXPECT_EQ(injected.header("x-fapi-interaction-id").size(), 36u) << "unsafe ids are replaced";
}

TEST_F(DemoFlow, UnknownRouteAndWrongMethod) {
  std::string token = partner_token();
  EXPECT_EQ(call_gateway("partner", "GET", "/nothing-here", token).status, 404);
  EXPECT_EQ(call_gateway("partner", "DELETE", "/accounts", token).status, 405);
  EXPECT_EQ(call_gateway("partner", "GET", "/accounts/../domestic-payments", token,
                         "--path-as-is").status,
            400);
}

// Every refusal the demo gateway can produce from outside, each with its exact status, exact
// WWW-Authenticate (RFC 6750 §3; none where the refusal is not about the token) and the error in
// the JSON body. Refusals that need another setup (issuer down, upstream down or slow, a
// trusted proxy's Client-Cert, phantom tokens) are in gateway_policy_flow_test.cpp.
TEST_F(DemoFlow, EveryRefusalHasItsExactStatusAndChallenge) {
  const std::string good = partner_token("accounts");
  const auto base = claims_of(good);
  const std::int64_t now = core::get_int(base, "iat").value();
  auto changed = [&](const char* key, boost::json::value v) {
    auto c = base;
    if (v.is_null()) {
      c.erase(key);
    } else {
      c[key] = std::move(v);
    }
    return resign(c);
  };
  std::string tampered = good;
  tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';
  const std::string none = core::base64url_encode(R"({"alg":"none","typ":"at+jwt"})") + "." +
                           std::string(core::split(good, '.')[1]) + ".";
  std::string unknown_kid;
  {
    auto jwk = jose::parse_jwk(read_file_text(demo_->str("gateway_test_signing_key_file")));
    ASSERT_TRUE(jwk);
    unknown_kid = jose::sign_compact(boost::json::serialize(base), *jwk->alg, jwk->key,
                                     "no-such-kid", "at+jwt")
                      .value();
  }
  auto challenge = [](const char* error, const char* description) {
    return std::string("Bearer realm=\"fapigate\", error=\"") + error +
           "\", error_description=\"" + description + "\"";
  };
  struct Case {
    const char* name;
    std::string method;
    std::string path;
    std::string token;
    std::string extra;  // more curl arguments
    int status;
    std::string www_authenticate;  // exact; "" = header absent
    std::string body_error;
  };
  const std::vector<Case> cases{
      {"no token", "GET", "/accounts", "", "", 401, "Bearer realm=\"fapigate\"", "token_missing"},
      {"token in the query", "GET", "/accounts?access_token=" + good, "", "", 400,
       challenge("invalid_request", "access tokens are accepted only in the Authorization header"),
       "invalid_request"},
      {"malformed", "GET", "/accounts", "abc", "", 401,
       challenge("invalid_token", "the access token is malformed"), "invalid_token"},
      {"alg none", "GET", "/accounts", none, "", 401,
       challenge("invalid_token", "the access token algorithm is not allowed"), "invalid_token"},
      {"typ JWT (an ID token)", "GET", "/accounts", resign(base, "JWT"), "", 401,
       challenge("invalid_token", "the token is not an access token (typ must be at+jwt)"),
       "invalid_token"},
      {"unknown issuer", "GET", "/accounts", changed("iss", "https://evil.example"), "", 401,
       challenge("invalid_token", "the token issuer is not trusted here"), "invalid_token"},
      {"unknown kid", "GET", "/accounts", unknown_kid, "", 401,
       challenge("invalid_token", "the token signing key is unknown"), "invalid_token"},
      {"bad signature", "GET", "/accounts", tampered, "", 401,
       challenge("invalid_token", "the token signature is invalid"), "invalid_token"},
      {"other audience", "GET", "/accounts", changed("aud", "https://other-api.example"), "", 401,
       challenge("invalid_token", "the token audience does not include this API"),
       "invalid_token"},
      {"expired", "GET", "/accounts", changed("exp", now - 3600), "", 401,
       challenge("invalid_token", "the access token expired"), "invalid_token"},
      {"not yet valid", "GET", "/accounts", changed("nbf", now + 3600), "", 401,
       challenge("invalid_token", "the access token is not yet valid"), "invalid_token"},
      {"no cnf", "GET", "/accounts", changed("cnf", nullptr), "", 401,
       challenge("invalid_token", "the access token is not bound to a certificate"),
       "invalid_token"},
      {"another certificate", "GET", "/accounts",
       changed("cnf", boost::json::object{{"x5t#S256", thumbprint_of("other_partner")}}), "", 401,
       challenge("invalid_token", "the access token is bound to another certificate"),
       "invalid_token"},
      {"scope missing", "POST", "/domestic-payments", good, "", 403,
       challenge("insufficient_scope", "the access token lacks a required scope") +
           ", scope=\"payments\"",
       "insufficient_scope"},
      {"no route", "GET", "/nothing-here", good, "", 404, "", "no_route"},
      {"method", "DELETE", "/accounts", good, "", 405, "", "method_not_allowed"},
      {"traversal", "GET", "/accounts/../domestic-payments", good, "--path-as-is", 400, "",
       "invalid_request"},
      {"Host other than the TLS name", "GET", "/accounts", good, "-H 'Host: other.example'", 421,
       "", "misdirected_request"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = call_gateway("partner", c.method, c.path, c.token, c.extra);
    EXPECT_EQ(r.status, c.status) << r.body;
    EXPECT_EQ(r.header("WWW-Authenticate"), c.www_authenticate);
    EXPECT_EQ(field(json_of(r.body), "error"), c.body_error) << r.body;
    EXPECT_FALSE(r.header("x-fapi-interaction-id").empty());
    EXPECT_EQ(r.header("Date").size(), 29u) << "F1-28: IMF-fixdate on refusals too";
  }
  // And the gateway still serves.
  EXPECT_EQ(call_gateway("partner", "GET", "/accounts", good).status, 200);
}

TEST_F(DemoFlow, TokenEndpointRefusesBadClientsWithOAuthErrors) {
  // Another partner's certificate presented with partner-client's id.
  auto wrong_cert = token_request("other_partner", "partner-client", "payments");
  EXPECT_EQ(wrong_cert.status, 401);
  EXPECT_EQ(field(json_of(wrong_cert.body), "error"), "invalid_client");

  auto unknown = token_request("partner", "nobody", "payments");
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(field(json_of(unknown.body), "error"), "invalid_client");

  // The front channel does not ask for a certificate: nothing to authenticate with.
  auto front = curl(tls_args("partner") + "--data 'grant_type=client_credentials&client_id=partner-client' " +
                    shell_quote(url(0, "/token")));
  EXPECT_EQ(front.status, 401);
  EXPECT_EQ(field(json_of(front.body), "error"), "invalid_client");

  auto bad_scope = token_request("partner", "partner-client", "admin");
  EXPECT_EQ(bad_scope.status, 400);
  EXPECT_EQ(field(json_of(bad_scope.body), "error"), "invalid_scope");
}

TEST_F(DemoFlow, TokenEndpointRefusesMalformedRequests) {
  auto json_body = curl(tls_args("partner") + "-H 'Content-Type: application/json' --data '{\"grant_type\":\"client_credentials\"}' " +
                        shell_quote(url(1, "/token")));
  EXPECT_EQ(json_body.status, 400);
  EXPECT_EQ(field(json_of(json_body.body), "error"), "invalid_request");

  auto no_grant = curl(tls_args("partner") + "--data 'client_id=partner-client' " +
                       shell_quote(url(1, "/token")));
  EXPECT_EQ(no_grant.status, 400);
  EXPECT_EQ(field(json_of(no_grant.body), "error"), "invalid_request");

  auto repeated = curl(tls_args("partner") +
                       "--data 'grant_type=client_credentials&client_id=partner-client&client_id=partner-client' " +
                       shell_quote(url(1, "/token")));
  EXPECT_EQ(repeated.status, 400);
  EXPECT_EQ(field(json_of(repeated.body), "error"), "invalid_request");

  auto password = curl(tls_args("partner") +
                       "--data 'grant_type=password&client_id=partner-client&username=a&password=b' " +
                       shell_quote(url(1, "/token")));
  EXPECT_EQ(password.status, 400);
  EXPECT_EQ(field(json_of(password.body), "error"), "unsupported_grant_type");

  auto get = curl(tls_args("partner") + shell_quote(url(1, "/token")));
  EXPECT_EQ(get.status, 405);
}

TEST_F(DemoFlow, OversizedHeaderGetsA4xxAndTheServerKeepsServing) {
  std::string big(64 * 1024, 'a');
  auto r = curl(tls_args("partner") + "-H " + shell_quote("X-Big: " + big) + " " +
                shell_quote(url(2, "/accounts")));
  EXPECT_GE(r.status, 400);
  EXPECT_LT(r.status, 500);
  auto huge_token = call_gateway("partner", "GET", "/accounts", std::string(12000, 'A'));
  EXPECT_GE(huge_token.status, 400);
  EXPECT_LT(huge_token.status, 500);
  EXPECT_TRUE(demo_->alive());
  EXPECT_EQ(call_gateway("partner", "GET", "/accounts", partner_token()).status, 200);
}

TEST_F(DemoFlow, NonJsonPaymentBodyGetsA400WithAMessage) {
  std::string token = partner_token();
  auto r = curl(tls_args("partner") + "-X POST -H " + shell_quote("Authorization: Bearer " + token) +
                " -H 'Content-Type: application/json' --data 'amount=5' " +
                shell_quote(url(2, "/domestic-payments")));
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(field(json_of(r.body), "error"), "invalid_request");
  EXPECT_FALSE(field(json_of(r.body), "error_description").empty());
}

TEST_F(DemoFlow, IntrospectionReturnsTheBindingAndInactiveForGarbage) {
  std::string token = partner_token();
  auto r = curl(tls_args("partner") + "--data-urlencode " + shell_quote("token=" + token) +
                " --data client_id=partner-client " + shell_quote(url(1, "/introspect")));
  ASSERT_EQ(r.status, 200) << r.body;
  auto doc = json_of(r.body);
  EXPECT_EQ(doc["active"], true);
  EXPECT_EQ(field(doc, "client_id"), "partner-client");
  const auto* cnf = core::get_object(doc, "cnf");
  ASSERT_NE(cnf, nullptr);
  EXPECT_EQ(field(*cnf, "x5t#S256"), thumbprint_of("partner"));

  auto garbage = curl(tls_args("partner") + "--data 'token=garbage&client_id=partner-client' " +
                      shell_quote(url(1, "/introspect")));
  EXPECT_EQ(garbage.status, 200);
  EXPECT_EQ(garbage.body, R"({"active":false})");
}

TEST_F(DemoFlow, PartnerClientCommandRunsTheFlow) {
  std::string out;
  EXPECT_EQ(run_fapigate({"client", "--demo-dir", demo_->dir()}, &out), 0) << out;
  EXPECT_NE(out.find("HTTP 200"), std::string::npos) << out;
  // The partner's smoke test shows the refusal too, with the other partner's certificate.
  EXPECT_EQ(run_fapigate({"client", "--demo-dir", demo_->dir(), "--api-cert",
                          demo_->partner("other_partner", "cert_file"), "--api-key",
                          demo_->partner("other_partner", "key_file")},
                         &out),
            1)
      << out;
  EXPECT_NE(out.find("HTTP 401"), std::string::npos) << out;
  EXPECT_NE(out.find("invalid_token"), std::string::npos) << out;
}

TEST_F(DemoFlow, StopsCleanlyOnSigterm) {
  // Runs a separate demo so the shared one stays up for the other tests in this process.
  DemoProcess own;
  EXPECT_TRUE(own.alive());
  EXPECT_EQ(own.stop(), 0);
}

}  // namespace
}  // namespace fapigate::testing
