// RFC 7009 token revocation (fapi-requirements A.6 RV-01, RV-02; B.5 N-103, N-104).
#include "as/as_fixture.hpp"

#include <boost/json/serialize.hpp>

namespace fapigate::as::test {
namespace {

constexpr const char* kInactive = R"({"active":false})";

class Revocation : public AsTest {
protected:
  // Every token recorded: these tests seed sibling rows (refresh tokens, codes) from an access
  // token's row. Self-contained tokens: self_contained_token_test.cpp.
  static config::AuthorizationServer recording_settings() {
    auto s = default_settings();
    s.record_client_credentials_tokens = true;
    return s;
  }
  void SetUp() override {
    AsTest::SetUp();
    start(recording_settings());
  }

  http::Response revoke(const std::string& params,
                        std::shared_ptr<const http::PeerCertificate> cert) {
    return call(post("/revoke", params, std::move(cert)));
  }
  http::Response revoke_as_partner(const std::string& token, const std::string& extra = {}) {
    return revoke("client_id=partner-client&token=" + token + extra, partner_);
  }

  // RFC 7009 §2.2: 200, nothing in the body that says what happened, not cacheable.
  static void expect_revocation_ok(const http::Response& r) {
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(r.body.empty()) << r.body;
    EXPECT_EQ(r.headers.get("Cache-Control").value_or(""), "no-store");
  }

  bool active(const std::string& token) {
    return introspect(token, partner_).body.find(R"("active":true)") != std::string::npos;
  }

  std::optional<store::TokenRecord> record_of(const std::string& token) {
    auto rec = store_->find_token(crypto::sha256_b64url(token));
    EXPECT_TRUE(rec);
    return rec ? *rec : std::nullopt;
  }

  // A refresh token (or code) of the same grant as `access_token`, written straight into the
  // store: this slice issues none itself yet.
  // A token row like access_token's; grant_id given: both rows of that grant from now on
  // (client_credentials tokens belong to no grant of their own).
  std::string seed_sibling(const std::string& access_token, std::string kind,
                           std::string client_id = "partner-client", std::string grant_id = "") {
    auto at = record_of(access_token);
    EXPECT_TRUE(at);
    store::TokenRecord rec = at ? *at : store::TokenRecord{};
    const std::string clear = crypto::random_token(32);
    rec.token_hash = crypto::sha256_b64url(clear);
    rec.kind = std::move(kind);
    rec.jti = crypto::random_token(16);
    rec.client_id = std::move(client_id);
    rec.expires_at = kNow + 86400;
    rec.revoked = false;
    if (!grant_id.empty()) {
      rec.grant_id = std::move(grant_id);
    }
    EXPECT_TRUE(store_->put_token(rec));
    return clear;
  }
};

// ---- success -------------------------------------------------------------------------------------

TEST_F(Revocation, OwnAccessTokenIsRevokedAndIntrospectsInactive) {
  const std::string at = issue_partner_token();
  ASSERT_TRUE(active(at));
  expect_revocation_ok(revoke_as_partner(at));
  EXPECT_EQ(introspect(at, partner_).body, kInactive);
  EXPECT_TRUE(record_of(at)->revoked);
}

TEST_F(Revocation, RevokingTwiceIsStill200) {
  const std::string at = issue_partner_token();
  expect_revocation_ok(revoke_as_partner(at));
  expect_revocation_ok(revoke_as_partner(at));
  EXPECT_EQ(introspect(at, partner_).body, kInactive);
}

TEST_F(Revocation, OnlyThePresentedTokenIsRevoked) {
  const std::string first = issue_partner_token();
  const std::string second = issue_partner_token();
  expect_revocation_ok(revoke_as_partner(first));
  EXPECT_FALSE(active(first));
  EXPECT_TRUE(active(second));
}

TEST_F(Revocation, JwtIntrospectionAnswerIsInactiveAfterwards) {
  const std::string at = issue_partner_token();
  expect_revocation_ok(revoke_as_partner(at));
  auto req = post("/introspect", "client_id=partner-client&token=" + at, partner_);
  req.headers.add("Accept", "application/token-introspection+jwt");
  auto r = call(std::move(req));
  auto jws = jose::parse_compact(r.body, jose::kAllAlgs);
  ASSERT_TRUE(jws) << r.body;
  const auto claims = json_of(jws->payload);
  const auto* ti = core::get_object(claims, "token_introspection");
  ASSERT_NE(ti, nullptr);
  EXPECT_EQ(boost::json::serialize(*ti), kInactive);
}

TEST_F(Revocation, OpaqueAccessTokenIsRevoked) {
  service_.reset();
  auto s = recording_settings();
  s.access_token_format = config::AccessTokenFormat::Opaque;
  start(s);
  const std::string at = issue_partner_token();
  ASSERT_EQ(at.find('.'), std::string::npos);
  ASSERT_TRUE(active(at));
  expect_revocation_ok(revoke_as_partner(at, "&token_type_hint=access_token"));
  EXPECT_EQ(introspect(at, partner_).body, kInactive);
}

TEST_F(Revocation, EveryHintFindsTheToken) {
  // RFC 7009 §2.1: a wrong hint extends the search; an unknown hint is ignored.
  for (const char* hint : {"access_token", "refresh_token", "id_token", "", "%00%ff"}) {
    const std::string at = issue_partner_token();
    expect_revocation_ok(revoke_as_partner(at, std::string("&token_type_hint=") + hint));
    EXPECT_FALSE(active(at)) << hint;
  }
}

TEST_F(Revocation, RefreshTokenRevokesItsWholeGrant) {
  const std::string base = issue_partner_token();
  const std::string unrelated = issue_partner_token();  // no grant at all
  const std::string at = seed_sibling(base, "access_token", "partner-client", "grant-1");
  const std::string rt = seed_sibling(base, "refresh_token", "partner-client", "grant-1");
  ASSERT_TRUE(active(at));
  expect_revocation_ok(revoke_as_partner(rt, "&token_type_hint=refresh_token"));
  EXPECT_TRUE(record_of(rt)->revoked);
  EXPECT_FALSE(active(at));
  EXPECT_TRUE(active(base));
  EXPECT_TRUE(active(unrelated));
}

TEST_F(Revocation, ClientCredentialsTokensBelongToNoGrant) {
  const std::string a = issue_partner_token();
  const std::string b = issue_partner_token();
  EXPECT_EQ(record_of(a)->grant_id, "");
  // An empty grant id matches nothing: revoking "the grant" of one never reaches the others.
  ASSERT_TRUE(store_->revoke_grant(""));
  EXPECT_TRUE(active(a));
  EXPECT_TRUE(active(b));
}

TEST_F(Revocation, AccessTokenLeavesItsRefreshTokenAlone) {
  const std::string at = issue_partner_token();
  const std::string rt = seed_sibling(at, "refresh_token");
  expect_revocation_ok(revoke_as_partner(at));
  EXPECT_FALSE(active(at));
  EXPECT_FALSE(record_of(rt)->revoked);
}

TEST_F(Revocation, ExpiredTokenIs200) {
  const std::string at = issue_partner_token();
  clock_.advance(3600);
  expect_revocation_ok(revoke_as_partner(at));
}

// ---- no effect, still 200 (RV-01, RV-02) ---------------------------------------------------------

TEST_F(Revocation, AnotherClientsTokenIsLeftAlone) {
  const std::string at = issue_partner_token();
  expect_revocation_ok(revoke("client_id=other-partner&token=" + at, other_));
  EXPECT_TRUE(active(at));
  EXPECT_FALSE(record_of(at)->revoked);
}

TEST_F(Revocation, AnotherClientsRefreshTokenDoesNotRevokeTheGrant) {
  const std::string at = issue_partner_token();
  const std::string rt = seed_sibling(at, "refresh_token");
  expect_revocation_ok(revoke("client_id=other-partner&token=" + rt, other_));
  EXPECT_FALSE(record_of(rt)->revoked);
  EXPECT_TRUE(active(at));
}

TEST_F(Revocation, UnknownAndGarbageTokensAre200) {
  issue_partner_token();
  for (const std::string& t : {std::string("garbage"), std::string("a.b.c"),
                               crypto::random_token(32), std::string(20000, 'A')}) {
    expect_revocation_ok(revoke_as_partner(t));
  }
}

TEST_F(Revocation, TamperedJwtDoesNotRevokeTheOriginal) {
  const std::string at = issue_partner_token();
  std::string flipped = at;
  flipped[flipped.size() - 5] = flipped[flipped.size() - 5] == 'A' ? 'B' : 'A';
  expect_revocation_ok(revoke_as_partner(flipped));
  EXPECT_TRUE(active(at));
}

TEST_F(Revocation, AuthorizationCodeIsNotRevocableHere) {
  const std::string at = issue_partner_token();
  const std::string code = seed_sibling(at, "authorization_code");
  expect_revocation_ok(revoke_as_partner(code));
  EXPECT_FALSE(record_of(code)->revoked);
  EXPECT_TRUE(active(at));
}

// ---- refused requests ----------------------------------------------------------------------------

TEST_F(Revocation, MissingOrEmptyTokenIsInvalidRequest) {
  expect_oauth_error(revoke("client_id=partner-client", partner_), 400, "invalid_request");
  expect_oauth_error(revoke("client_id=partner-client&token=", partner_), 400, "invalid_request");
  expect_oauth_error(revoke("client_id=partner-client&token_type_hint=access_token", partner_),
                     400, "invalid_request");
}

TEST_F(Revocation, UnauthenticatedCallerIsInvalidClientAndNothingIsRevoked) {
  const std::string at = issue_partner_token();
  // No certificate (the front-channel listener), a certificate that is not the client's, no
  // client_id, an unknown client.
  expect_oauth_error(revoke("client_id=partner-client&token=" + at, nullptr), 401,
                     "invalid_client");
  expect_oauth_error(revoke("client_id=partner-client&token=" + at, other_), 401,
                     "invalid_client");
  expect_oauth_error(revoke("token=" + at, partner_), 401, "invalid_client");
  expect_oauth_error(revoke("client_id=nobody&token=" + at, partner_), 401, "invalid_client");
  expect_oauth_error(revoke("client_id=&token=" + at, partner_), 401, "invalid_client");
  EXPECT_TRUE(active(at));
}

TEST_F(Revocation, InvalidClientCarriesNoTokenState) {
  auto r = revoke("client_id=partner-client&token=garbage", nullptr);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body.find("active"), std::string::npos);
  EXPECT_EQ(r.body.find("garbage"), std::string::npos);
}

TEST_F(Revocation, OtherMethodsAreNotAllowed) {
  for (const char* method : {"GET", "PUT", "DELETE"}) {
    auto req = get("/revoke");
    req.method = method;
    auto r = call(std::move(req));
    EXPECT_EQ(r.status, 405) << method;
    EXPECT_EQ(r.headers.get("Allow").value_or(""), "POST");
    EXPECT_EQ(str(json_of(r.body), "error"), "invalid_request");
  }
}

TEST_F(Revocation, JsonBodyIsInvalidRequest) {
  const std::string at = issue_partner_token();
  expect_oauth_error(call(post("/revoke",
                               R"({"token":")" + at + R"(","client_id":"partner-client"})",
                               partner_, "application/json")),
                     400, "invalid_request");
  EXPECT_TRUE(active(at));
}

TEST_F(Revocation, MissingContentTypeIsInvalidRequest) {
  const std::string at = issue_partner_token();
  expect_oauth_error(call(post("/revoke", "client_id=partner-client&token=" + at, partner_, "")),
                     400, "invalid_request");
  EXPECT_TRUE(active(at));
}

TEST_F(Revocation, TokenInTheQueryIsInvalidRequest) {
  const std::string at = issue_partner_token();
  auto req = post("/revoke", "client_id=partner-client", partner_);
  req.query = "token=" + at;
  req.target = "/revoke?" + req.query;
  expect_oauth_error(call(std::move(req)), 400, "invalid_request");
  EXPECT_TRUE(active(at));
}

TEST_F(Revocation, RepeatedOrMalformedParametersAreInvalidRequest) {
  const std::string at = issue_partner_token();
  const std::string other = issue_partner_token();
  // RFC 6749 §3.1: parameters must not repeat; which token would be meant?
  expect_oauth_error(revoke_as_partner(at, "&token=" + other), 400, "invalid_request");
  expect_oauth_error(revoke_as_partner(at, "&token_type_hint=a&token_type_hint=b"), 400,
                     "invalid_request");
  expect_oauth_error(revoke_as_partner(at + "%zz"), 400, "invalid_request");
  EXPECT_TRUE(active(at));
  EXPECT_TRUE(active(other));
}

TEST_F(Revocation, TooManyParametersIsInvalidRequest) {
  const std::string at = issue_partner_token();
  std::string params = "client_id=partner-client&token=" + at;
  for (int i = 0; i < 100; ++i) {
    params += "&p" + std::to_string(i) + "=x";
  }
  expect_oauth_error(revoke(params, partner_), 400, "invalid_request");
  EXPECT_TRUE(active(at));
}

// ---- discovery -----------------------------------------------------------------------------------

TEST_F(Revocation, DiscoveryAdvertisesTheEndpointAndItsAlias) {
  auto doc = json_of(call(get("/.well-known/openid-configuration")).body);
  EXPECT_EQ(str(doc, "revocation_endpoint"), std::string(kIssuer) + "/revoke");
  const auto* aliases = core::get_object(doc, "mtls_endpoint_aliases");
  ASSERT_NE(aliases, nullptr);
  EXPECT_EQ(str(*aliases, "revocation_endpoint"), std::string(kMtlsBase) + "/revoke");
  const auto* methods = doc.if_contains("revocation_endpoint_auth_methods_supported");
  ASSERT_NE(methods, nullptr);
  ASSERT_TRUE(methods->is_array());
  // Exactly the token endpoint's methods: the client authenticates the same way.
  EXPECT_EQ(*methods, doc.at("token_endpoint_auth_methods_supported"));
  EXPECT_FALSE(methods->as_array().empty());
}

}  // namespace
}  // namespace fapigate::as::test
