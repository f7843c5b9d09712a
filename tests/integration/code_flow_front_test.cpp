// The customer-consented flow against a real `fapigate demo`, with curl as both the partner
// (PAR over mTLS with its certificate) and the customer's browser (a cookie jar, the login and
// consent forms posted as forms): PAR -> /authorize -> login -> consent -> redirect with code,
// state and iss -> code exchange. Plus the refusals a conformance run tries on this path:
// unregistered redirect_uri, missing and plain PKCE, reused request_uri, a wrong CSRF token, an
// alg none request object, a request object signed with another client's key, an unsigned
// FAPI 1.0 Advanced request at /authorize.
#include <ctime>
#include <regex>

#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include "core/base64url.hpp"
#include "core/json.hpp"
#include "core/strings.hpp"
#include "crypto/digest.hpp"
#include "integration/demo_process.hpp"
#include "jose/jwk.hpp"
#include "jose/jws.hpp"

namespace fapigate::testing {
namespace {

namespace json = boost::json;

constexpr const char* kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
constexpr const char* kChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

json::object json_of(const std::string& text) {
  auto o = core::parse_json_object(text, core::JsonLimits{1 << 20, 16});
  return o ? std::move(*o) : json::object{};
}

std::string field(const json::object& o, const char* key) {
  return std::string(core::get_string(o, key).value_or(""));
}

std::string hidden_value(const std::string& body, const std::string& name) {
  std::smatch m;
  std::regex re("name=\"" + name + "\" value=\"([^\"]*)\"");
  return std::regex_search(body, m, re) ? m[1].str() : std::string();
}

std::map<std::string, std::string> query_of(const std::string& location, char sep = '?') {
  auto pos = location.find(sep);
  if (pos == std::string::npos) {
    return {};
  }
  return core::parse_form(location.substr(pos + 1)).value_or(std::map<std::string, std::string>{});
}

class CodeFlowFront : public ::testing::Test {
protected:
  static void SetUpTestSuite() { demo_ = new DemoProcess(); }
  static void TearDownTestSuite() {
    delete demo_;
    demo_ = nullptr;
  }

  static std::string mtls(const char* who) {
    return "--cacert " + shell_quote(demo_->str("ca_file")) + " --cert " +
           shell_quote(demo_->partner(who, "cert_file")) + " --key " +
           shell_quote(demo_->partner(who, "key_file")) + " ";
  }
  static std::string mtls_url(const std::string& path) {
    return "https://localhost:" + std::to_string(demo_->port_base() + 1) + path;
  }
  static std::string front_url(const std::string& path) { return demo_->str("issuer") + path; }

  static std::string partner_redirect() { return demo_->partner("partner", "redirect_uri"); }

  static std::string par_form(const std::string& redirect, const std::string& pkce) {
    return "client_id=partner-client&response_type=code&scope=payments&state=st-42&redirect_uri=" +
           core::percent_encode(redirect) + pkce;
  }
  static std::string good_pkce() {
    return std::string("&code_challenge=") + kChallenge + "&code_challenge_method=S256";
  }

  static HttpResult par(const std::string& who, const std::string& form) {
    return curl(mtls(who.c_str()) + "-X POST -H 'Content-Type: application/x-www-form-urlencoded' "
                "--data " + shell_quote(form) + " " + shell_quote(mtls_url("/par")));
  }

  std::string push() {
    auto r = par("partner", par_form(partner_redirect(), good_pkce()));
    EXPECT_EQ(r.status, 201) << r.body;
    return field(json_of(r.body), "request_uri");
  }

  // The customer's browser: curl with a cookie jar, no client certificate.
  std::string jar() const { return demo_->dir() + "/cookies-" + jar_id_ + ".txt"; }
  std::string browser() const {
    return "--cacert " + shell_quote(demo_->str("ca_file")) + " -b " + shell_quote(jar()) +
           " -c " + shell_quote(jar()) + " ";
  }
  HttpResult browser_get(const std::string& url) const {
    return curl(browser() + shell_quote(url));
  }
  HttpResult browser_post(const std::string& path, const std::string& form) const {
    return curl(browser() + "-X POST --data " + shell_quote(form) + " " +
                shell_quote(front_url(path)));
  }
  static std::string authorize_url(const std::string& client_id, const std::string& uri) {
    return front_url("/authorize?client_id=" + client_id +
                     "&request_uri=" + core::percent_encode(uri));
  }

  // Drives the login and consent forms; returns the consent POST's answer.
  HttpResult consent(const std::string& client_id, const std::string& uri,
                     const std::string& decision = "approve") {
    auto page = browser_get(authorize_url(client_id, uri));
    EXPECT_EQ(page.status, 200) << page.body;
    const auto* user = core::get_object(demo_->demo_json(), "user");
    const auto* form = core::get_object(demo_->demo_json(), "login_form");
    EXPECT_TRUE(user && form);
    auto login = browser_post(
        "/authorize/login",
        core::form_encode({{"csrf_token", hidden_value(page.body, "csrf_token")},
                           {"client_id", client_id},
                           {"request_uri", uri},
                           {field(*form, "username_field"), field(*user, "username")},
                           {field(*form, "password_field"), field(*user, "password")}}));
    EXPECT_EQ(login.status, 303) << login.body;
    auto consent_page = browser_get(authorize_url(client_id, uri));
    EXPECT_EQ(consent_page.status, 200);
    EXPECT_NE(consent_page.body.find("payments"), std::string::npos);
    return browser_post("/authorize/consent",
                        core::form_encode({{"csrf_token", hidden_value(consent_page.body, "csrf_token")},
                                           {"client_id", client_id},
                                           {"request_uri", uri},
                                           {"decision", decision}}));
  }

  static std::string request_object(const jose::Jwk& key, const std::string& client_id,
                                    const std::string& redirect) {
    const std::int64_t now = std::time(nullptr);
    json::object c{{"iss", client_id},
                   {"aud", demo_->str("issuer")},
                   {"client_id", client_id},
                   {"response_type", "code id_token"},
                   {"redirect_uri", redirect},
                   {"scope", "openid payments"},
                   {"state", "f1-state"},
                   {"nonce", "f1-nonce"},
                   {"code_challenge", kChallenge},
                   {"code_challenge_method", "S256"},
                   {"nbf", now - 5},
                   {"exp", now + 300}};
    auto alg = key.alg.value_or(jose::Alg::ES256);
    auto jwt = jose::sign_compact(json::serialize(c), alg, key.key, key.kid, "oauth-authz-req+jwt");
    EXPECT_TRUE(jwt);
    return jwt ? *jwt : std::string();
  }

  static jose::Jwk private_jwk(const char* who) {
    auto jwk = jose::parse_jwk(read_file_text(demo_->partner(who, "jwks_private_file")));
    EXPECT_TRUE(jwk && jwk->key.is_private()) << who;
    return jwk ? *jwk : jose::Jwk{};
  }

  static inline DemoProcess* demo_ = nullptr;
  std::string jar_id_ = crypto::random_token(6);
};

TEST_F(CodeFlowFront, ParLoginConsentRedirectAndCodeExchange) {
  const std::string uri = push();
  ASSERT_EQ(uri.rfind("urn:ietf:params:oauth:request_uri:", 0), 0u);
  auto r = consent("partner-client", uri);
  ASSERT_EQ(r.status, 303) << r.body;
  const std::string loc = r.header("Location");
  ASSERT_EQ(loc.rfind(partner_redirect() + "?", 0), 0u) << loc;
  auto q = query_of(loc);
  EXPECT_EQ(q["state"], "st-42");
  EXPECT_EQ(q["iss"], demo_->str("issuer"));
  ASSERT_GE(q["code"].size(), 43u);
  // The code, redeemed with the same certificate and the PKCE verifier.
  auto t = curl(mtls("partner") + "-X POST --data " +
                shell_quote("grant_type=authorization_code&client_id=partner-client&code=" +
                            q["code"] + "&redirect_uri=" + core::percent_encode(partner_redirect()) +
                            "&code_verifier=" + kVerifier) +
                " " + shell_quote(mtls_url("/token")));
  EXPECT_EQ(t.status, 200) << t.body;
  EXPECT_FALSE(field(json_of(t.body), "access_token").empty()) << t.body;
}

TEST_F(CodeFlowFront, UnregisteredRedirectUriAtParIsInvalidRequest) {
  auto r = par("partner", par_form("https://evil.example/cb", good_pkce()));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(field(json_of(r.body), "error"), "invalid_request");
}

TEST_F(CodeFlowFront, MissingOrPlainPkceAtParIsInvalidRequest) {
  auto missing = par("partner", par_form(partner_redirect(), ""));
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(field(json_of(missing.body), "error"), "invalid_request");
  auto plain = par("partner", par_form(partner_redirect(), std::string("&code_challenge=") +
                                                             kVerifier +
                                                             "&code_challenge_method=plain"));
  EXPECT_EQ(plain.status, 400);
  EXPECT_EQ(field(json_of(plain.body), "error"), "invalid_request");
}

TEST_F(CodeFlowFront, ParGetIs405AndWithoutCertificateIs401) {
  auto get = curl(mtls("partner") + shell_quote(mtls_url("/par")));
  EXPECT_EQ(get.status, 405);
  auto front = curl("--cacert " + shell_quote(demo_->str("ca_file")) +
                    " -X POST --data " + shell_quote(par_form(partner_redirect(), good_pkce())) +
                    " " + shell_quote(front_url("/par")));
  EXPECT_EQ(front.status, 401);
  EXPECT_EQ(field(json_of(front.body), "error"), "invalid_client");
}

TEST_F(CodeFlowFront, ReusedRequestUriIsAnErrorPage) {
  const std::string uri = push();
  ASSERT_EQ(consent("partner-client", uri).status, 303);
  auto again = browser_get(authorize_url("partner-client", uri));
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(again.header("Location"), "");
  EXPECT_NE(again.body.find("invalid_request_uri"), std::string::npos);
}

TEST_F(CodeFlowFront, WrongCsrfTokenIs403) {
  const std::string uri = push();
  auto page = browser_get(authorize_url("partner-client", uri));
  ASSERT_EQ(page.status, 200);
  auto r = browser_post("/authorize/login",
                        core::form_encode({{"csrf_token", "forged"},
                                           {"client_id", "partner-client"},
                                           {"request_uri", uri},
                                           {"username", "alice"},
                                           {"password", "whatever"}}));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.header("Location"), "");
}

TEST_F(CodeFlowFront, DeniedConsentRedirectsAccessDeniedWithIss) {
  const std::string uri = push();
  auto r = consent("partner-client", uri, "deny");
  ASSERT_EQ(r.status, 303);
  auto q = query_of(r.header("Location"));
  EXPECT_EQ(q["error"], "access_denied");
  EXPECT_EQ(q["iss"], demo_->str("issuer"));
  EXPECT_EQ(q["state"], "st-42");
}

TEST_F(CodeFlowFront, Fapi1UnsignedRequestAtAuthorizeIsRefused) {
  const std::string redirect = demo_->partner("fapi1_partner", "redirect_uri");
  auto r = browser_get(front_url("/authorize?client_id=fapi1-partner&response_type=code+id_token"
                                 "&scope=openid&nonce=n&redirect_uri=" +
                                 core::percent_encode(redirect) + good_pkce()));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.header("Location"), "");
  EXPECT_NE(r.body.find("invalid_request"), std::string::npos);
}

TEST_F(CodeFlowFront, Fapi1AlgNoneRequestObjectIsRefused) {
  const std::string redirect = demo_->partner("fapi1_partner", "redirect_uri");
  const std::int64_t now = std::time(nullptr);
  json::object c{{"iss", "fapi1-partner"}, {"aud", demo_->str("issuer")},
                 {"response_type", "code id_token"}, {"redirect_uri", redirect},
                 {"scope", "openid"}, {"nonce", "n"}, {"code_challenge", kChallenge},
                 {"code_challenge_method", "S256"}, {"nbf", now}, {"exp", now + 300}};
  const std::string none = core::base64url_encode(R"({"alg":"none"})") + "." +
                           core::base64url_encode(json::serialize(c)) + ".";
  auto r = browser_get(front_url("/authorize?client_id=fapi1-partner&response_type=code+id_token"
                                 "&scope=openid&request=" + none));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("invalid_request_object"), std::string::npos);
  // The same at PAR: JSON.
  auto p = par("fapi1_partner", "client_id=fapi1-partner&request=" + none);
  EXPECT_EQ(p.status, 400);
  EXPECT_EQ(field(json_of(p.body), "error"), "invalid_request_object");
}

TEST_F(CodeFlowFront, RequestObjectSignedWithAnotherClientsKeyIsRefused) {
  const std::string redirect = demo_->partner("fapi1_partner", "redirect_uri");
  auto foreign = private_jwk("fapi2_partner");
  foreign.kid = private_jwk("fapi1_partner").kid;  // even claiming the right kid
  auto p = par("fapi1_partner",
               "client_id=fapi1-partner&request=" + request_object(foreign, "fapi1-partner", redirect));
  EXPECT_EQ(p.status, 400);
  EXPECT_EQ(field(json_of(p.body), "error"), "invalid_request_object");
}

TEST_F(CodeFlowFront, Fapi1SignedRequestByValueGivesAHybridResponse) {
  const std::string redirect = demo_->partner("fapi1_partner", "redirect_uri");
  const std::string ro = request_object(private_jwk("fapi1_partner"), "fapi1-partner", redirect);
  auto page = browser_get(front_url("/authorize?client_id=fapi1-partner&response_type=code+id_token"
                                    "&scope=openid&request=" + ro));
  ASSERT_EQ(page.status, 200) << page.body;
  const std::string uri = hidden_value(page.body, "request_uri");
  ASSERT_FALSE(uri.empty());
  auto r = consent("fapi1-partner", uri);
  ASSERT_EQ(r.status, 303) << r.body;
  auto f = query_of(r.header("Location"), '#');
  EXPECT_EQ(f["state"], "f1-state");
  EXPECT_EQ(f["iss"], demo_->str("issuer"));
  EXPECT_FALSE(f["code"].empty());
  EXPECT_EQ(std::count(f["id_token"].begin(), f["id_token"].end(), '.'), 2);
}

}  // namespace
}  // namespace fapigate::testing
