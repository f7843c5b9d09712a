// client_credentials JWT access tokens are self-contained (issued_tokens.hpp): not written to
// the store at issue, described by introspection from their verified claims, and revoked by a
// revoked row under their hash. record_client_credentials_tokens brings the store row back.
#include "as/as_fixture.hpp"

#include <boost/json/serialize.hpp>

namespace fapigate::as::test {
namespace {

constexpr const char* kInactive = R"({"active":false})";

class SelfContainedTokens : public AsTest {
protected:
  std::optional<store::TokenRecord> stored(const std::string& token) {
    auto rec = store_->find_token(crypto::sha256_b64url(token));
    EXPECT_TRUE(rec);
    return rec ? *rec : std::nullopt;
  }
  http::Response revoke(const std::string& client_id, const std::string& token,
                        std::shared_ptr<const http::PeerCertificate> cert) {
    return call(post("/revoke", "client_id=" + client_id + "&token=" + token, std::move(cert)));
  }
};

TEST_F(SelfContainedTokens, ClientCredentialsJwtIsNotStoredAndIntrospectsFromItsClaims) {
  start();
  const std::string at = issue_partner_token("&scope=accounts");
  ASSERT_NE(at.find('.'), std::string::npos);
  EXPECT_FALSE(stored(at)) << "no store write on the token endpoint's hottest path";

  auto r = introspect(at, partner_);
  ASSERT_EQ(r.status, 200) << r.body;
  auto o = json_of(r.body);
  EXPECT_EQ(o["active"], true) << r.body;
  EXPECT_EQ(str(o, "iss"), kIssuer);
  EXPECT_EQ(str(o, "client_id"), "partner-client");
  EXPECT_EQ(str(o, "sub"), "partner-client");
  EXPECT_EQ(str(o, "aud"), kApiAudience);
  EXPECT_EQ(str(o, "scope"), "accounts");
  EXPECT_EQ(str(o, "token_type"), "Bearer");
  EXPECT_EQ(core::get_int(o, "iat").value_or(0), kNow);
  EXPECT_EQ(core::get_int(o, "exp").value_or(0), kNow + 300);
  EXPECT_EQ(str(o, "jti"), str(json_of(*core::base64url_decode(at.substr(
                                   at.find('.') + 1, at.rfind('.') - at.find('.') - 1))),
                               "jti"));
  const auto* cnf = core::get_object(o, "cnf");
  ASSERT_NE(cnf, nullptr) << "RFC 8705 §3.2: the binding is part of the answer";
  EXPECT_EQ(str(*cnf, "x5t#S256"), partner_->x5t_s256);
}

TEST_F(SelfContainedTokens, RecordSettingWritesEveryTokenBeforeTheClientGetsIt) {
  auto s = default_settings();
  s.record_client_credentials_tokens = true;
  start(s);
  const std::string at = issue_partner_token();
  auto rec = stored(at);
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->client_id, "partner-client");
  EXPECT_EQ(rec->kind, "access_token");
  EXPECT_FALSE(rec->revoked);
  EXPECT_EQ(rec->cnf_x5t_s256, partner_->x5t_s256);
}

TEST_F(SelfContainedTokens, OpaqueTokensAreAlwaysStored) {
  auto s = default_settings();
  s.access_token_format = config::AccessTokenFormat::Opaque;
  start(s);
  const std::string at = issue_partner_token();
  ASSERT_EQ(at.find('.'), std::string::npos);
  EXPECT_TRUE(stored(at)) << "a reference token is nothing without its row";
}

TEST_F(SelfContainedTokens, RevocationWritesARevokedRowThatIntrospectionHonours) {
  start();
  const std::string at = issue_partner_token();
  ASSERT_EQ(introspect(at, partner_).body.find(R"("active":true)") != std::string::npos, true);
  auto r = revoke("partner-client", at, partner_);
  EXPECT_EQ(r.status, 200) << r.body;
  auto rec = stored(at);
  ASSERT_TRUE(rec);
  EXPECT_TRUE(rec->revoked);
  EXPECT_EQ(rec->client_id, "partner-client");
  EXPECT_EQ(rec->expires_at, kNow + 300) << "purged with the token's own expiry";
  EXPECT_EQ(introspect(at, partner_).body, kInactive);
  // A second revocation finds the row and changes nothing.
  EXPECT_EQ(revoke("partner-client", at, partner_).status, 200);
  EXPECT_EQ(introspect(at, partner_).body, kInactive);
}

TEST_F(SelfContainedTokens, AnotherClientsRevocationLeavesItAloneAndWritesNothing) {
  start();
  const std::string at = issue_partner_token();
  // RFC 7009 §2.1: only the owner may revoke; the answer is the same 200 either way.
  EXPECT_EQ(revoke("other-partner", at, other_).status, 200);
  EXPECT_FALSE(stored(at));
  EXPECT_NE(introspect(at, partner_).body.find(R"("active":true)"), std::string::npos);
}

TEST_F(SelfContainedTokens, ExpiredTokenIsInactive) {
  start();
  const std::string at = issue_partner_token();
  clock_.set(kNow + 300);
  EXPECT_EQ(introspect(at, partner_).body, kInactive);
}

TEST_F(SelfContainedTokens, TamperedClaimsAreNotOurToken) {
  start();
  const std::string at = issue_partner_token("&scope=accounts");
  const auto dot1 = at.find('.');
  const auto dot2 = at.rfind('.');
  auto claims = json_of(*core::base64url_decode(at.substr(dot1 + 1, dot2 - dot1 - 1)));
  claims["scope"] = "accounts payments";
  const std::string forged = at.substr(0, dot1 + 1) +
                             core::base64url_encode(boost::json::serialize(claims)) +
                             at.substr(dot2);
  EXPECT_EQ(introspect(forged, partner_).body, kInactive);
  EXPECT_EQ(revoke("partner-client", forged, partner_).status, 200);
  EXPECT_FALSE(stored(forged)) << "a forged token never gets a row";
  EXPECT_NE(introspect(at, partner_).body.find(R"("active":true)"), std::string::npos);
}

// A JWT signed with the AS's own key and kid (the signature verifies), claims as given.
std::string signed_with_as_key(const SuitePki& pki, const boost::json::object& claims,
                               std::string_view typ = "at+jwt") {
  auto t = jose::sign_compact(boost::json::serialize(claims), jose::Alg::PS256,
                              pki.rsa_signing_key, pki.rsa_kid, typ);
  EXPECT_TRUE(t);
  return t ? *t : std::string();
}

boost::json::object claims_of(std::string client_id) {
  return {{"iss", kIssuer},     {"sub", client_id},   {"aud", kApiAudience},
          {"client_id", client_id}, {"iat", kNow},    {"exp", kNow + 300},
          {"jti", "j1"},        {"scope", "accounts"}};
}

TEST_F(SelfContainedTokens, ClaimsOfAnAccessTokenFromThisIssuerAreRequired) {
  // partner-client introspects every token for the API (RFC 7662 §4), so the answers below
  // turn on the token alone, not on who owns it.
  auto s = default_settings();
  s.resources.push_back({kApiAudience, std::nullopt, {"partner-client"}});
  start(s);
  ASSERT_NE(introspect(signed_with_as_key(*pki_, claims_of("partner-client")), partner_)
                .body.find(R"("active":true)"),
            std::string::npos)
      << "the reference: well-formed claims are described";
  // Not an access token's typ (RFC 9068 §2.1).
  EXPECT_EQ(introspect(signed_with_as_key(*pki_, claims_of("partner-client"), "JWT"), partner_)
                .body,
            kInactive);
  // Another issuer's claims under our signature.
  auto other_iss = claims_of("partner-client");
  other_iss["iss"] = "https://elsewhere.example";
  EXPECT_EQ(introspect(signed_with_as_key(*pki_, other_iss), partner_).body, kInactive);
  // Each claim the issuer always writes is required.
  for (const char* missing : {"client_id", "sub", "jti", "iat", "exp"}) {
    auto c = claims_of("partner-client");
    c.erase(missing);
    EXPECT_EQ(introspect(signed_with_as_key(*pki_, c), partner_).body, kInactive) << missing;
  }
  // A client that is not registered has no live tokens.
  EXPECT_EQ(introspect(signed_with_as_key(*pki_, claims_of("ghost-client")), partner_).body,
            kInactive);
}

TEST_F(SelfContainedTokens, OurOtherSignedJwtsAreNotAccessTokens) {
  start();
  const std::string at = issue_partner_token();
  // The signed introspection answer (RFC 9701) carries the AS's signature too, but its typ is
  // token-introspection+jwt: presented as a token, it is inactive (RFC 9068 §4, RFC 8725 §3.11).
  auto req = post("/introspect", "client_id=partner-client&token=" + at, partner_);
  req.headers.add("Accept", "application/token-introspection+jwt");
  const std::string signed_answer = call(std::move(req)).body;
  ASSERT_TRUE(jose::parse_compact(signed_answer, jose::kAllAlgs)) << signed_answer;
  EXPECT_EQ(introspect(signed_answer, partner_).body, kInactive);
  EXPECT_EQ(revoke("partner-client", signed_answer, partner_).status, 200);
  EXPECT_FALSE(stored(signed_answer));
}

}  // namespace
}  // namespace fapigate::as::test
