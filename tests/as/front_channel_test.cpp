// The front channel end to end on http::Request/Response (no sockets): PAR (RFC 9126), the
// authorization endpoint with its login and consent pages, the response modes (query, JARM,
// form_post.jwt, the FAPI 1.0 Advanced hybrid), the consents page, and the negative cases of
// fapi-requirements B.1/B.2 that belong here (N-01, N-16, N-23, N-26, N-30..N-37).
#include <filesystem>
#include <fstream>
#include <regex>

#include <sqlite3.h>

#include <boost/json/serialize.hpp>

#include "as/as_fixture.hpp"
#include "as/endpoints/front_channel.hpp"
#include "as/id_token.hpp"
#include "as/password.hpp"
#include "core/strings.hpp"
#include "jose/jwe_test_util.hpp"
#include "jose/jwt_claims.hpp"

namespace fapigate::as::test {
namespace {

constexpr const char* kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
constexpr const char* kChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
constexpr const char* kPartnerCb = "https://partner.example/cb";
constexpr const char* kFapi1Cb = "https://fapi1.example/cb";

struct FrontKeys {
  crypto::Key fapi1 = *crypto::Key::generate(crypto::KeyType::Ec);
  crypto::Key stranger = *crypto::Key::generate(crypto::KeyType::Ec);
  // The clients' key for encrypted ID tokens, in the same JWKS as "use": "enc" (OIDC Core §10.2).
  crypto::Key encryption = *crypto::Key::generate(crypto::KeyType::Rsa);
  std::string jwks_file;
  std::string password_hash;
};

const FrontKeys& front_keys() {
  static const FrontKeys k = [] {
    FrontKeys f;
    jose::Jwks jwks;
    jwks.keys.push_back(jose::make_jwk(f.fapi1.public_only(), "fapi1-key", jose::Alg::ES256));
    f.jwks_file = (std::filesystem::temp_directory_path() /
                   ("fapigate-front-" + std::to_string(::getpid()) + ".jwks.json"))
                      .string();
    auto set = boost::json::parse(jose::to_json_string(jwks, false)).as_object();
    auto enc = jose::to_json(jose::make_jwk(f.encryption.public_only(), "enc-1", std::nullopt));
    enc["use"] = "enc";
    enc["alg"] = "RSA-OAEP-256";
    set["keys"].as_array().push_back(enc);
    std::ofstream(f.jwks_file) << boost::json::serialize(set);
    ScryptParams fast;
    fast.log2_n = 10;
    f.password_hash = *hash_password("s3cret-pw", fast);
    return f;
  }();
  return k;
}

// A browser: its cookie, and the hidden fields of the last page it saw.
struct Browser {
  std::string cookie;
  std::string csrf;
};

std::string hidden_value(const std::string& body, const std::string& name) {
  std::smatch m;
  std::regex re("name=\"" + name + "\" value=\"([^\"]*)\"");
  return std::regex_search(body, m, re) ? m[1].str() : std::string();
}

std::string set_cookie_value(const http::Response& r) {
  for (const auto& f : r.headers) {
    if (core::iequals(f.name, "Set-Cookie")) {
      auto v = f.value.substr(0, f.value.find(';'));
      return v.substr(v.find('=') + 1);
    }
  }
  return {};
}

std::map<std::string, std::string> params_of(std::string_view location, char sep) {
  auto pos = location.find(sep);
  if (pos == std::string_view::npos) {
    return {};
  }
  return core::parse_form(location.substr(pos + 1)).value_or(std::map<std::string, std::string>{});
}

class FrontChannelTest : public AsTest {
protected:
  void SetUp() override {
    AsTest::SetUp();
    auto s = default_settings();
    for (auto& c : s.clients) {
      if (c.client_id == "partner-client" || c.client_id == "other-partner") {
        c.grant_types = {"client_credentials", "authorization_code"};
        c.redirect_uris = {kPartnerCb};
      }
    }
    auto fapi1 = client("fapi1-client", "CN=partner-client,O=fapigate");
    fapi1.grant_types = {"authorization_code"};
    fapi1.redirect_uris = {kFapi1Cb};
    fapi1.profile = "fapi1_advanced";
    fapi1.response_types = {"code id_token", "code"};
    fapi1.require_pushed_authorization_requests = false;
    fapi1.jwks_file = front_keys().jwks_file;
    s.clients.push_back(fapi1);
    auto encrypting = fapi1;
    encrypting.client_id = "fapi1-encrypting";
    encrypting.id_token_encrypted_response_alg = "RSA-OAEP-256";
    encrypting.id_token_encrypted_response_enc = "A256GCM";
    s.clients.push_back(encrypting);
    // FAPI 2.0 Message Signing: registered for signed request objects (F2MS 5.3.1).
    auto signing = client("signed-fapi2", "CN=partner-client,O=fapigate");
    signing.grant_types = {"authorization_code"};
    signing.redirect_uris = {kPartnerCb};
    signing.request_object_signing_alg = "ES256";
    signing.jwks_file = front_keys().jwks_file;
    s.clients.push_back(signing);
    s.users.push_back(config::User{"alice", front_keys().password_hash});
    settings_ = s;
    start(s);
  }

  config::AuthorizationServer settings_;  // what SetUp started with; a test may restart

  static std::string par_body(const std::string& client_id = "partner-client",
                              const std::string& extra = "") {
    return "client_id=" + client_id + "&response_type=code&redirect_uri=" +
           core::percent_encode(kPartnerCb) + "&scope=payments&state=st-1&code_challenge=" +
           kChallenge + "&code_challenge_method=S256" + extra;
  }

  http::Response par(std::string body, std::shared_ptr<const http::PeerCertificate> cert) {
    return call(post("/par", std::move(body), std::move(cert)));
  }

  std::string push(const std::string& extra = "") {
    auto r = par(par_body("partner-client", extra), partner_);
    EXPECT_EQ(r.status, 201) << r.body;
    return str(json_of(r.body), "request_uri");
  }

  http::Response browser_get(const std::string& target, const Browser& b) {
    auto req = get(target);
    auto q = target.find('?');
    req.path = target.substr(0, q);
    req.query = q == std::string::npos ? "" : target.substr(q + 1);
    if (!b.cookie.empty()) {
      req.headers.add("Cookie", std::string(kSessionCookie) + "=" + b.cookie);
    }
    return call(req);
  }

  http::Response browser_post(const std::string& path, const std::string& body, const Browser& b) {
    auto req = post(path, body, nullptr);
    req.headers.set("Host", "as.example");
    if (!b.cookie.empty()) {
      req.headers.add("Cookie", std::string(kSessionCookie) + "=" + b.cookie);
    }
    return call(req);
  }

  static std::string authorize_target(const std::string& client_id, const std::string& uri) {
    return "/authorize?client_id=" + client_id + "&request_uri=" + core::percent_encode(uri);
  }

  // GET /authorize as a new browser: the login page, its cookie and CSRF token.
  Browser open_login(const std::string& client_id, const std::string& uri) {
    auto r = browser_get(authorize_target(client_id, uri), {});
    EXPECT_EQ(r.status, 200) << r.body;
    Browser b{set_cookie_value(r), hidden_value(r.body, "csrf_token")};
    EXPECT_FALSE(b.cookie.empty());
    EXPECT_FALSE(b.csrf.empty());
    return b;
  }

  http::Response login(Browser& b, const std::string& client_id, const std::string& uri,
                       const std::string& password = "s3cret-pw",
                       const std::string& username = "alice") {
    auto r = browser_post("/authorize/login",
                          core::form_encode({{"csrf_token", b.csrf},
                                             {"client_id", client_id},
                                             {"request_uri", uri},
                                             {"username", username},
                                             {"password", password}}),
                          b);
    if (r.status == 303) {
      b.cookie = set_cookie_value(r);
    }
    return r;
  }

  // Login, then the consent page; returns the consent POST's response.
  http::Response authorize_through(const std::string& client_id, const std::string& uri,
                                   const std::string& decision = "approve") {
    Browser b = open_login(client_id, uri);
    auto l = login(b, client_id, uri);
    EXPECT_EQ(l.status, 303) << l.body;
    auto consent = browser_get(authorize_target(client_id, uri), b);
    EXPECT_EQ(consent.status, 200);
    EXPECT_NE(consent.body.find("Authorize access"), std::string::npos) << consent.body;
    b.csrf = hidden_value(consent.body, "csrf_token");
    return browser_post("/authorize/consent",
                        core::form_encode({{"csrf_token", b.csrf},
                                           {"client_id", client_id},
                                           {"request_uri", uri},
                                           {"decision", decision}}),
                        b);
  }

  static void expect_error_page(const http::Response& r, int status, std::string_view error) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.headers.get("Location"), std::nullopt);
    EXPECT_EQ(r.headers.get("Content-Type").value_or(""), "text/html; charset=utf-8");
    EXPECT_NE(r.body.find("<code>" + std::string(error) + "</code>"), std::string::npos)
        << r.body;
  }

  std::string fapi1_object(boost::json::object claims, const crypto::Key* key = nullptr) {
    auto jwt = jose::sign_compact(boost::json::serialize(claims), jose::Alg::ES256,
                                  key ? *key : front_keys().fapi1, "fapi1-key",
                                  "oauth-authz-req+jwt");
    EXPECT_TRUE(jwt);
    return *jwt;
  }

  static boost::json::object fapi1_claims() {
    return boost::json::object{{"iss", "fapi1-client"},
                               {"aud", kIssuer},
                               {"client_id", "fapi1-client"},
                               {"response_type", "code id_token"},
                               {"redirect_uri", kFapi1Cb},
                               {"scope", "openid payments"},
                               {"state", "fapi1-state"},
                               {"nonce", "fapi1-nonce"},
                               {"code_challenge", kChallenge},
                               {"code_challenge_method", "S256"},
                               {"nbf", kNow - 5},
                               {"exp", kNow + 300}};
  }

  // A FAPI 1.0 hybrid request by value (with `outside` query parameters beside the request
  // object) through login and consent: the Location it ends with, empty if a step failed.
  std::string hybrid_by_value(const std::string& client_id, const std::string& request_object,
                              const std::string& outside = {}) {
    auto r = browser_get("/authorize?client_id=" + client_id +
                             "&response_type=code+id_token&scope=openid" + outside +
                             "&request=" + request_object,
                         {});
    EXPECT_EQ(r.status, 200) << r.body;
    const std::string uri = hidden_value(r.body, "request_uri");
    EXPECT_FALSE(uri.empty());
    if (r.status != 200 || uri.empty()) {
      return {};
    }
    auto done = authorize_through(client_id, uri);
    EXPECT_EQ(done.status, 303) << done.body;
    return std::string(done.headers.get("Location").value_or(""));
  }

  boost::json::object verified_claims(const std::string& jwt) {
    auto v = jose::verify_compact(jwt, jose::kAllAlgs,
                                  jose::VerifierSet(*jose::parse_jwks(call(get("/jwks")).body)));
    EXPECT_TRUE(v) << v.error().message();
    return v ? *jose::parse_claims(v->payload) : boost::json::object{};
  }
};

// ---- PAR ------------------------------------------------------------------------------------------

TEST_F(FrontChannelTest, ParReturns201WithAnUnguessableShortLivedRequestUri) {  // PAR-03, F2-24
  auto r = par(par_body(), partner_);
  ASSERT_EQ(r.status, 201) << r.body;
  auto o = json_of(r.body);
  const std::string uri = str(o, "request_uri");
  EXPECT_EQ(uri.rfind("urn:ietf:params:oauth:request_uri:", 0), 0u);
  EXPECT_GE(uri.size(), std::string("urn:ietf:params:oauth:request_uri:").size() + 43);
  auto expires_in = core::get_int(o, "expires_in");
  ASSERT_TRUE(expires_in);
  EXPECT_GE(*expires_in, 60);
  EXPECT_LT(*expires_in, 600);
  EXPECT_EQ(r.headers.get("Cache-Control").value_or(""), "no-store");
}

TEST_F(FrontChannelTest, ParRefusesGet) {  // N-30
  auto r = call(get("/par"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers.get("Allow").value_or(""), "POST");
}

TEST_F(FrontChannelTest, ParWithoutClientAuthenticationIs401) {  // N-31
  expect_oauth_error(par(par_body(), nullptr), 401, "invalid_client");
  expect_oauth_error(par(par_body("partner-client"), other_), 401, "invalid_client");
}

TEST_F(FrontChannelTest, ParRefusesRequestUriInTheBody) {  // N-23, PAR-02
  expect_oauth_error(par(par_body("partner-client", "&request_uri=urn%3Ax"), partner_), 400,
                     "invalid_request");
}

TEST_F(FrontChannelTest, ParRefusesUnregisteredOrMissingRedirectUri) {  // N-15, N-16, F2-19
  auto body = "client_id=partner-client&response_type=code&redirect_uri=" +
              core::percent_encode("https://evil.example/cb") +
              "&scope=payments&code_challenge=" + kChallenge + "&code_challenge_method=S256";
  expect_oauth_error(par(body, partner_), 400, "invalid_request");
  auto none = std::string("client_id=partner-client&response_type=code&scope=payments") +
              "&code_challenge=" + kChallenge + "&code_challenge_method=S256";
  expect_oauth_error(par(none, partner_), 400, "invalid_request");
}

TEST_F(FrontChannelTest, ParRequiresPkceS256) {  // N-32, F2-18
  auto no_pkce = "client_id=partner-client&response_type=code&redirect_uri=" +
                 core::percent_encode(kPartnerCb) + "&scope=payments";
  expect_oauth_error(par(no_pkce, partner_), 400, "invalid_request");
  expect_oauth_error(par(no_pkce + "&code_challenge=" + kVerifier + "&code_challenge_method=plain",
                         partner_),
                     400, "invalid_request");
}

TEST_F(FrontChannelTest, ParRefusesHybridForFapi2AndUnknownScopes) {  // N-18
  auto hybrid = par(par_body("partner-client", "&nonce=n").replace(
                        par_body().find("response_type=code"), 18, "response_type=code+id_token"),
                    partner_);
  expect_oauth_error(hybrid, 400, "unsupported_response_type");
  auto scope = par(par_body().replace(par_body().find("scope=payments"), 14, "scope=admin"),
                   partner_);
  expect_oauth_error(scope, 400, "invalid_scope");
}

TEST_F(FrontChannelTest, ParForFapi1RequiresASignedRequestObject) {  // F1-01
  auto body = std::string("client_id=fapi1-client&response_type=code+id_token&redirect_uri=") +
              core::percent_encode(kFapi1Cb) + "&scope=openid&nonce=n&code_challenge=" +
              kChallenge + "&code_challenge_method=S256";
  expect_oauth_error(par(body, partner_), 400, "invalid_request");
}

TEST_F(FrontChannelTest, ParWithABadRequestObjectIsInvalidRequestObject) {  // N-07, N-12
  auto c = fapi1_claims();
  c["aud"] = std::string(kIssuer) + "/par";
  expect_oauth_error(par("client_id=fapi1-client&request=" + fapi1_object(c), partner_), 400,
                     "invalid_request_object");
  expect_oauth_error(par("client_id=fapi1-client&request=" +
                             fapi1_object(fapi1_claims(), &front_keys().stranger),
                         partner_),
                     400, "invalid_request_object");
}

TEST_F(FrontChannelTest, ParWithAValidRequestObjectUsesOnlyItsParameters) {  // F1-04, N-37
  auto r = par("client_id=fapi1-client&state=outside&request=" + fapi1_object(fapi1_claims()),
               partner_);
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string uri = str(json_of(r.body), "request_uri");
  auto consent = authorize_through("fapi1-client", uri);
  ASSERT_EQ(consent.status, 303) << consent.body;
  auto loc = std::string(consent.headers.get("Location").value_or(""));
  auto p = params_of(loc, '#');
  EXPECT_EQ(p["state"], "fapi1-state");
}

TEST_F(FrontChannelTest, UnsignedParForAMessageSigningClientIsInvalidRequest) {  // N-25, MS-01
  expect_oauth_error(par(par_body("signed-fapi2"), partner_), 400, "invalid_request");
  boost::json::object c{{"iss", "signed-fapi2"},
                        {"aud", kIssuer},
                        {"client_id", "signed-fapi2"},
                        {"response_type", "code"},
                        {"redirect_uri", kPartnerCb},
                        {"scope", "payments"},
                        {"state", "ms-state"},
                        {"code_challenge", kChallenge},
                        {"code_challenge_method", "S256"},
                        {"nbf", kNow - 5},
                        {"exp", kNow + 300}};
  // Signed with typ oauth-authz-req+jwt (MS-03): accepted.
  auto ok = par("client_id=signed-fapi2&request=" + fapi1_object(c), partner_);
  EXPECT_EQ(ok.status, 201) << ok.body;
  // MS-02 at PAR: exp more than 60 min after nbf, or the PAR URL as aud.
  auto longer = c;
  longer["exp"] = kNow - 5 + 70 * 60;
  expect_oauth_error(par("client_id=signed-fapi2&request=" + fapi1_object(longer), partner_), 400,
                     "invalid_request_object");
  auto par_aud = c;
  par_aud["aud"] = std::string(kIssuer) + "/par";
  expect_oauth_error(par("client_id=signed-fapi2&request=" + fapi1_object(par_aud), partner_),
                     400, "invalid_request_object");
}

// ---- /authorize: what is refused with a page ------------------------------------------------------

TEST_F(FrontChannelTest, Fapi2PlainAuthorizationRequestIsAnErrorPage) {  // N-01, F2-17
  auto r = browser_get("/authorize?client_id=partner-client&response_type=code&redirect_uri=" +
                           core::percent_encode(kPartnerCb) + "&scope=payments&code_challenge=" +
                           kChallenge + "&code_challenge_method=S256",
                       {});
  expect_error_page(r, 400, "invalid_request");
}

TEST_F(FrontChannelTest, UnknownClientAndBadRequestUriAreErrorPages) {  // F2-09
  expect_error_page(browser_get("/authorize?client_id=nobody&request_uri=urn%3Ax", {}), 400,
                    "invalid_request");
  expect_error_page(browser_get(authorize_target("partner-client",
                                                 "urn:ietf:params:oauth:request_uri:nope"),
                                {}),
                    400, "invalid_request_uri");
}

TEST_F(FrontChannelTest, RequestUriOfAnotherClientIsRefused) {  // N-36
  const std::string uri = push();
  expect_error_page(browser_get(authorize_target("other-partner", uri), {}), 400,
                    "invalid_request_uri");
}

TEST_F(FrontChannelTest, ExpiredRequestUriIsRefused) {  // N-35
  const std::string uri = push();
  clock_.advance(kPushedRequestLifetime + 1);
  expect_error_page(browser_get(authorize_target("partner-client", uri), {}), 400,
                    "invalid_request_uri");
}

TEST_F(FrontChannelTest, ReloadBeforeCompletionWorksReuseAfterIsRefused) {  // N-34, N-33
  const std::string uri = push();
  EXPECT_EQ(browser_get(authorize_target("partner-client", uri), {}).status, 200);
  EXPECT_EQ(browser_get(authorize_target("partner-client", uri), {}).status, 200);
  auto done = authorize_through("partner-client", uri);
  ASSERT_EQ(done.status, 303) << done.body;
  expect_error_page(browser_get(authorize_target("partner-client", uri), {}), 400,
                    "invalid_request_uri");
}

TEST_F(FrontChannelTest, Fapi1UnsignedRequestAtAuthorizeIsRefused) {  // F1-01, N-01
  auto r = browser_get("/authorize?client_id=fapi1-client&response_type=code+id_token&"
                       "redirect_uri=" + core::percent_encode(kFapi1Cb) +
                           "&scope=openid&nonce=n&code_challenge=" + kChallenge +
                           "&code_challenge_method=S256",
                       {});
  expect_error_page(r, 400, "invalid_request");
}

TEST_F(FrontChannelTest, Fapi1AlgNoneRequestObjectIsRefused) {  // N-10
  const std::string none = core::base64url_encode(R"({"alg":"none"})") + "." +
                           core::base64url_encode(boost::json::serialize(fapi1_claims())) + ".";
  auto r = browser_get("/authorize?client_id=fapi1-client&response_type=code+id_token&scope="
                       "openid&request=" + none,
                       {});
  expect_error_page(r, 400, "invalid_request_object");
}

TEST_F(FrontChannelTest, Fapi2ClientCannotSendARequestObjectByValue) {
  auto r = browser_get("/authorize?client_id=partner-client&response_type=code&request=x.y.z", {});
  expect_error_page(r, 400, "invalid_request");
}

TEST_F(FrontChannelTest, NoCorsOnTheAuthorizationEndpoint) {  // F2-03
  auto req = get("/authorize");
  req.method = "OPTIONS";
  req.headers.add("Origin", "https://evil.example");
  auto r = call(req);
  EXPECT_EQ(r.headers.get("Access-Control-Allow-Origin"), std::nullopt);
  EXPECT_EQ(r.status, 405);
}

TEST_F(FrontChannelTest, NoCorsHeadersOnTheAuthorizationEndpointForACrossOriginGet) {  // F2-03
  const std::string uri = push();
  auto req = get(authorize_target("partner-client", uri));
  req.path = "/authorize";
  req.query = req.target.substr(req.target.find('?') + 1);
  req.headers.add("Origin", "https://evil.example");
  auto r = call(req);
  EXPECT_EQ(r.status, 200) << r.body;
  for (const char* h : {"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials",
                        "Access-Control-Allow-Methods", "Access-Control-Allow-Headers"}) {
    EXPECT_EQ(r.headers.get(h), std::nullopt) << h;
  }
  // A CORS preflight for a POST is refused too, without any allowance.
  auto pre = get("/authorize");
  pre.method = "OPTIONS";
  pre.headers.add("Origin", "https://evil.example");
  pre.headers.add("Access-Control-Request-Method", "POST");
  auto p = call(pre);
  EXPECT_NE(p.status / 100, 2) << p.status;
  EXPECT_EQ(p.headers.get("Access-Control-Allow-Origin"), std::nullopt);
}

TEST_F(FrontChannelTest, Fapi1UnregisteredRedirectUriIsAnErrorPageNeverARedirect) {  // N-16, F1-15
  auto c = fapi1_claims();
  c["redirect_uri"] = "https://evil.example/cb";
  auto r = browser_get("/authorize?client_id=fapi1-client&response_type=code+id_token&scope="
                       "openid&request=" + fapi1_object(c),
                       {});
  expect_error_page(r, 400, "invalid_request");
  // The redirect_uri only outside the object does not count either (F1-04).
  auto inside_missing = fapi1_claims();
  inside_missing.erase("redirect_uri");
  r = browser_get("/authorize?client_id=fapi1-client&response_type=code+id_token&scope=openid"
                  "&redirect_uri=" + core::percent_encode(kFapi1Cb) +
                      "&request=" + fapi1_object(inside_missing),
                  {});
  expect_error_page(r, 400, "invalid_request");
}

TEST_F(FrontChannelTest, Fapi1StateOnlyOutsideTheRequestObjectIsNotUsed) {  // N-13, F1-04
  auto c = fapi1_claims();
  c.erase("state");
  auto p = params_of(hybrid_by_value("fapi1-client", fapi1_object(c), "&state=outside-state"),
                     '#');
  ASSERT_FALSE(p.empty());
  EXPECT_EQ(p.count("state"), 0u);
  ASSERT_EQ(p.count("id_token"), 1u);
  auto claims = verified_claims(p["id_token"]);
  EXPECT_EQ(claims.find("s_hash"), claims.end());
  EXPECT_EQ(str(claims, "c_hash"), left_half_hash("PS256", p["code"]));
}

TEST_F(FrontChannelTest, Fapi1NonceAndStateOutsideTheRequestObjectLoseToTheInsideOnes) {  // N-14
  auto p = params_of(hybrid_by_value("fapi1-client", fapi1_object(fapi1_claims()),
                                     "&nonce=outside-nonce&state=outside-state"),
                     '#');
  ASSERT_FALSE(p.empty());
  EXPECT_EQ(p["state"], "fapi1-state");
  auto claims = verified_claims(p["id_token"]);
  EXPECT_EQ(str(claims, "nonce"), "fapi1-nonce");
  EXPECT_EQ(str(claims, "s_hash"), left_half_hash("PS256", "fapi1-state"));
}

TEST_F(FrontChannelTest, SixtyFourCharacterNonceRoundTripsIntoTheIdToken) {  // F2-25, N-21
  const std::string nonce =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_";
  ASSERT_EQ(nonce.size(), 64u);
  auto body = par_body();
  body.replace(body.find("scope=payments"), 14, "scope=openid+payments");
  auto pushed = par(body + "&nonce=" + nonce, partner_);
  ASSERT_EQ(pushed.status, 201) << pushed.body;
  const std::string uri = str(json_of(pushed.body), "request_uri");
  auto done = authorize_through("partner-client", uri);
  ASSERT_EQ(done.status, 303) << done.body;
  auto p = params_of(done.headers.get("Location").value_or(""), '?');
  // FAPI 2.0: no front-channel ID token (F2-27), the code only.
  EXPECT_EQ(p.count("id_token"), 0u);
  auto t = token("grant_type=authorization_code&client_id=partner-client&code=" + p["code"] +
                     "&redirect_uri=" + core::percent_encode(kPartnerCb) +
                     "&code_verifier=" + kVerifier,
                 partner_);
  ASSERT_EQ(t.status, 200) << t.body;
  auto id = verified_claims(str(json_of(t.body), "id_token"));
  EXPECT_EQ(str(id, "nonce"), nonce);
}

TEST_F(FrontChannelTest, LoginAndConsentFormsRedirectWith303) {  // F2-23
  const std::string uri = push();
  Browser b = open_login("partner-client", uri);
  auto l = login(b, "partner-client", uri);
  EXPECT_EQ(l.status, 303) << l.body;
  EXPECT_NE(l.headers.get("Location"), std::nullopt);
  auto consent = browser_get(authorize_target("partner-client", uri), b);
  ASSERT_EQ(consent.status, 200);
  b.csrf = hidden_value(consent.body, "csrf_token");
  auto done = browser_post("/authorize/consent",
                           core::form_encode({{"csrf_token", b.csrf},
                                              {"client_id", "partner-client"},
                                              {"request_uri", uri},
                                              {"decision", "approve"}}),
                           b);
  EXPECT_EQ(done.status, 303);  // never 307, which would re-post the form to the client
  EXPECT_EQ(std::string(done.headers.get("Location").value_or("")).rfind(kPartnerCb, 0), 0u);
}

// ---- login and consent ---------------------------------------------------------------------------

TEST_F(FrontChannelTest, LoginPageIsSafe) {
  const std::string uri = push();
  auto r = browser_get(authorize_target("partner-client", uri), {});
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("name=\"username\""), std::string::npos);
  EXPECT_NE(r.body.find("name=\"password\""), std::string::npos);
  EXPECT_EQ(r.body.find("<script"), std::string::npos);
  EXPECT_EQ(r.headers.get("X-Frame-Options").value_or(""), "DENY");
  EXPECT_EQ(r.headers.get("Cache-Control").value_or(""), "no-store");
  bool cookie_ok = false;
  for (const auto& f : r.headers) {
    if (core::iequals(f.name, "Set-Cookie")) {
      cookie_ok = f.value.rfind("__Host-fapigate-session=", 0) == 0 &&
                  f.value.find("; Path=/") != std::string::npos &&
                  f.value.find("; Secure") != std::string::npos &&
                  f.value.find("; HttpOnly") != std::string::npos &&
                  f.value.find("; SameSite=Lax") != std::string::npos &&
                  f.value.find("Domain") == std::string::npos;
    }
  }
  EXPECT_TRUE(cookie_ok);
}

TEST_F(FrontChannelTest, WrongCsrfTokenIs403) {
  const std::string uri = push();
  Browser b = open_login("partner-client", uri);
  b.csrf = "wrong";
  auto r = login(b, "partner-client", uri);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.headers.get("Location"), std::nullopt);
  // A token from another browser does not pass either.
  Browser other = open_login("partner-client", uri);
  b.csrf = other.csrf;
  EXPECT_EQ(login(b, "partner-client", uri).status, 403);
  // No cookie at all.
  Browser none{"", other.csrf};
  EXPECT_EQ(login(none, "partner-client", uri).status, 403);
}

TEST_F(FrontChannelTest, WrongPasswordAndUnknownUserGetTheSameMessage) {
  const std::string uri = push();
  Browser b = open_login("partner-client", uri);
  auto wrong = login(b, "partner-client", uri, "not-it");
  EXPECT_EQ(wrong.status, 401);
  auto unknown = login(b, "partner-client", uri, "s3cret-pw", "mallory");
  EXPECT_EQ(unknown.status, 401);
  const std::string msg = "The username or password is incorrect.";
  EXPECT_NE(wrong.body.find(msg), std::string::npos);
  EXPECT_NE(unknown.body.find(msg), std::string::npos);
}

TEST_F(FrontChannelTest, RepeatedFailuresAreThrottled) {
  // The defaults: 5 failures per user within 15 minutes.
  ASSERT_EQ(settings_.login_max_failures_per_user, 5);
  ASSERT_EQ(settings_.login_failure_window, 900);
  const std::string uri = push();
  Browser b = open_login("partner-client", uri);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(login(b, "partner-client", uri, "bad").status, 401);
  }
  // Now even the right password waits.
  auto r = login(b, "partner-client", uri);
  EXPECT_EQ(r.status, 429);
  clock_.advance(900);
  const std::string fresh = push();  // the first one expired meanwhile
  Browser b2 = open_login("partner-client", fresh);
  EXPECT_EQ(login(b2, "partner-client", fresh).status, 303);
}

// The bank's own lockout policy: here 2 failures per user within 2 minutes.
TEST_F(FrontChannelTest, ThrottleFollowsTheConfiguredLimitAndWindow) {
  settings_.login_max_failures_per_user = 2;
  settings_.login_failure_window = 120;
  start(settings_);
  const std::string uri = push();
  Browser b = open_login("partner-client", uri);
  EXPECT_EQ(login(b, "partner-client", uri, "bad").status, 401);
  EXPECT_EQ(login(b, "partner-client", uri, "bad").status, 401);
  EXPECT_EQ(login(b, "partner-client", uri).status, 429);
  clock_.advance(60);
  const std::string later = push();
  Browser b2 = open_login("partner-client", later);
  EXPECT_EQ(login(b2, "partner-client", later).status, 429) << "still within the window";
  clock_.advance(60);
  const std::string fresh = push();
  Browser b3 = open_login("partner-client", fresh);
  EXPECT_EQ(login(b3, "partner-client", fresh).status, 303) << "the window has passed";
}

TEST_F(FrontChannelTest, ValuesAreEscapedOnThePages) {
  const std::string uri = push("&nonce=%3Cscript%3E");
  auto login_page = browser_get(authorize_target("partner-client", uri), {});
  EXPECT_EQ(login_page.status, 200);
  EXPECT_EQ(login_page.body.find("<script>"), std::string::npos);
  auto r = browser_get(authorize_target("%22%3E%3Cscript%3E", uri), {});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body.find("<script>"), std::string::npos);
}

TEST_F(FrontChannelTest, ApprovedConsentRedirectsWithCodeStateAndIss) {  // F2-20, F2-23
  const std::string uri = push();
  auto r = authorize_through("partner-client", uri);
  ASSERT_EQ(r.status, 303) << r.body;
  const std::string loc(r.headers.get("Location").value_or(""));
  EXPECT_EQ(loc.rfind(std::string(kPartnerCb) + "?", 0), 0u) << loc;
  auto p = params_of(loc, '?');
  EXPECT_EQ(p["state"], "st-1");
  EXPECT_EQ(p["iss"], kIssuer);
  EXPECT_GE(p["code"].size(), 43u);  // 256 bits
  // The code is stored hashed, bound to the PAR certificate, for at most 60 s.
  auto redeemed = store_->redeem_code(crypto::sha256_b64url(p["code"]));
  ASSERT_TRUE(redeemed && *redeemed);
  const auto& code = (*redeemed)->code;
  EXPECT_EQ(code.client_id, "partner-client");
  EXPECT_EQ(code.subject, "alice");
  EXPECT_EQ(code.code_challenge, kChallenge);
  EXPECT_EQ(code.cnf_x5t_s256, partner_->x5t_s256);
  EXPECT_EQ(code.redirect_uri, kPartnerCb);
  EXPECT_LE(code.expires_at - code.issued_at, 60);
  EXPECT_EQ(code.auth_time, kNow);
}

TEST_F(FrontChannelTest, CodeExchangesAtTheTokenEndpoint) {
  const std::string uri = push();
  auto r = authorize_through("partner-client", uri);
  auto p = params_of(r.headers.get("Location").value_or(""), '?');
  auto t = token("grant_type=authorization_code&client_id=partner-client&code=" + p["code"] +
                     "&redirect_uri=" + core::percent_encode(kPartnerCb) +
                     "&code_verifier=" + kVerifier,
                 partner_);
  EXPECT_EQ(t.status, 200) << t.body;
}

TEST_F(FrontChannelTest, DeniedConsentRedirectsWithAccessDenied) {  // N-26
  const std::string uri = push();
  auto r = authorize_through("partner-client", uri, "deny");
  ASSERT_EQ(r.status, 303);
  auto p = params_of(r.headers.get("Location").value_or(""), '?');
  EXPECT_EQ(p["error"], "access_denied");
  EXPECT_EQ(p["state"], "st-1");
  EXPECT_EQ(p["iss"], kIssuer);
  EXPECT_EQ(p.count("code"), 0u);
}

TEST_F(FrontChannelTest, CancelledLoginRedirectsWithAccessDenied) {  // N-26
  const std::string uri = push();
  Browser b = open_login("partner-client", uri);
  auto r = browser_post("/authorize/login",
                        core::form_encode({{"csrf_token", b.csrf},
                                           {"client_id", "partner-client"},
                                           {"request_uri", uri},
                                           {"cancel", "1"}}),
                        b);
  ASSERT_EQ(r.status, 303) << r.body;
  auto p = params_of(r.headers.get("Location").value_or(""), '?');
  EXPECT_EQ(p["error"], "access_denied");
  EXPECT_EQ(p["iss"], kIssuer);
}

TEST_F(FrontChannelTest, JarmQueryJwtCarriesTheResponseSigned) {  // F1-14, JARM-01, MS-04
  const std::string uri = push("&response_mode=jwt");
  auto r = authorize_through("partner-client", uri);
  ASSERT_EQ(r.status, 303) << r.body;
  auto p = params_of(r.headers.get("Location").value_or(""), '?');
  ASSERT_EQ(p.size(), 1u);  // only response=
  auto claims = verified_claims(p["response"]);
  EXPECT_EQ(str(claims, "iss"), kIssuer);
  EXPECT_EQ(str(claims, "aud"), "partner-client");
  EXPECT_EQ(str(claims, "state"), "st-1");
  EXPECT_NE(str(claims, "code"), "<absent>");
  auto exp = core::get_int(claims, "exp");
  ASSERT_TRUE(exp);
  EXPECT_LE(*exp, kNow + 600);
}

TEST_F(FrontChannelTest, JarmDeniedConsentIsASignedErrorResponse) {  // JARM-01, ISS-01, N-26
  const std::string uri = push("&response_mode=jwt");
  auto r = authorize_through("partner-client", uri, "deny");
  ASSERT_EQ(r.status, 303) << r.body;
  auto p = params_of(r.headers.get("Location").value_or(""), '?');
  ASSERT_EQ(p.size(), 1u);  // only response=, iss inside the JWT (F2MS 5.4.1)
  auto claims = verified_claims(p["response"]);
  EXPECT_EQ(str(claims, "error"), "access_denied");
  EXPECT_EQ(str(claims, "iss"), kIssuer);
  EXPECT_EQ(str(claims, "aud"), "partner-client");
  EXPECT_EQ(str(claims, "state"), "st-1");
  EXPECT_EQ(claims.find("code"), claims.end());
  EXPECT_TRUE(core::get_int(claims, "exp"));
}

TEST_F(FrontChannelTest, DiscoveryListsTheJarmModesAndSigningAlgs) {  // JARM-04, JARM-02
  auto o = json_of(call(get("/.well-known/openid-configuration")).body);
  std::vector<std::string> modes;
  for (const auto& m : o.at("response_modes_supported").as_array()) {
    modes.emplace_back(m.as_string());
  }
  for (const char* m : {"jwt", "query.jwt", "form_post.jwt"}) {
    EXPECT_NE(std::find(modes.begin(), modes.end(), m), modes.end()) << m;
  }
  const auto& algs = o.at("authorization_signing_alg_values_supported").as_array();
  EXPECT_FALSE(algs.empty());
  for (const auto& a : algs) {
    EXPECT_TRUE(a == "PS256" || a == "ES256" || a == "EdDSA") << a;
  }
  EXPECT_EQ(o.if_contains("authorization_encryption_alg_values_supported"), nullptr);
}

TEST_F(FrontChannelTest, JarmFormPostNeedsNoScript) {
  const std::string uri = push("&response_mode=form_post.jwt");
  auto r = authorize_through("partner-client", uri);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("action=\"https://partner.example/cb\""), std::string::npos);
  EXPECT_NE(r.body.find("name=\"response\""), std::string::npos);
  EXPECT_EQ(r.body.find("<script"), std::string::npos);
  auto csp = std::string(r.headers.get("Content-Security-Policy").value_or(""));
  EXPECT_NE(csp.find("form-action 'self' https://partner.example"), std::string::npos);
  auto claims = verified_claims(hidden_value(r.body, "response"));
  EXPECT_EQ(str(claims, "aud"), "partner-client");
}

TEST_F(FrontChannelTest, Fapi1HybridByValueReturnsADetachedIdToken) {  // F1-11, F1-12
  const std::string loc = hybrid_by_value("fapi1-client", fapi1_object(fapi1_claims()));
  ASSERT_FALSE(loc.empty());
  EXPECT_EQ(loc.rfind(std::string(kFapi1Cb) + "#", 0), 0u) << loc;
  auto p = params_of(loc, '#');
  EXPECT_EQ(p["iss"], kIssuer);
  EXPECT_EQ(p["state"], "fapi1-state");
  auto claims = verified_claims(p["id_token"]);
  EXPECT_EQ(str(claims, "nonce"), "fapi1-nonce");
  EXPECT_EQ(str(claims, "c_hash"), left_half_hash("PS256", p["code"]));
  EXPECT_EQ(str(claims, "s_hash"), left_half_hash("PS256", "fapi1-state"));
  // By value, there was no certificate to bind the code to.
  auto redeemed = store_->redeem_code(crypto::sha256_b64url(p["code"]));
  ASSERT_TRUE(redeemed && *redeemed);
  EXPECT_EQ((*redeemed)->code.cnf_x5t_s256, "");
}

TEST_F(FrontChannelTest, Fapi1HybridIdTokenIsEncryptedToTheClientWhenItRegisteredAnAlg) {  // F1-13
  auto claims_in = fapi1_claims();
  claims_in["iss"] = "fapi1-encrypting";
  claims_in["client_id"] = "fapi1-encrypting";
  auto p = params_of(hybrid_by_value("fapi1-encrypting", fapi1_object(claims_in)), '#');
  ASSERT_FALSE(p.empty());
  // FAPI 1.0 Part 2 §5.2.2.1-6: the front-channel ID token is readable only by the client.
  ASSERT_EQ(jose::test::jwe_parts(p["id_token"]).size(), 5u);
  EXPECT_FALSE(jose::test::open_jwe(p["id_token"], front_keys().stranger));
  auto opened = jose::test::open_jwe(p["id_token"], front_keys().encryption);
  ASSERT_TRUE(opened);
  EXPECT_EQ(str(opened->header, "alg"), "RSA-OAEP-256");
  EXPECT_EQ(str(opened->header, "enc"), "A256GCM");
  EXPECT_EQ(str(opened->header, "kid"), "enc-1");
  EXPECT_EQ(str(opened->header, "cty"), "JWT");
  // Inside, the detached signature as an unencrypted client would get it.
  auto claims = verified_claims(opened->plaintext);
  EXPECT_EQ(str(claims, "aud"), "fapi1-encrypting");
  EXPECT_EQ(str(claims, "nonce"), "fapi1-nonce");
  EXPECT_EQ(str(claims, "c_hash"), left_half_hash("PS256", p["code"]));
  EXPECT_EQ(str(claims, "s_hash"), left_half_hash("PS256", "fapi1-state"));
  // And the token endpoint's ID token for the same code (OIDC Core §10.2).
  auto t = token("grant_type=authorization_code&client_id=fapi1-encrypting&code=" + p["code"] +
                     "&redirect_uri=" + core::percent_encode(kFapi1Cb) +
                     "&code_verifier=" + kVerifier,
                 partner_);
  ASSERT_EQ(t.status, 200) << t.body;
  auto body = json_of(t.body);
  auto back = jose::test::open_jwe(str(body, "id_token"), front_keys().encryption);
  ASSERT_TRUE(back);
  EXPECT_EQ(str(back->header, "enc"), "A256GCM");
  auto id = verified_claims(back->plaintext);
  EXPECT_EQ(str(id, "aud"), "fapi1-encrypting");
  EXPECT_EQ(str(id, "at_hash"), left_half_hash("PS256", str(body, "access_token")));
}

TEST_F(FrontChannelTest, Fapi1ByValueNeedsMatchingOutsideResponseType) {  // F1-11
  auto r = browser_get("/authorize?client_id=fapi1-client&scope=openid&request=" +
                           fapi1_object(fapi1_claims()),
                       {});
  expect_error_page(r, 400, "invalid_request");
  r = browser_get("/authorize?client_id=fapi1-client&response_type=code&scope=openid&request=" +
                      fapi1_object(fapi1_claims()),
                  {});
  expect_error_page(r, 400, "invalid_request");
}

// ---- consents --------------------------------------------------------------------------------------

TEST_F(FrontChannelTest, ConsentsCanBeSeenAndWithdrawn) {
  const std::string uri = push();
  // Go through the flow and keep the browser.
  Browser b = open_login("partner-client", uri);
  ASSERT_EQ(login(b, "partner-client", uri).status, 303);
  auto consent = browser_get(authorize_target("partner-client", uri), b);
  b.csrf = hidden_value(consent.body, "csrf_token");
  auto done = browser_post("/authorize/consent",
                           core::form_encode({{"csrf_token", b.csrf},
                                              {"client_id", "partner-client"},
                                              {"request_uri", uri},
                                              {"decision", "approve"}}),
                           b);
  ASSERT_EQ(done.status, 303);
  auto code = params_of(done.headers.get("Location").value_or(""), '?')["code"];
  auto redeemed = store_->redeem_code(crypto::sha256_b64url(code));
  ASSERT_TRUE(redeemed && *redeemed);
  const std::string grant_id = (*redeemed)->code.grant_id;
  // A token of that grant, as the token endpoint would store it.
  store::TokenRecord t;
  t.token_hash = "h1";
  t.kind = "refresh_token";
  t.client_id = "partner-client";
  t.issued_at = kNow;
  t.expires_at = kNow + 3600;
  t.grant_id = grant_id;
  ASSERT_TRUE(store_->put_token(t));

  auto page = browser_get("/consents", b);
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("partner-client"), std::string::npos);
  EXPECT_NE(page.body.find("Withdraw"), std::string::npos);
  const std::string consent_id = hidden_value(page.body, "consent_id");
  ASSERT_FALSE(consent_id.empty());

  // CSRF applies here too.
  auto forged = browser_post("/consents/withdraw",
                             core::form_encode({{"csrf_token", "x"}, {"consent_id", consent_id}}),
                             b);
  EXPECT_EQ(forged.status, 403);
  auto w = browser_post("/consents/withdraw",
                        core::form_encode({{"csrf_token", hidden_value(page.body, "csrf_token")},
                                           {"consent_id", consent_id}}),
                        b);
  EXPECT_EQ(w.status, 303);
  auto revoked = store_->find_token("h1");
  ASSERT_TRUE(revoked && *revoked);
  EXPECT_TRUE((*revoked)->revoked);
  auto after = browser_get("/consents", b);
  EXPECT_NE(after.body.find("Withdrawn"), std::string::npos);
}

// A write that fails between "revoke the grant" and "mark the consent withdrawn" (here a trigger
// in the real database refusing the revoked-grant row; in production a full disk or a crash)
// must leave a consent the user can withdraw again, never one shown as Withdrawn whose tokens
// still work.
TEST_F(FrontChannelTest, AWithdrawalWhoseRevocationFailsLeavesTheConsentActive) {
  const std::string uri = push();
  Browser b = open_login("partner-client", uri);
  ASSERT_EQ(login(b, "partner-client", uri).status, 303);
  auto consent = browser_get(authorize_target("partner-client", uri), b);
  b.csrf = hidden_value(consent.body, "csrf_token");
  auto done = browser_post("/authorize/consent",
                           core::form_encode({{"csrf_token", b.csrf},
                                              {"client_id", "partner-client"},
                                              {"request_uri", uri},
                                              {"decision", "approve"}}),
                           b);
  ASSERT_EQ(done.status, 303);
  auto code = params_of(done.headers.get("Location").value_or(""), '?')["code"];
  auto redeemed = store_->redeem_code(crypto::sha256_b64url(code));
  ASSERT_TRUE(redeemed && *redeemed);
  store::TokenRecord t;
  t.token_hash = "h-fail";
  t.kind = "refresh_token";
  t.client_id = "partner-client";
  t.issued_at = kNow;
  t.expires_at = kNow + 3600;
  t.grant_id = (*redeemed)->code.grant_id;
  ASSERT_TRUE(store_->put_token(t));
  auto page = browser_get("/consents", b);
  const std::string consent_id = hidden_value(page.body, "consent_id");
  ASSERT_FALSE(consent_id.empty());

  auto sql = [&](const char* text) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, text, nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  };
  sql("CREATE TRIGGER fail_revoke BEFORE INSERT ON revoked_grants "
      "BEGIN SELECT RAISE(ABORT, 'injected fault'); END");
  auto failed = browser_post("/consents/withdraw",
                             core::form_encode({{"csrf_token", hidden_value(page.body, "csrf_token")},
                                                {"consent_id", consent_id}}),
                             b);
  EXPECT_EQ(failed.status, 500);
  auto still = browser_get("/consents", b);
  EXPECT_NE(still.body.find("Active"), std::string::npos) << still.body;
  EXPECT_EQ(still.body.find("Withdrawn"), std::string::npos) << still.body;
  EXPECT_EQ(hidden_value(still.body, "consent_id"), consent_id) << "it can be withdrawn again";

  sql("DROP TRIGGER fail_revoke");
  auto w = browser_post("/consents/withdraw",
                        core::form_encode({{"csrf_token", hidden_value(still.body, "csrf_token")},
                                           {"consent_id", consent_id}}),
                        b);
  EXPECT_EQ(w.status, 303);
  auto revoked = store_->find_token("h-fail");
  ASSERT_TRUE(revoked && *revoked);
  EXPECT_TRUE((*revoked)->revoked);
  EXPECT_NE(browser_get("/consents", b).body.find("Withdrawn"), std::string::npos);
}

TEST_F(FrontChannelTest, ConsentsPageAsksToSignInFirst) {
  auto r = browser_get("/consents", {});
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("name=\"password\""), std::string::npos);
  EXPECT_EQ(hidden_value(r.body, "next"), "consents");
}

TEST_F(AsTest, UserWithAMalformedOrOversizedHashStopsTheStart) {
  for (const char* bad : {"plaintext-password", "$scrypt$ln=30,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$"
                                                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}) {
    auto s = default_settings();
    s.users.push_back(config::User{"bob", bad});
    EXPECT_FALSE(AsService::create(s, *store_, clock_)) << bad;
  }
}

// ---- discovery ----------------------------------------------------------------------------------

TEST_F(FrontChannelTest, DiscoveryListsTheFrontChannel) {
  auto o = json_of(call(get("/.well-known/openid-configuration")).body);
  EXPECT_EQ(str(o, "authorization_endpoint"), std::string(kIssuer) + "/authorize");
  EXPECT_EQ(str(o, "pushed_authorization_request_endpoint"), std::string(kIssuer) + "/par");
  auto* aliases = core::get_object(o, "mtls_endpoint_aliases");
  ASSERT_NE(aliases, nullptr);
  EXPECT_EQ(str(*aliases, "pushed_authorization_request_endpoint"),
            std::string(kMtlsBase) + "/par");
  EXPECT_EQ(boost::json::serialize(o.at("code_challenge_methods_supported")), R"(["S256"])");
  EXPECT_TRUE(o.at("authorization_response_iss_parameter_supported").as_bool());
  EXPECT_FALSE(o.at("request_uri_parameter_supported").as_bool());
  // fapi1-client may send its request object by value.
  EXPECT_FALSE(o.at("require_pushed_authorization_requests").as_bool());
  EXPECT_EQ(o.find("claims_parameter_supported"), o.end());
  for (const auto& a : o.at("request_object_signing_alg_values_supported").as_array()) {
    EXPECT_TRUE(a == "PS256" || a == "ES256" || a == "EdDSA") << a;
  }
}

}  // namespace
}  // namespace fapigate::as::test
