// RFC 9701 JWT introspection answers and who may introspect what (fapi-requirements A.6 IN-05,
// B.5 N-102; docs/CONFIG.md "Who may introspect what").
#include "as/as_fixture.hpp"

#include <boost/json/serialize.hpp>

namespace fapigate::as::test {
namespace {

constexpr const char* kJwtType = "application/token-introspection+jwt";

class IntrospectionJwt : public AsTest {
protected:
  void SetUp() override {
    AsTest::SetUp();
    start();
  }

  http::Response introspect_as(const std::string& client_id, const std::string& token,
                               std::shared_ptr<const http::PeerCertificate> cert,
                               std::vector<std::string> accept = {kJwtType}) {
    auto req = post("/introspect", "client_id=" + client_id + "&token=" + token, std::move(cert));
    for (auto& a : accept) {
      req.headers.add("Accept", std::move(a));
    }
    return call(std::move(req));
  }

  // Verifies a JWT answer against the published JWKS and returns its claims; fails the test on
  // any deviation from RFC 9701 §5's shape.
  boost::json::object verified_claims(const http::Response& r) {
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.headers.get("Content-Type").value_or(""), kJwtType);
    EXPECT_EQ(r.headers.get("Cache-Control").value_or(""), "no-store");
    auto jwks = jose::parse_jwks(call(get("/jwks")).body);
    EXPECT_TRUE(jwks);
    if (!jwks) {
      return {};
    }
    jose::VerifierSet keys(*jwks);
    auto jws = jose::verify_compact(r.body, jose::kAllAlgs, keys);
    EXPECT_TRUE(jws) << (jws ? "" : jws.error().message()) << " body: " << r.body;
    if (!jws) {
      return {};
    }
    EXPECT_EQ(jws->typ, "token-introspection+jwt");
    EXPECT_EQ(jws->alg, jose::Alg::PS256);
    EXPECT_EQ(jws->kid, pki_->rsa_kid);
    return json_of(jws->payload);
  }

  static std::string inner(const boost::json::object& claims) {
    const auto* ti = core::get_object(claims, "token_introspection");
    return ti ? boost::json::serialize(*ti) : "<absent>";
  }

  void expect_inactive_jwt(const http::Response& r, const std::string& aud) {
    auto claims = verified_claims(r);
    EXPECT_EQ(inner(claims), R"({"active":false})");
    EXPECT_EQ(str(claims, "aud"), aud);
    EXPECT_EQ(str(claims, "iss"), kIssuer);
  }
};

TEST_F(IntrospectionJwt, ActiveTokenAnswerIsASignedJwtForTheCaller) {
  const std::string at = issue_partner_token("&scope=payments");
  clock_.advance(7);
  auto r = introspect_as("partner-client", at, partner_);
  auto claims = verified_claims(r);
  EXPECT_EQ(str(claims, "iss"), kIssuer);
  EXPECT_EQ(str(claims, "aud"), "partner-client");
  EXPECT_EQ(core::get_int(claims, "iat").value_or(0), kNow + 7);
  // Not usable as an access token: no top-level subject or expiry (RFC 9701 §8.1).
  EXPECT_EQ(claims.if_contains("sub"), nullptr);
  EXPECT_EQ(claims.if_contains("exp"), nullptr);
  EXPECT_EQ(claims.if_contains("scope"), nullptr);
  // The inner object is exactly the RFC 7662 JSON answer.
  auto plain = introspect(at, partner_);
  ASSERT_EQ(plain.status, 200);
  EXPECT_EQ(inner(claims), plain.body);
  const auto* ti = core::get_object(claims, "token_introspection");
  ASSERT_NE(ti, nullptr);
  EXPECT_EQ(ti->at("active"), true);
  EXPECT_EQ(str(*ti, "scope"), "payments");
  EXPECT_EQ(str(*ti, "client_id"), "partner-client");
  const auto* cnf = core::get_object(*ti, "cnf");
  ASSERT_NE(cnf, nullptr);
  EXPECT_EQ(str(*cnf, "x5t#S256"), partner_->x5t_s256);
}

TEST_F(IntrospectionJwt, GarbageTokenGivesSignedInactiveWithNothingElse) {
  expect_inactive_jwt(introspect_as("partner-client", "garbage", partner_), "partner-client");
  expect_inactive_jwt(introspect_as("partner-client", "a.b.c", partner_), "partner-client");
}

TEST_F(IntrospectionJwt, RevokedTokenGivesSignedInactive) {
  const std::string at = issue_partner_token();
  ASSERT_EQ(call(post("/revoke", "client_id=partner-client&token=" + at, partner_)).status, 200);
  expect_inactive_jwt(introspect_as("partner-client", at, partner_), "partner-client");
}

TEST_F(IntrospectionJwt, ExpiredTokenGivesSignedInactive) {
  const std::string at = issue_partner_token();
  clock_.advance(300);
  expect_inactive_jwt(introspect_as("partner-client", at, partner_), "partner-client");
}

TEST_F(IntrospectionJwt, AnotherPartnersTokenGivesSignedInactive) {
  const std::string at = issue_partner_token();
  expect_inactive_jwt(introspect_as("other-partner", at, other_), "other-partner");
}

TEST_F(IntrospectionJwt, AcceptVariantsThatAskForTheJwt) {
  const std::string at = issue_partner_token();
  for (std::vector<std::string> accept :
       {std::vector<std::string>{"application/json, application/token-introspection+jwt"},
        std::vector<std::string>{"Application/Token-Introspection+JWT"},
        std::vector<std::string>{"application/token-introspection+jwt;q=0.5"},
        std::vector<std::string>{" application/token-introspection+jwt ; q=1 "},
        std::vector<std::string>{"application/json", kJwtType}}) {
    auto r = introspect_as("partner-client", at, partner_, accept);
    EXPECT_EQ(r.headers.get("Content-Type").value_or(""), kJwtType) << accept.front();
    EXPECT_EQ(std::count(r.body.begin(), r.body.end(), '.'), 2) << accept.front();
  }
}

TEST_F(IntrospectionJwt, AcceptVariantsThatKeepTheJsonAnswer) {
  const std::string at = issue_partner_token();
  for (std::vector<std::string> accept :
       {std::vector<std::string>{},
        std::vector<std::string>{"application/json"},
        std::vector<std::string>{"application/jwt"},
        std::vector<std::string>{"application/token-introspection+jwtx"},
        std::vector<std::string>{"token-introspection+jwt"},
        std::vector<std::string>{"application/token-introspection+jwt;q=0"},
        std::vector<std::string>{"application/token-introspection+jwt; Q=0.000"},
        std::vector<std::string>{"*/*"},
        std::vector<std::string>{""}}) {
    auto r = introspect_as("partner-client", at, partner_, accept);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.headers.get("Content-Type").value_or(""), "application/json")
        << (accept.empty() ? "(none)" : accept.front());
    EXPECT_NE(r.body.find(R"("active":true)"), std::string::npos) << r.body;
  }
}

TEST_F(IntrospectionJwt, RefusalsStayJsonOAuthErrorsAndRevealNothing) {
  const std::string at = issue_partner_token();
  auto no_cert = introspect_as("partner-client", at, nullptr);
  expect_oauth_error(no_cert, 401, "invalid_client");
  EXPECT_EQ(no_cert.body.find("active"), std::string::npos);
  expect_oauth_error(introspect_as("partner-client", at, other_), 401, "invalid_client");
  expect_oauth_error(introspect_as("unknown-client", at, partner_), 401, "invalid_client");
  expect_oauth_error(introspect_as("partner-client", "", partner_), 400, "invalid_request");
}

// ---- resource servers: configured introspection_clients ----------------------------------------

class ResourceServerIntrospection : public AsTest {
protected:
  void start_with(std::vector<config::ResourceServer> resources) {
    auto s = default_settings();
    s.resources = std::move(resources);
    start(s);
  }
};

TEST_F(ResourceServerIntrospection, ListedClientOfTheTokensAudienceSeesIt) {
  start_with({{kApiAudience, std::nullopt, {"other-partner"}}});
  const std::string at = issue_partner_token();
  auto r = call(post("/introspect", "client_id=other-partner&token=" + at, other_));
  ASSERT_EQ(r.status, 200);
  auto o = json_of(r.body);
  EXPECT_EQ(o["active"], true) << r.body;
  EXPECT_EQ(str(o, "client_id"), "partner-client");

  auto req = post("/introspect", "client_id=other-partner&token=" + at, other_);
  req.headers.add("Accept", kJwtType);
  auto jwt = call(std::move(req));
  auto parsed = jose::parse_compact(jwt.body, jose::kAllAlgs);
  ASSERT_TRUE(parsed) << jwt.body;
  auto claims = json_of(parsed->payload);
  EXPECT_EQ(str(claims, "aud"), "other-partner");
}

TEST_F(ResourceServerIntrospection, ListedForAnotherAudienceSeesNothing) {
  start_with({{"https://ledger.example", std::nullopt, {"other-partner"}},
              {kApiAudience, std::nullopt, {"san-client"}}});
  const std::string at = issue_partner_token();
  auto r = call(post("/introspect", "client_id=other-partner&token=" + at, other_));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"active":false})");
}

TEST_F(ResourceServerIntrospection, ResourceServerStillGetsInactiveForRevokedTokens) {
  start_with({{kApiAudience, std::nullopt, {"other-partner"}}});
  const std::string at = issue_partner_token();
  ASSERT_EQ(call(post("/revoke", "client_id=partner-client&token=" + at, partner_)).status, 200);
  auto r = call(post("/introspect", "client_id=other-partner&token=" + at, other_));
  EXPECT_EQ(r.body, R"({"active":false})");
}

TEST_F(ResourceServerIntrospection, OwnerKeepsAccessWhenOwnersMayIntrospect) {
  start_with({{kApiAudience, std::nullopt, {"other-partner"}}});
  const std::string at = issue_partner_token();
  EXPECT_NE(introspect(at, partner_).body.find(R"("active":true)"), std::string::npos);
}

// FAPI 2.0 Attacker Model (F2MS §6; fapi-requirements MS-07): by default only resource servers
// may introspect. An ordinary client, even asking about its own token, is refused with 403
// before any token is looked at; a listed resource server still sees its audience's tokens.
class IntrospectionPolicy : public ResourceServerIntrospection {
protected:
  void start_strict(std::vector<config::ResourceServer> resources) {
    auto s = default_settings();
    s.resources = std::move(resources);
    s.introspection_by_token_owner = false;  // the default of a configured AS
    start(s);
  }
  static void expect_refused(const http::Response& r) {
    EXPECT_EQ(r.status, 403) << r.body;
    auto o = json_of(r.body);
    EXPECT_EQ(str(o, "error"), "unauthorized_client") << r.body;
    EXPECT_EQ(str(o, "error_description"), "this client may not use the introspection endpoint");
    EXPECT_EQ(r.headers.get("Cache-Control").value_or(""), "no-store");
  }
};

TEST_F(IntrospectionPolicy, OrdinaryClientIsRefusedEvenForItsOwnToken) {
  start_strict({{kApiAudience, std::nullopt, {"other-partner"}}});
  const std::string at = issue_partner_token();
  expect_refused(introspect(at, partner_));
  auto jwt = post("/introspect", "client_id=partner-client&token=" + at, partner_);
  jwt.headers.add("Accept", kJwtType);
  expect_refused(call(std::move(jwt)));
  // Refused before the token is looked at: an unknown token gets the same answer.
  expect_refused(introspect("never-issued", partner_));
}

TEST_F(IntrospectionPolicy, ResourceServerSeesItsAudiencesTokensOnly) {
  start_strict({{kApiAudience, std::nullopt, {"other-partner"}},
                {"https://ledger.example", std::nullopt, {"san-client"}}});
  const std::string at = issue_partner_token();
  auto r = call(post("/introspect", "client_id=other-partner&token=" + at, other_));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json_of(r.body)["active"], true) << r.body;
  // A resource server of another audience is a resource server, but not this token's.
  auto other_rs = call(post("/introspect", "client_id=san-client&token=" + at, san_));
  EXPECT_EQ(other_rs.status, 200) << other_rs.body;
  EXPECT_EQ(other_rs.body, R"({"active":false})");
}

TEST_F(IntrospectionPolicy, WithoutResourcesNobodyMayIntrospect) {
  start_strict({});
  const std::string at = issue_partner_token();
  expect_refused(introspect(at, partner_));
  expect_refused(call(post("/introspect", "client_id=other-partner&token=" + at, other_)));
  // Client authentication still comes first: a bad one is 401 invalid_client.
  auto bad = call(post("/introspect", "client_id=partner-client&token=" + at, other_));
  EXPECT_EQ(bad.status, 401) << bad.body;
  EXPECT_EQ(str(json_of(bad.body), "error"), "invalid_client");
}

TEST_F(IntrospectionJwt, DiscoveryAdvertisesTheIntrospectionSigningAlg) {
  auto doc = json_of(call(get("/.well-known/openid-configuration")).body);
  const auto* algs = doc.if_contains("introspection_signing_alg_values_supported");
  ASSERT_NE(algs, nullptr);
  EXPECT_EQ(boost::json::serialize(*algs), R"(["PS256"])");
  EXPECT_EQ(doc.if_contains("introspection_encryption_alg_values_supported"), nullptr);
}

}  // namespace
}  // namespace fapigate::as::test
