// The front channel's pure checks: PKCE (RFC 7636), redirect_uri exact matching, signed
// request objects (RFC 9101 with the FAPI 1.0 Advanced / FAPI 2.0 Message Signing rules:
// fapi-requirements N-02..N-12, N-23, N-24, F1-05..F1-07, F2-14), scrypt password hashes, HTML
// escaping and CSRF tokens.
#include <limits>

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "as/authz_request.hpp"
#include "as/checks/pkce.hpp"
#include "as/checks/redirect_uri.hpp"
#include "as/checks/request_object.hpp"
#include "as/endpoints/front_channel.hpp"
#include "as/html.hpp"
#include "as/password.hpp"
#include "core/base64url.hpp"
#include "core/json.hpp"
#include "crypto/digest.hpp"
#include "crypto/key.hpp"
#include "jose/jwk.hpp"
#include "jose/jws.hpp"

namespace fapigate::as {
namespace {

constexpr std::int64_t kNow = 1'700'000'000;
constexpr const char* kIssuer = "https://as.example";

// ---- PKCE -------------------------------------------------------------------------------------

// RFC 7636 Appendix B.
constexpr const char* kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
constexpr const char* kChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

TEST(Pkce, Rfc7636AppendixBVectorMatches) { EXPECT_TRUE(pkce_s256_matches(kChallenge, kVerifier)); }

TEST(Pkce, WrongVerifierDoesNotMatch) {
  std::string v = kVerifier;
  v.back() = v.back() == 'k' ? 'j' : 'k';
  EXPECT_FALSE(pkce_s256_matches(kChallenge, v));
}

TEST(Pkce, VerifierSyntaxIsEnforced) {
  EXPECT_FALSE(pkce_s256_matches(kChallenge, ""));
  EXPECT_FALSE(pkce_verifier_syntax_ok(std::string(42, 'a')));
  EXPECT_TRUE(pkce_verifier_syntax_ok(std::string(43, 'a')));
  EXPECT_TRUE(pkce_verifier_syntax_ok(std::string(128, '~')));
  EXPECT_FALSE(pkce_verifier_syntax_ok(std::string(129, 'a')));
  EXPECT_FALSE(pkce_verifier_syntax_ok(std::string(42, 'a') + "+"));
  EXPECT_FALSE(pkce_verifier_syntax_ok(std::string(42, 'a') + " "));
  // The plain method (challenge == verifier) never passes as S256.
  const std::string plain(43, 'a');
  EXPECT_FALSE(pkce_s256_matches(plain, plain));
}

TEST(Pkce, ChallengeRequiredWithS256) {
  auto missing = check_pkce_challenge(std::nullopt, "S256");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->code, OAuthErrc::InvalidRequest);
  auto plain = check_pkce_challenge(kChallenge, "plain");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->code, OAuthErrc::InvalidRequest);
  // RFC 7636 §4.3: an absent method means plain.
  auto absent = check_pkce_challenge(kChallenge, std::nullopt);
  ASSERT_TRUE(absent);
  EXPECT_EQ(absent->code, OAuthErrc::InvalidRequest);
  auto s256_lower = check_pkce_challenge(kChallenge, "s256");
  EXPECT_TRUE(s256_lower);
  auto bad_shape = check_pkce_challenge("short", "S256");
  ASSERT_TRUE(bad_shape);
  EXPECT_EQ(bad_shape->code, OAuthErrc::InvalidRequest);
  EXPECT_FALSE(check_pkce_challenge(kChallenge, "S256"));
}

// ---- redirect_uri ------------------------------------------------------------------------------

store::ClientRecord client_with_redirect() {
  store::ClientRecord c;
  c.client_id = "c1";
  c.redirect_uris = {"https://client.example/cb", "https://client.example/cb2?x=1"};
  c.scopes = {"accounts", "payments"};
  return c;
}

TEST(RedirectUri, ExactMatchOnly) {
  auto c = client_with_redirect();
  EXPECT_FALSE(check_redirect_uri("https://client.example/cb", c));
  EXPECT_FALSE(check_redirect_uri("https://client.example/cb2?x=1", c));
  for (const char* bad :
       {"https://client.example/cb/", "https://CLIENT.example/cb", "https://client.example:443/cb",
        "https://client.example/cb?x=1", "https://client.example/cb#f", "http://client.example/cb",
        "https://client.example/cb2", "https://evil.example/cb"}) {
    auto e = check_redirect_uri(bad, c);
    ASSERT_TRUE(e) << bad;
    EXPECT_EQ(e->code, OAuthErrc::InvalidRequest) << bad;
  }
}

TEST(RedirectUri, RequiredAndBounded) {
  auto c = client_with_redirect();
  auto missing = check_redirect_uri(std::nullopt, c);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->code, OAuthErrc::InvalidRequest);
  EXPECT_TRUE(check_redirect_uri("", c));
  EXPECT_TRUE(check_redirect_uri("https://client.example/" + std::string(3000, 'a'), c));
}

// ---- request objects ----------------------------------------------------------------------------

struct Keys {
  crypto::Key mine = *crypto::Key::generate(crypto::KeyType::Ec);
  crypto::Key other = *crypto::Key::generate(crypto::KeyType::Ec);
  crypto::Key rsa = *crypto::Key::generate(crypto::KeyType::Rsa);
};

const Keys& keys() {
  static const Keys k;
  return k;
}

store::ClientRecord ro_client() {
  auto c = client_with_redirect();
  jose::Jwks jwks;
  jwks.keys.push_back(jose::make_jwk(keys().mine.public_only(), "k1", jose::Alg::ES256));
  jwks.keys.push_back(jose::make_jwk(keys().rsa.public_only(), "rsa", std::nullopt));
  c.jwks_json = jose::to_json_string(jwks, false);
  return c;
}

boost::json::object good_claims() {
  return boost::json::object{{"iss", "c1"},
                             {"aud", kIssuer},
                             {"client_id", "c1"},
                             {"response_type", "code"},
                             {"redirect_uri", "https://client.example/cb"},
                             {"scope", "openid payments"},
                             {"state", "s1"},
                             {"nonce", "n1"},
                             {"code_challenge", kChallenge},
                             {"code_challenge_method", "S256"},
                             {"nbf", kNow - 10},
                             {"exp", kNow + 300}};
}

std::string sign(const boost::json::object& claims, const crypto::Key& key = keys().mine,
                 std::string kid = "k1", jose::Alg alg = jose::Alg::ES256,
                 std::string typ = "oauth-authz-req+jwt") {
  auto jwt = jose::sign_compact(boost::json::serialize(claims), alg, key, kid, typ);
  EXPECT_TRUE(jwt) << jwt.error().message();
  return jwt ? *jwt : std::string();
}

RequestObjectPolicy policy() {
  RequestObjectPolicy p;
  p.issuer = kIssuer;
  p.now = kNow;
  return p;
}

void expect_refused(const std::string& jwt, const char* why,
                    const RequestObjectPolicy& p = policy()) {
  auto r = verify_request_object(jwt, ro_client(), p);
  ASSERT_FALSE(r) << why;
  EXPECT_EQ(r.error().code, OAuthErrc::InvalidRequestObject) << why;
  EXPECT_EQ(errc_name(r.error().code), "invalid_request_object");
}

TEST(RequestObject, ValidObjectReturnsItsClaims) {
  auto r = verify_request_object(sign(good_claims()), ro_client(), policy());
  ASSERT_TRUE(r) << r.error().description;
  EXPECT_EQ(core::get_string(*r, "state").value_or(""), "s1");
}

TEST(RequestObject, AudArrayContainingIssuerSucceeds) {  // N-08
  auto c = good_claims();
  c["aud"] = boost::json::array{kIssuer, "https://junk.example"};
  EXPECT_TRUE(verify_request_object(sign(c), ro_client(), policy()));
}

TEST(RequestObject, TypJwtOrAbsentAccepted) {  // F2MS 5.3.1-5
  EXPECT_TRUE(verify_request_object(sign(good_claims(), keys().mine, "k1", jose::Alg::ES256, ""),
                                    ro_client(), policy()));
  EXPECT_TRUE(verify_request_object(
      sign(good_claims(), keys().mine, "k1", jose::Alg::ES256, "JWT"), ro_client(), policy()));
  expect_refused(sign(good_claims(), keys().mine, "k1", jose::Alg::ES256, "at+jwt"),
                 "another JWT type");
}

TEST(RequestObject, MissingExpRefused) {  // N-02
  auto c = good_claims();
  c.erase("exp");
  expect_refused(sign(c), "no exp");
}

TEST(RequestObject, MissingNbfRefused) {  // N-03
  auto c = good_claims();
  c.erase("nbf");
  expect_refused(sign(c), "no nbf");
}

TEST(RequestObject, ExpiredRefused) {  // N-04
  auto c = good_claims();
  c["nbf"] = kNow - 600;
  c["exp"] = kNow - 60;
  expect_refused(sign(c), "expired");
}

TEST(RequestObject, LifetimeOver60MinutesRefused) {  // N-05, F1-05
  auto c = good_claims();
  c["nbf"] = kNow;
  c["exp"] = kNow + 70 * 60;
  expect_refused(sign(c), "exp - nbf 70 min");
  c["exp"] = kNow + 60 * 60;
  EXPECT_TRUE(verify_request_object(sign(c), ro_client(), policy()));
}

TEST(RequestObject, NbfOlderThan60MinutesRefused) {  // N-06, F1-06
  auto c = good_claims();
  c["nbf"] = kNow - 70 * 60;
  c["exp"] = kNow + 60;
  expect_refused(sign(c), "nbf 70 min ago");
}

// Regression (tests/fuzz/regressions/request_object/sign_nbf_int64_min_overflow): now - nbf
// overflowed for an nbf near INT64_MIN (UBSan), and the wrapped age passed both the 60-minute
// age and the lifetime checks.
TEST(RequestObject, NbfAtInt64MinRefusedAsTooOld) {
  auto c = good_claims();
  c["nbf"] = std::numeric_limits<std::int64_t>::min();
  auto r = verify_request_object(sign(c), ro_client(), policy());
  ASSERT_FALSE(r);
  EXPECT_EQ(errc_name(r.error().code), "invalid_request_object");
  EXPECT_EQ(r.error().description, "the request object's nbf is more than 60 minutes in the past");
}

TEST(RequestObject, NbfEightSecondsAheadAcceptedSixtyOneRefused) {  // N-24, F2-14
  auto c = good_claims();
  c["nbf"] = kNow + 8;
  c["iat"] = kNow + 8;
  EXPECT_TRUE(verify_request_object(sign(c), ro_client(), policy()));
  c["nbf"] = kNow + 61;
  c.erase("iat");
  expect_refused(sign(c), "nbf +61 s");
  c["nbf"] = kNow;
  c["iat"] = kNow + 61;
  expect_refused(sign(c), "iat +61 s");
}

TEST(RequestObject, WrongAudRefused) {  // N-07
  auto c = good_claims();
  c["aud"] = "https://other.example";
  expect_refused(sign(c), "wrong aud");
  c["aud"] = std::string(kIssuer) + "/par";
  expect_refused(sign(c), "PAR URL as aud");
  c.erase("aud");
  expect_refused(sign(c), "no aud");
}

TEST(RequestObject, WrongIssRefused) {
  auto c = good_claims();
  c["iss"] = "c2";
  expect_refused(sign(c), "iss of another client");
}

TEST(RequestObject, ClientIdInsideMustMatch) {  // JAR-01
  auto c = good_claims();
  c["client_id"] = "c2";
  expect_refused(sign(c), "client_id differs");
}

TEST(RequestObject, AlgNoneRefused) {  // N-10
  const std::string jwt = core::base64url_encode(R"({"alg":"none"})") + "." +
                          core::base64url_encode(boost::json::serialize(good_claims())) + ".";
  expect_refused(jwt, "alg none");
}

TEST(RequestObject, Hs256Refused) {
  const std::string input = core::base64url_encode(R"({"alg":"HS256","kid":"k1"})") + "." +
                            core::base64url_encode(boost::json::serialize(good_claims()));
  expect_refused(input + "." + core::base64url_encode(crypto::sha256(input)), "HS256");
}

TEST(RequestObject, Rs256RefusedEvenWithARegisteredRsaKey) {  // N-09
  // A genuine RS256 signature cannot be produced through jose (it cannot name RS256); forge
  // the header and sign PS256-style: the alg check refuses before any signature check.
  const std::string input = core::base64url_encode(R"({"alg":"RS256","kid":"rsa"})") + "." +
                            core::base64url_encode(boost::json::serialize(good_claims()));
  expect_refused(input + "." + core::base64url_encode(std::string(256, 'x')), "RS256");
}

TEST(RequestObject, CorruptedSignatureRefused) {  // N-11
  std::string jwt = sign(good_claims());
  jwt[jwt.size() - 5] = jwt[jwt.size() - 5] == 'A' ? 'B' : 'A';
  expect_refused(jwt, "bad signature");
}

TEST(RequestObject, AnotherClientsKeyRefused) {  // N-12, JAR-02
  expect_refused(sign(good_claims(), keys().other, "k1"), "other key, same kid");
  expect_refused(sign(good_claims(), keys().other, "other-kid"), "other key, unknown kid");
}

TEST(RequestObject, RegisteredAlgEnforced) {
  auto p = policy();
  p.required_alg = jose::Alg::PS256;
  expect_refused(sign(good_claims()), "ES256 where PS256 is registered", p);
  EXPECT_TRUE(verify_request_object(sign(good_claims(), keys().rsa, "rsa", jose::Alg::PS256),
                                    ro_client(), p));
}

TEST(RequestObject, NestedRequestUriRefused) {  // N-23
  auto c = good_claims();
  c["request_uri"] = "urn:ietf:params:oauth:request_uri:x";
  expect_refused(sign(c), "request_uri inside");
}

TEST(RequestObject, ClientWithoutKeysRefused) {
  auto c = ro_client();
  c.jwks_json.clear();
  auto r = verify_request_object(sign(good_claims()), c, policy());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, OAuthErrc::InvalidRequestObject);
}

// ---- the authorization request rules ------------------------------------------------------------

RequestParams fapi2_params() {
  return {{"response_type", "code"},
          {"redirect_uri", "https://client.example/cb"},
          {"scope", "payments"},
          {"state", "st"},
          {"code_challenge", kChallenge},
          {"code_challenge_method", "S256"}};
}

ClientPolicy fapi2_policy() {
  ClientPolicy p;
  p.response_types = {"code"};
  return p;
}

ClientPolicy fapi1_policy() {
  ClientPolicy p;
  p.profile = FapiProfile::Fapi1Advanced;
  p.response_types = {"code id_token", "code"};
  p.require_pushed_authorization_requests = false;
  return p;
}

OAuthErrc refusal(const RequestParams& params, const ClientPolicy& p = fapi2_policy()) {
  auto r = validate_authorization_request(client_with_redirect(), p, params, false);
  EXPECT_FALSE(r);
  return r ? OAuthErrc::ServerError : r.error().code;
}

TEST(AuthorizationRequest, Fapi2PlainCodeRequestValidates) {
  auto r = validate_authorization_request(client_with_redirect(), fapi2_policy(), fapi2_params(),
                                          false);
  ASSERT_TRUE(r) << r.error().description;
  EXPECT_EQ(r->response_mode, ResponseMode::Query);
  EXPECT_EQ(r->state, "st");
  auto round = AuthorizationRequest::from_json(r->to_json());
  ASSERT_TRUE(round);
  EXPECT_EQ(round->code_challenge, kChallenge);
  EXPECT_TRUE(round->has_state);
}

TEST(AuthorizationRequest, MissingOrPlainPkceRefused) {  // N-32
  auto p = fapi2_params();
  p.erase("code_challenge");
  EXPECT_EQ(refusal(p), OAuthErrc::InvalidRequest);
  p = fapi2_params();
  p["code_challenge_method"] = "plain";
  EXPECT_EQ(refusal(p), OAuthErrc::InvalidRequest);
}

TEST(AuthorizationRequest, Fapi2RefusesHybridAndToken) {  // N-18
  auto p = fapi2_params();
  p["response_type"] = "code id_token";
  EXPECT_EQ(refusal(p), OAuthErrc::UnsupportedResponseType);
  p["response_type"] = "token";
  EXPECT_EQ(refusal(p), OAuthErrc::UnsupportedResponseType);
}

TEST(AuthorizationRequest, Fapi1CodeWithoutJarmRefused) {  // N-17
  auto p = fapi2_params();
  p["scope"] = "openid payments";
  p["nonce"] = "n";
  EXPECT_EQ(refusal(p, fapi1_policy()), OAuthErrc::UnsupportedResponseType);
  p["response_mode"] = "jwt";
  EXPECT_TRUE(validate_authorization_request(client_with_redirect(), fapi1_policy(), p, true));
}

TEST(AuthorizationRequest, Fapi1NonceRequiredWithOpenid) {  // F1-17, N-13
  auto p = fapi2_params();
  p["scope"] = "openid payments";
  p["response_type"] = "code id_token";
  EXPECT_EQ(refusal(p, fapi1_policy()), OAuthErrc::InvalidRequest);
  p["nonce"] = std::string(64, 'n');  // N-21: 64 characters pass exactly
  auto r = validate_authorization_request(client_with_redirect(), fapi1_policy(), p, true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->nonce, std::string(64, 'n'));
  EXPECT_EQ(r->response_mode, ResponseMode::Fragment);
}

TEST(AuthorizationRequest, Fapi1StateRequiredWithoutOpenid) {  // F1-17 (FAPI 1.0 Part 1 §5.2.2.3)
  auto p = fapi2_params();
  p.erase("state");
  p["response_mode"] = "jwt";
  EXPECT_EQ(refusal(p, fapi1_policy()), OAuthErrc::InvalidRequest);
  p["state"] = "st";
  EXPECT_TRUE(validate_authorization_request(client_with_redirect(), fapi1_policy(), p, true));
}

TEST(AuthorizationRequest, OverlongNonceRefusedNeverTruncated) {  // N-20
  auto p = fapi2_params();
  p["nonce"] = std::string(kMaxNonceBytes + 1, 'n');
  EXPECT_EQ(refusal(p), OAuthErrc::InvalidRequest);
  p["nonce"] = std::string(384, 'n');
  auto r = validate_authorization_request(client_with_redirect(), fapi2_policy(), p, false);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->nonce.size(), 384u);
}

TEST(AuthorizationRequest, LongStateAccepted) {  // F2-26
  auto p = fapi2_params();
  p["state"] = std::string(1500, 's');
  EXPECT_TRUE(validate_authorization_request(client_with_redirect(), fapi2_policy(), p, false));
}

TEST(AuthorizationRequest, ScopeMustBeRegistered) {
  auto p = fapi2_params();
  p["scope"] = "payments admin";
  EXPECT_EQ(refusal(p), OAuthErrc::InvalidScope);
  p.erase("scope");
  EXPECT_EQ(refusal(p), OAuthErrc::InvalidRequest);
}

TEST(AuthorizationRequest, RedirectUriRequiredAndRegistered) {  // N-15, N-16
  auto p = fapi2_params();
  p.erase("redirect_uri");
  EXPECT_EQ(refusal(p), OAuthErrc::InvalidRequest);
  p["redirect_uri"] = "https://evil.example/cb";
  EXPECT_EQ(refusal(p), OAuthErrc::InvalidRequest);
}

TEST(AuthorizationRequest, HybridOnlyInTheFragment) {
  auto p = fapi2_params();
  p["scope"] = "openid";
  p["nonce"] = "n";
  p["response_type"] = "code id_token";
  p["response_mode"] = "query";
  EXPECT_EQ(refusal(p, fapi1_policy()), OAuthErrc::InvalidRequest);
  p["response_mode"] = "bogus";
  EXPECT_EQ(refusal(p, fapi1_policy()), OAuthErrc::InvalidRequest);
}

// ---- passwords ----------------------------------------------------------------------------------

TEST(Password, HashVerifiesAndSaltsDiffer) {
  ScryptParams fast;
  fast.log2_n = 10;  // the lowest accepted: keeps the test quick under sanitizers
  auto a = hash_password("correct horse", fast);
  auto b = hash_password("correct horse", fast);
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
  EXPECT_EQ(a->rfind("$scrypt$ln=10,r=8,p=1$", 0), 0u);
  EXPECT_TRUE(verify_password("correct horse", *a));
  EXPECT_FALSE(verify_password("correct horse!", *a));
  EXPECT_FALSE(verify_password("", *a));
  EXPECT_TRUE(password_hash_well_formed(*a));
}

TEST(Password, DefaultParametersAreTheDocumentedOnes) {
  auto h = hash_password("pw");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->rfind("$scrypt$ln=15,r=8,p=1$", 0), 0u);
  EXPECT_TRUE(verify_password("pw", *h));
}

TEST(Password, MalformedOrOutOfBoundsHashesNeverVerify) {
  ScryptParams fast;
  fast.log2_n = 10;
  auto good = hash_password("pw", fast);
  ASSERT_TRUE(good);
  std::string huge_n = *good;
  huge_n.replace(huge_n.find("ln=10"), 5, "ln=30");  // a planted 128 GiB hash
  for (const std::string& bad :
       {std::string(), std::string("plain"), std::string("$scrypt$"), huge_n,
        std::string("$scrypt$ln=10,r=8,p=1$$"), std::string("$bcrypt$ln=10,r=8,p=1$abc$def"),
        good->substr(0, good->size() - 2)}) {
    EXPECT_FALSE(password_hash_well_formed(bad)) << bad;
    EXPECT_FALSE(verify_password("pw", bad)) << bad;
  }
  EXPECT_FALSE(hash_password("pw", ScryptParams{30, 8, 1}));
}

// ---- HTML and CSRF ------------------------------------------------------------------------------

TEST(Html, EscapesEveryMarkupCharacter) {
  EXPECT_EQ(html_escape(R"(<script>alert("x&'y")</script>)"),
            "&lt;script&gt;alert(&quot;x&amp;&#39;y&quot;)&lt;/script&gt;");
  EXPECT_EQ(html_escape("plain text"), "plain text");
}

TEST(Html, PagesCarryTheSecurityHeaders) {
  auto r = html_page("t", "<p>x</p>");
  EXPECT_EQ(r.headers.get("Content-Type").value_or(""), "text/html; charset=utf-8");
  EXPECT_EQ(r.headers.get("Cache-Control").value_or(""), "no-store");
  EXPECT_EQ(r.headers.get("X-Frame-Options").value_or(""), "DENY");
  EXPECT_EQ(r.headers.get("Referrer-Policy").value_or(""), "no-referrer");
  EXPECT_NE(r.headers.get("Strict-Transport-Security"), std::nullopt);
  auto csp = std::string(r.headers.get("Content-Security-Policy").value_or(""));
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos);
  EXPECT_EQ(csp.find("script-src"), std::string::npos);
  EXPECT_EQ(r.headers.get("Access-Control-Allow-Origin"), std::nullopt);
  EXPECT_EQ(r.body.find("<script"), std::string::npos);
}

TEST(Html, UrlOriginIsSafeForCsp) {
  EXPECT_EQ(url_origin("https://client.example:8443/cb?x=1"), "https://client.example:8443");
  EXPECT_EQ(url_origin("https://client.example"), "https://client.example");
  EXPECT_EQ(url_origin("https://a.example;script-src"), "");
  EXPECT_EQ(url_origin("no-scheme"), "");
}

TEST(Html, CookieValueFindsTheNamedCookie) {
  http::Request r;
  r.headers.add("Cookie", "a=1; __Host-fapigate-session=abc; b=2");
  EXPECT_EQ(cookie_value(r, "__Host-fapigate-session").value_or(""), "abc");
  EXPECT_EQ(cookie_value(r, "missing"), std::nullopt);
}

TEST(Csrf, TokenIsBoundToTheSessionCookie) {
  const auto a = crypto::random_token(32);
  const auto b = crypto::random_token(32);
  EXPECT_EQ(csrf_token_for(a), csrf_token_for(a));
  EXPECT_NE(csrf_token_for(a), csrf_token_for(b));
  EXPECT_NE(csrf_token_for(a), a);
  EXPECT_EQ(csrf_token_for(a).size(), 43u);
}

}  // namespace
}  // namespace fapigate::as
