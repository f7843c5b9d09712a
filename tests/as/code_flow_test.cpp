// The token endpoint's side of the authorization-code flow: authorization_code (RFC 6749
// §4.1.3, RFC 7636 §4.6, FAPI 2.0 SP §5.3.2.1) and refresh_token (RFC 6749 §6) grants, each
// refusal with its exact status and error (fapi-requirements B.3: reused code, wrong or missing
// verifier, expired code, another client's code, redirect_uri mismatch, certificate mismatch on
// code and on refresh, rotation reuse detection). Codes are written straight into the store, as
// the authorization endpoint would write them.
#include "as/as_fixture.hpp"

#include "as/id_token.hpp"
#include "core/strings.hpp"

#include <array>
#include <set>
#include <cctype>
#include <thread>

#include <sqlite3.h>
#include <cstdio>

namespace fapigate::as::test {
namespace {

constexpr const char* kRedirect = "https://client.example/cb";
constexpr const char* kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";  // RFC 7636 App. B

std::string form_encode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  for (auto p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) {
    s.replace(p, from.size(), to);
  }
}

class CodeFlow : public AsTest {
protected:
  void SetUp() override {
    AsTest::SetUp();
    auto s = default_settings();
    s.scopes_supported = {"openid", "accounts", "payments"};
    s.refresh_token_lifetime = 3600;
    auto code_client = [](std::string id, std::string dn) {
      auto c = client(std::move(id), std::move(dn), {"openid", "accounts", "payments"});
      c.grant_types = {"authorization_code", "refresh_token"};
      c.redirect_uris = {kRedirect};
      return c;
    };
    // fapi2 (the default profile): never rotates.
    s.clients.push_back(code_client("fapi2-client", "CN=partner-client,O=fapigate"));
    s.clients.push_back(code_client("fapi2-other", "CN=other-partner,O=fapigate"));
    auto rotating = code_client("rotating-client", "CN=partner-client,O=fapigate");
    rotating.profile = "fapi1_advanced";
    rotating.refresh_token_rotation = true;
    s.clients.push_back(rotating);
    auto es = code_client("es256-client", "CN=partner-client,O=fapigate");
    es.id_token_signed_response_alg = "ES256";
    s.clients.push_back(es);
    auto no_refresh = code_client("no-refresh", "CN=partner-client,O=fapigate");
    no_refresh.grant_types = {"authorization_code"};
    s.clients.push_back(no_refresh);
    start(s);
  }

  // A code as the authorization endpoint stores it; returns the code itself.
  std::string put_code(const std::string& client_id, std::string scope = "openid accounts",
                       std::string cnf = {}, std::string grant_id = {}) {
    const std::string code = crypto::random_token(32);
    store::AuthorizationCodeRecord rec;
    rec.code_hash = crypto::sha256_b64url(code);
    rec.client_id = client_id;
    rec.subject = "alice";
    rec.scope = std::move(scope);
    rec.redirect_uri = kRedirect;
    rec.code_challenge = crypto::sha256_b64url(kVerifier);
    rec.nonce = "n-0S6_WzA2Mj";
    rec.acr = "urn:example:acr:sca";
    rec.auth_time = clock_.now() - 20;
    rec.cnf_x5t_s256 = std::move(cnf);
    rec.grant_id = grant_id.empty() ? crypto::random_token(16) : std::move(grant_id);
    rec.issued_at = clock_.now();
    rec.expires_at = clock_.now() + 60;
    EXPECT_TRUE(store_->put_code(rec));
    return code;
  }

  static std::string code_request(const std::string& client_id, const std::string& code,
                                  std::string extra = {}) {
    return "grant_type=authorization_code&client_id=" + client_id + "&code=" + code +
           "&redirect_uri=" + form_encode(kRedirect) + "&code_verifier=" + kVerifier + extra;
  }

  static std::string refresh_request(const std::string& client_id, const std::string& rt,
                                     std::string extra = {}) {
    return "grant_type=refresh_token&client_id=" + client_id +
           "&refresh_token=" + form_encode(rt) + extra;
  }

  bool active(const std::string& token, const std::string& client_id,
              std::shared_ptr<const http::PeerCertificate> cert) {
    auto r = call(post("/introspect", "client_id=" + client_id + "&token=" + form_encode(token),
                       std::move(cert)));
    EXPECT_EQ(r.status, 200) << r.body;
    auto o = json_of(r.body);
    const auto* a = o.if_contains("active");
    return a && a->is_bool() && a->get_bool();
  }

  // A successful code exchange for `client_id` with the partner certificate.
  boost::json::object redeem(const std::string& client_id, std::string scope = "openid accounts") {
    auto r = token(code_request(client_id, put_code(client_id, std::move(scope))), partner_);
    EXPECT_EQ(r.status, 200) << r.body;
    return json_of(r.body);
  }

  boost::json::object verify_id_token(const std::string& id_token, jose::Alg alg) {
    auto r = call(get("/jwks"));
    auto jwks = jose::parse_jwks(r.body);
    EXPECT_TRUE(jwks) << r.body;
    if (!jwks) {
      return {};
    }
    jose::VerifierSet set(*jwks);
    auto v = jose::verify_compact(id_token, jose::AlgList{alg}, set);
    EXPECT_TRUE(v) << (v ? "" : v.error().message());
    return v ? json_of(v->payload) : boost::json::object{};
  }
};

// ---- authorization_code: success ---------------------------------------------------------------

TEST_F(CodeFlow, CodeGivesBoundAccessTokenRefreshTokenAndIdToken) {
  const std::string code = put_code("fapi2-client");
  auto r = token(code_request("fapi2-client", code), partner_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers.get("Cache-Control").value_or(""), "no-store");
  auto body = json_of(r.body);
  EXPECT_EQ(str(body, "token_type"), "Bearer");
  EXPECT_EQ(core::get_int(body, "expires_in").value_or(0), 300);
  EXPECT_EQ(str(body, "scope"), "openid accounts");
  const std::string at = str(body, "access_token");
  const std::string rt = str(body, "refresh_token");
  EXPECT_GE(rt.size(), 43u);

  auto at_claims = json_of(jose::parse_compact(at, jose::kAllAlgs)->payload);
  EXPECT_EQ(str(at_claims, "sub"), "alice");
  EXPECT_EQ(str(at_claims, "client_id"), "fapi2-client");
  EXPECT_EQ(str(*core::get_object(at_claims, "cnf"), "x5t#S256"), partner_->x5t_s256);

  // OIDC Core §3.1.3.6 / FAPI: PS256 by default, at_hash over this access token.
  auto id = verify_id_token(str(body, "id_token"), jose::Alg::PS256);
  EXPECT_EQ(str(id, "iss"), kIssuer);
  EXPECT_EQ(str(id, "sub"), "alice");
  EXPECT_EQ(str(id, "aud"), "fapi2-client");
  EXPECT_EQ(str(id, "nonce"), "n-0S6_WzA2Mj");
  EXPECT_EQ(str(id, "acr"), "urn:example:acr:sca");
  EXPECT_EQ(core::get_int(id, "auth_time").value_or(0), kNow - 20);
  EXPECT_EQ(str(id, "at_hash"), left_half_hash("PS256", at));

  EXPECT_TRUE(active(at, "fapi2-client", partner_));
  EXPECT_TRUE(active(rt, "fapi2-client", partner_));
}

TEST_F(CodeFlow, IdTokenInTheClientsAlg) {
  auto body = redeem("es256-client");
  auto id = verify_id_token(str(body, "id_token"), jose::Alg::ES256);
  EXPECT_EQ(str(id, "at_hash"), left_half_hash("ES256", str(body, "access_token")));
}

TEST_F(CodeFlow, IdTokenCarriesOnlyTheClaimsDiscoveryListsAndNoUserAttributes) {  // F1-13
  // FAPI 1.0 Part 2 §5.2.2.1-6: no sensitive PII in the ID token. Every member is one of
  // discovery's claims_supported, and none of those is a user attribute (OIDC Core §5.1).
  auto doc = json_of(call(get("/.well-known/openid-configuration")).body);
  std::set<std::string> supported;
  for (const auto& v : doc.at("claims_supported").as_array()) {
    supported.insert(std::string(v.as_string()));
  }
  for (const char* attribute : {"name", "given_name", "family_name", "email", "phone_number",
                                "address", "birthdate", "preferred_username"}) {
    EXPECT_EQ(supported.count(attribute), 0u) << attribute;
  }
  auto body = redeem("fapi2-client");
  auto id = verify_id_token(str(body, "id_token"), jose::Alg::PS256);
  ASSERT_FALSE(id.empty());
  for (const auto& member : id) {
    EXPECT_EQ(supported.count(std::string(member.key())), 1u) << member.key();
  }
}

TEST_F(CodeFlow, NoIdTokenWithoutOpenidAndNoRefreshTokenWithoutTheGrant) {
  auto body = redeem("fapi2-client", "accounts");
  EXPECT_EQ(body.find("id_token"), body.end());
  EXPECT_NE(body.find("refresh_token"), body.end());
  auto body2 = redeem("no-refresh");
  EXPECT_EQ(body2.find("refresh_token"), body2.end());
  EXPECT_NE(body2.find("id_token"), body2.end());
}

TEST_F(CodeFlow, CodeBoundToTheSameCertificateIsAccepted) {
  const std::string code = put_code("fapi2-client", "accounts", partner_->x5t_s256);
  auto r = token(code_request("fapi2-client", code), partner_);
  EXPECT_EQ(r.status, 200) << r.body;
}

// ---- authorization_code: refusals --------------------------------------------------------------

TEST_F(CodeFlow, SecondUseIsInvalidGrantAndRevokesWhatTheFirstIssued) {
  const std::string code = put_code("fapi2-client");
  auto first = token(code_request("fapi2-client", code), partner_);
  ASSERT_EQ(first.status, 200) << first.body;
  const auto body = json_of(first.body);
  const std::string at = str(body, "access_token");
  const std::string rt = str(body, "refresh_token");
  ASSERT_TRUE(active(at, "fapi2-client", partner_));

  clock_.advance(1);
  auto second = token(code_request("fapi2-client", code), partner_);
  expect_oauth_error(second, 400, "invalid_grant");
  // RFC 6749 §4.1.2, F1-16: the tokens of the first use are revoked.
  EXPECT_FALSE(active(at, "fapi2-client", partner_));
  EXPECT_FALSE(active(rt, "fapi2-client", partner_));
  auto refresh = token(refresh_request("fapi2-client", rt), partner_);
  expect_oauth_error(refresh, 400, "invalid_grant");
}

TEST_F(CodeFlow, WrongVerifierIsInvalidGrant) {
  const std::string code = put_code("fapi2-client");
  std::string req = code_request("fapi2-client", code);
  replace_all(req, kVerifier, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  expect_oauth_error(token(req, partner_), 400, "invalid_grant");
}

TEST_F(CodeFlow, MissingVerifierIsInvalidGrant) {
  const std::string code = put_code("fapi2-client");
  std::string req = "grant_type=authorization_code&client_id=fapi2-client&code=" + code +
                    "&redirect_uri=" + form_encode(kRedirect);
  expect_oauth_error(token(req, partner_), 400, "invalid_grant");
}

TEST_F(CodeFlow, PlainVerifierEqualToTheChallengeIsInvalidGrant) {
  // The "plain" method would compare the verifier to the challenge itself: S256 only here.
  const std::string code = put_code("fapi2-client");
  std::string req = code_request("fapi2-client", code);
  replace_all(req, kVerifier, crypto::sha256_b64url(kVerifier));
  expect_oauth_error(token(req, partner_), 400, "invalid_grant");
}

TEST_F(CodeFlow, ExpiredCodeIsInvalidGrant) {
  const std::string code = put_code("fapi2-client");
  clock_.advance(61);  // FAPI 2.0 SP §5.3.2.1-11: 60 s at most
  expect_oauth_error(token(code_request("fapi2-client", code), partner_), 400, "invalid_grant");
}

TEST_F(CodeFlow, CodeLivesAtMostSixtySecondsWhateverItsRecordSays) {
  const std::string code = crypto::random_token(32);
  store::AuthorizationCodeRecord rec;
  rec.code_hash = crypto::sha256_b64url(code);
  rec.client_id = "fapi2-client";
  rec.subject = "alice";
  rec.redirect_uri = kRedirect;
  rec.code_challenge = crypto::sha256_b64url(kVerifier);
  rec.grant_id = "g-long";
  rec.issued_at = kNow;
  rec.expires_at = kNow + 600;
  ASSERT_TRUE(store_->put_code(rec));
  clock_.advance(61);
  expect_oauth_error(token(code_request("fapi2-client", code), partner_), 400, "invalid_grant");
}

TEST_F(CodeFlow, CodeAtSixtySecondsStillWorks) {
  const std::string code = put_code("fapi2-client");
  clock_.advance(60);
  EXPECT_EQ(token(code_request("fapi2-client", code), partner_).status, 200);
}

TEST_F(CodeFlow, CodeOfAnotherClientIsInvalidGrant) {
  const std::string code = put_code("fapi2-client");
  expect_oauth_error(token(code_request("fapi2-other", code), other_), 400, "invalid_grant");
}

TEST_F(CodeFlow, RedirectUriMismatchIsInvalidGrant) {
  const std::string code = put_code("fapi2-client");
  std::string req = "grant_type=authorization_code&client_id=fapi2-client&code=" + code +
                    "&redirect_uri=" + form_encode("https://client.example/cb/") +
                    "&code_verifier=" + kVerifier;
  expect_oauth_error(token(req, partner_), 400, "invalid_grant");
}

TEST_F(CodeFlow, MissingRedirectUriIsInvalidGrant) {
  const std::string code = put_code("fapi2-client");
  std::string req = "grant_type=authorization_code&client_id=fapi2-client&code=" + code +
                    "&code_verifier=" + kVerifier;
  expect_oauth_error(token(req, partner_), 400, "invalid_grant");
}

TEST_F(CodeFlow, UnknownCodeIsInvalidGrant) {
  expect_oauth_error(token(code_request("fapi2-client", "no-such-code"), partner_), 400,
                     "invalid_grant");
}

TEST_F(CodeFlow, MissingCodeIsInvalidRequest) {
  expect_oauth_error(token("grant_type=authorization_code&client_id=fapi2-client&redirect_uri=" +
                               form_encode(kRedirect) + "&code_verifier=" + kVerifier,
                           partner_),
                     400, "invalid_request");
}

TEST_F(CodeFlow, CertificateMismatchOnCodeIsInvalidGrant) {
  // The code was pushed with the other certificate; this client authenticates (by DN) with the
  // partner certificate, which is not the one the code is bound to.
  const std::string code = put_code("fapi2-client", "accounts", other_->x5t_s256);
  auto r = token(code_request("fapi2-client", code), partner_);
  expect_oauth_error(r, 400, "invalid_grant");
  EXPECT_EQ(str(json_of(r.body), "error_description"), "certificate mismatch on code");
}

TEST_F(CodeFlow, WithoutACertificateNoTokenIsIssued) {
  // F2-07: sender-constrained tokens only. (tls_client_auth clients already fail
  // authentication without one.)
  const std::string code = put_code("fapi2-client");
  auto r = token(code_request("fapi2-client", code), nullptr);
  expect_oauth_error(r, 401, "invalid_client");
}

TEST_F(CodeFlow, ClientWithoutTheGrantTypeIsUnauthorizedClient) {
  const std::string code = put_code("partner-client");
  expect_oauth_error(token(code_request("partner-client", code), partner_), 400,
                     "unauthorized_client");
}

// ---- refresh_token -----------------------------------------------------------------------------

TEST_F(CodeFlow, Fapi2RefreshReturnsTheSameTokenAndTheOldOneKeepsWorking) {
  auto body = redeem("fapi2-client");
  const std::string rt = str(body, "refresh_token");
  clock_.advance(10);
  auto r1 = token(refresh_request("fapi2-client", rt), partner_);
  ASSERT_EQ(r1.status, 200) << r1.body;
  EXPECT_EQ(r1.headers.get("Cache-Control").value_or(""), "no-store");
  auto b1 = json_of(r1.body);
  EXPECT_EQ(str(b1, "refresh_token"), rt) << "FAPI 2.0 SP §5.3.2.1-9: no rotation";
  EXPECT_NE(str(b1, "access_token"), str(body, "access_token"));
  auto r2 = token(refresh_request("fapi2-client", rt), partner_);
  ASSERT_EQ(r2.status, 200) << r2.body;
  EXPECT_TRUE(active(str(b1, "access_token"), "fapi2-client", partner_));
}

TEST_F(CodeFlow, RefreshIssuesAnIdTokenOfTheOriginalAuthentication) {
  auto body = redeem("fapi2-client");
  clock_.advance(100);
  auto r = token(refresh_request("fapi2-client", str(body, "refresh_token")), partner_);
  ASSERT_EQ(r.status, 200) << r.body;
  auto b = json_of(r.body);
  auto id = verify_id_token(str(b, "id_token"), jose::Alg::PS256);
  // OIDC Core §12.2: same sub and aud, auth_time of the original authentication, new iat.
  EXPECT_EQ(str(id, "sub"), "alice");
  EXPECT_EQ(str(id, "aud"), "fapi2-client");
  EXPECT_EQ(core::get_int(id, "auth_time").value_or(0), kNow - 20);
  EXPECT_EQ(str(id, "acr"), "urn:example:acr:sca");
  EXPECT_EQ(core::get_int(id, "iat").value_or(0), kNow + 100);
  EXPECT_EQ(str(id, "at_hash"), left_half_hash("PS256", str(b, "access_token")));
  EXPECT_EQ(id.find("nonce"), id.end());
}

TEST_F(CodeFlow, RefreshMayNarrowTheScopeNeverWiden) {
  auto body = redeem("fapi2-client", "openid accounts");
  const std::string rt = str(body, "refresh_token");
  auto narrow = token(refresh_request("fapi2-client", rt, "&scope=accounts"), partner_);
  ASSERT_EQ(narrow.status, 200) << narrow.body;
  auto b = json_of(narrow.body);
  EXPECT_EQ(str(b, "scope"), "accounts");
  EXPECT_EQ(b.find("id_token"), b.end());
  auto wide = token(refresh_request("fapi2-client", rt, "&scope=accounts%20payments"), partner_);
  expect_oauth_error(wide, 400, "invalid_scope");
  // The narrowing applied to that access token only: the full scope is still available.
  auto full = token(refresh_request("fapi2-client", rt), partner_);
  ASSERT_EQ(full.status, 200);
  EXPECT_EQ(str(json_of(full.body), "scope"), "openid accounts");
}

TEST_F(CodeFlow, RefreshByAnotherClientIsInvalidGrant) {
  auto body = redeem("fapi2-client");
  auto r = token(refresh_request("fapi2-other", str(body, "refresh_token")), other_);
  expect_oauth_error(r, 400, "invalid_grant");
}

TEST_F(CodeFlow, RefreshWithoutClientAuthenticationIsInvalidClient) {  // N-65
  auto body = redeem("fapi2-client");
  const std::string rt = str(body, "refresh_token");
  // No certificate: tls_client_auth cannot authenticate, and nothing could be bound.
  expect_oauth_error(token(refresh_request("fapi2-client", rt), nullptr), 401, "invalid_client");
  // A certificate but no client_id: the token alone identifies no client (RFC 6749 §6).
  expect_oauth_error(token("grant_type=refresh_token&refresh_token=" + form_encode(rt), partner_),
                     401, "invalid_client");
  // The refusals did not spend the refresh token.
  EXPECT_EQ(token(refresh_request("fapi2-client", rt), partner_).status, 200);
}

TEST_F(CodeFlow, CodeReusedAfterOneSecondWithoutTheFirstUseSucceedingIsStillSingleUse) {  // N-50
  // A first redemption refused for a wrong verifier still spends the code (RFC 6749 §4.1.2:
  // used once), so the right verifier a second later gets invalid_grant too.
  const std::string code = put_code("fapi2-client");
  std::string wrong = code_request("fapi2-client", code);
  replace_all(wrong, kVerifier, std::string(43, 'a'));
  expect_oauth_error(token(wrong, partner_), 400, "invalid_grant");
  clock_.advance(1);
  expect_oauth_error(token(code_request("fapi2-client", code), partner_), 400, "invalid_grant");
}

TEST_F(CodeFlow, RefreshWithAnotherCertificateIsInvalidGrant) {
  // Same client, authenticated (tls_client_auth matches the DN) with a new certificate for the
  // same subject: still not the certificate the refresh token is bound to.
  auto body = redeem("fapi2-client");
  crypto::LeafOptions o;
  o.common_name = "partner-client";
  auto reissued = crypto::issue_client_certificate(pki_->ca, o);
  ASSERT_TRUE(reissued);
  auto cert = peer_of(*reissued);
  ASSERT_EQ(cert->subject_dn, partner_->subject_dn);
  ASSERT_NE(cert->x5t_s256, partner_->x5t_s256);
  auto r = token(refresh_request("fapi2-client", str(body, "refresh_token")), cert);
  expect_oauth_error(r, 400, "invalid_grant");
  EXPECT_EQ(str(json_of(r.body), "error_description"), "certificate mismatch on refresh token");
}

TEST_F(CodeFlow, RevokedRefreshTokenIsInvalidGrant) {
  auto body = redeem("fapi2-client");
  const std::string rt = str(body, "refresh_token");
  auto rv = call(post("/revoke", "client_id=fapi2-client&token=" + form_encode(rt), partner_));
  ASSERT_EQ(rv.status, 200);
  expect_oauth_error(token(refresh_request("fapi2-client", rt), partner_), 400, "invalid_grant");
  // RFC 7009 §2.1: revoking the refresh token took the grant's access token with it.
  EXPECT_FALSE(active(str(body, "access_token"), "fapi2-client", partner_));
}

TEST_F(CodeFlow, ExpiredRefreshTokenIsInvalidGrant) {
  auto body = redeem("fapi2-client");
  clock_.advance(3601);
  expect_oauth_error(token(refresh_request("fapi2-client", str(body, "refresh_token")), partner_),
                     400, "invalid_grant");
}

TEST_F(CodeFlow, UnknownOrAccessTokenAsRefreshTokenIsInvalidGrant) {
  auto body = redeem("fapi2-client");
  expect_oauth_error(token(refresh_request("fapi2-client", "nope"), partner_), 400,
                     "invalid_grant");
  expect_oauth_error(
      token(refresh_request("fapi2-client", str(body, "access_token")), partner_), 400,
      "invalid_grant");
  expect_oauth_error(token("grant_type=refresh_token&client_id=fapi2-client", partner_), 400,
                     "invalid_request");
}

TEST_F(CodeFlow, RotationReplacesTheTokenAndReuseRevokesTheGrant) {
  auto body = redeem("rotating-client");
  const std::string rt0 = str(body, "refresh_token");
  auto r1 = token(refresh_request("rotating-client", rt0), partner_);
  ASSERT_EQ(r1.status, 200) << r1.body;
  auto b1 = json_of(r1.body);
  const std::string rt1 = str(b1, "refresh_token");
  EXPECT_NE(rt1, rt0);
  EXPECT_FALSE(active(rt0, "rotating-client", partner_));
  EXPECT_TRUE(active(rt1, "rotating-client", partner_));

  // The rotated-out token comes back (stolen): refused, and the whole grant is revoked.
  expect_oauth_error(token(refresh_request("rotating-client", rt0), partner_), 400,
                     "invalid_grant");
  EXPECT_FALSE(active(rt1, "rotating-client", partner_));
  EXPECT_FALSE(active(str(b1, "access_token"), "rotating-client", partner_));
  EXPECT_FALSE(active(str(body, "access_token"), "rotating-client", partner_));
  expect_oauth_error(token(refresh_request("rotating-client", rt1), partner_), 400,
                     "invalid_grant");
}

TEST_F(CodeFlow, DiscoveryListsTheGrantsAndIdTokenAlgs) {
  auto r = call(get("/.well-known/openid-configuration"));
  ASSERT_EQ(r.status, 200);
  auto doc = json_of(r.body);
  auto list = [&](const char* key) { return strings_of(doc, key); };
  auto grants = list("grant_types_supported");
  for (const char* g : {"authorization_code", "refresh_token", "client_credentials"}) {
    EXPECT_NE(std::find(grants.begin(), grants.end(), g), grants.end()) << g;
  }
  EXPECT_EQ(list("id_token_signing_alg_values_supported"),
            (std::vector<std::string>{"PS256", "ES256", "EdDSA"}));
}

// ---- races between a grant's issuance and its revocation -------------------------------------

// Tokens of the grant in the store file: {written, still active}.
std::pair<int, int> grant_tokens(const std::string& db_path, const std::string& grant_id) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db,
                               "SELECT count(*), coalesce(sum(revoked = 0), 0) FROM tokens "
                               "WHERE grant_id = ?1",
                               -1, &st, nullptr),
            SQLITE_OK);
  sqlite3_bind_text(st, 1, grant_id.c_str(), -1, SQLITE_TRANSIENT);
  std::pair<int, int> out{-1, -1};
  if (sqlite3_step(st) == SQLITE_ROW) {
    out = {sqlite3_column_int(st, 0), sqlite3_column_int(st, 1)};
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

TEST_F(CodeFlow, CodeWhoseGrantIsRevokedDuringRedemptionLeavesNoLiveToken) {
  // A second use of the code revoked the grant before this first redemption wrote its tokens
  // (RFC 6749 §4.1.2): they are written, then found revoked, and the client gets nothing.
  const std::string code = put_code("fapi2-client", "openid accounts", {}, "grant-raced");
  ASSERT_TRUE(store_->revoke_grant("grant-raced"));
  expect_oauth_error(token(code_request("fapi2-client", code), partner_), 400, "invalid_grant");
  const auto [written, live] = grant_tokens(path_, "grant-raced");
  EXPECT_GE(written, 1);  // the check ran after the writes, as in the real race
  EXPECT_EQ(live, 0);
}

TEST_F(CodeFlow, ConcurrentRefreshesWithOneRotatingTokenNeverBothSucceed) {
  // RFC 9700 §4.14.2: a rotated refresh token is single use. Two requests racing with the same
  // token: at most one gets tokens, and the reuse that the other one is leaves nothing of the
  // grant alive.
  for (int round = 0; round < 8; ++round) {
    const std::string grant = "grant-rotating-" + std::to_string(round);
    auto first = token(code_request("rotating-client", put_code("rotating-client",
                                                                "openid accounts", {}, grant)),
                       partner_);
    ASSERT_EQ(first.status, 200) << first.body;
    const std::string rt = std::string(json_of(first.body).at("refresh_token").as_string());
    std::array<http::Response, 2> answers;
    std::vector<std::thread> racers;
    for (std::size_t i = 0; i < answers.size(); ++i) {
      racers.emplace_back([&, i] { answers[i] = token(refresh_request("rotating-client", rt), partner_); });
    }
    for (auto& t : racers) {
      t.join();
    }
    const int ok = (answers[0].status == 200) + (answers[1].status == 200);
    EXPECT_LE(ok, 1) << round;
    for (const auto& a : answers) {
      if (a.status != 200) {
        expect_oauth_error(a, 400, "invalid_grant");
      }
    }
    // The other request presented a spent token: a reuse, which revokes the grant, including
    // whatever the winner was issued.
    EXPECT_EQ(grant_tokens(path_, grant).second, 0) << round;
  }
}

}  // namespace
}  // namespace fapigate::as::test
