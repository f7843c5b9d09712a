// Opaque reference access tokens (the phantom-token pattern): chosen per resource server by
// config, 32 CSPRNG bytes in base64url, stored only as their SHA-256, resolved by introspection.
#include "as/as_fixture.hpp"

#include <fstream>
#include <iterator>
#include <set>

#include "as/token_issuer.hpp"

namespace fapigate::as::test {
namespace {

using config::AccessTokenFormat;

class OpaqueTokens : public AsTest {
protected:
  void start_opaque() {
    auto s = default_settings();
    s.resources.push_back({kApiAudience, AccessTokenFormat::Opaque, {}});
    start(s);
  }

  static std::string file_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
};

TEST_F(OpaqueTokens, ResourceSettingMakesTheTokenOpaque) {
  start_opaque();
  auto r = token("grant_type=client_credentials&client_id=partner-client&scope=payments",
                 partner_);
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = json_of(r.body);
  const std::string at = str(body, "access_token");
  EXPECT_EQ(at.size(), 43u) << "32 bytes in base64url without padding";
  EXPECT_EQ(at.find('.'), std::string::npos);
  EXPECT_FALSE(jose::parse_compact(at, jose::kAllAlgs));
  auto raw = core::base64url_decode(at);
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->size(), 32u);
  EXPECT_EQ(str(body, "token_type"), "Bearer");
  EXPECT_EQ(str(body, "scope"), "payments");
  EXPECT_EQ(core::get_int(body, "expires_in").value_or(0), 300);
}

TEST_F(OpaqueTokens, IntrospectionResolvesTheOpaqueToken) {
  start_opaque();
  const std::string at = issue_partner_token("&scope=accounts");
  auto r = introspect(at, partner_);
  ASSERT_EQ(r.status, 200) << r.body;
  auto o = json_of(r.body);
  EXPECT_EQ(o["active"], true) << r.body;
  EXPECT_EQ(str(o, "client_id"), "partner-client");
  EXPECT_EQ(str(o, "aud"), kApiAudience);
  EXPECT_EQ(str(o, "scope"), "accounts");
  EXPECT_EQ(core::get_int(o, "exp").value_or(0), kNow + 300);
  EXPECT_FALSE(str(o, "jti").empty());
  const auto* cnf = core::get_object(o, "cnf");
  ASSERT_NE(cnf, nullptr) << "an opaque token is sender-constrained too";
  EXPECT_EQ(str(*cnf, "x5t#S256"), partner_->x5t_s256);
}

TEST_F(OpaqueTokens, JwtIntrospectionAnswerWorksForOpaqueTokens) {
  start_opaque();
  const std::string at = issue_partner_token();
  auto req = post("/introspect", "client_id=partner-client&token=" + at, partner_);
  req.headers.add("Accept", "application/token-introspection+jwt");
  auto r = call(std::move(req));
  ASSERT_EQ(r.status, 200);
  auto jwks = jose::parse_jwks(call(get("/jwks")).body);
  ASSERT_TRUE(jwks);
  auto jws = jose::verify_compact(r.body, jose::kAllAlgs, jose::VerifierSet(*jwks));
  ASSERT_TRUE(jws) << r.body;
  auto claims = json_of(jws->payload);
  const auto* ti = core::get_object(claims, "token_introspection");
  ASSERT_NE(ti, nullptr);
  EXPECT_EQ(ti->at("active"), true);
}

TEST_F(OpaqueTokens, StoredOnlyAsItsHash) {
  start_opaque();
  const std::string at = issue_partner_token();
  auto rec = store_->find_token(crypto::sha256_b64url(at));
  ASSERT_TRUE(rec);
  ASSERT_TRUE(rec->has_value());
  EXPECT_EQ((*rec)->kind, "access_token");
  EXPECT_EQ((*rec)->client_id, "partner-client");
  auto by_clear = store_->find_token(at);
  ASSERT_TRUE(by_clear);
  EXPECT_FALSE(by_clear->has_value());
  // Nowhere in the database files, in clear.
  const std::string files = file_text(path_) + file_text(path_ + "-wal");
  ASSERT_FALSE(files.empty());
  EXPECT_EQ(files.find(at), std::string::npos);
  EXPECT_NE(files.find(crypto::sha256_b64url(at)), std::string::npos);
}

TEST_F(OpaqueTokens, EveryTokenIsFresh) {
  start_opaque();
  std::set<std::string> seen;
  for (int i = 0; i < 20; ++i) {
    EXPECT_TRUE(seen.insert(issue_partner_token()).second);
  }
}

TEST_F(OpaqueTokens, AlteredOpaqueTokenIsInactive) {
  start_opaque();
  const std::string at = issue_partner_token();
  std::string altered = at;
  altered[10] = altered[10] == 'A' ? 'B' : 'A';
  EXPECT_EQ(introspect(altered, partner_).body, R"({"active":false})");
  EXPECT_EQ(introspect(at.substr(0, 42), partner_).body, R"({"active":false})");
  EXPECT_EQ(introspect(at + "A", partner_).body, R"({"active":false})");
  // Characters outside base64url, percent-encoded so the form carries them.
  EXPECT_EQ(introspect(at.substr(0, 42) + "%2B", partner_).body, R"({"active":false})");
  EXPECT_EQ(introspect(std::string(300, 'A'), partner_).body, R"({"active":false})");
}

TEST_F(OpaqueTokens, ExpiredAndRevokedOpaqueTokensAreInactive) {
  start_opaque();
  const std::string at = issue_partner_token();
  const std::string other = issue_partner_token();
  ASSERT_TRUE(store_->revoke_token(crypto::sha256_b64url(at)));
  EXPECT_EQ(introspect(at, partner_).body, R"({"active":false})");
  EXPECT_NE(introspect(other, partner_).body.find(R"("active":true)"), std::string::npos);
  clock_.advance(300);
  EXPECT_EQ(introspect(other, partner_).body, R"({"active":false})");
}

TEST_F(OpaqueTokens, AnotherPartnerCannotIntrospectAnOpaqueToken) {
  start_opaque();
  const std::string at = issue_partner_token();
  auto r = call(post("/introspect", "client_id=other-partner&token=" + at, other_));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"active":false})");
}

TEST_F(OpaqueTokens, AsWideDefaultMakesEveryTokenOpaque) {
  auto s = default_settings();
  s.access_token_format = AccessTokenFormat::Opaque;
  start(s);
  const std::string at = issue_partner_token();
  EXPECT_EQ(at.size(), 43u);
  EXPECT_EQ(at.find('.'), std::string::npos);
}

TEST_F(OpaqueTokens, ResourceOfAnotherAudienceLeavesTheJwt) {
  auto s = default_settings();
  s.resources.push_back({"https://ledger.example", AccessTokenFormat::Opaque, {}});
  start(s);
  const std::string at = issue_partner_token();
  auto parsed = jose::parse_compact(at, jose::kAllAlgs);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->typ, "at+jwt");
}

TEST_F(OpaqueTokens, ResourceJwtOverridesAnOpaqueDefault) {
  auto s = default_settings();
  s.access_token_format = AccessTokenFormat::Opaque;
  s.resources.push_back({kApiAudience, AccessTokenFormat::Jwt, {}});
  start(s);
  EXPECT_TRUE(jose::parse_compact(issue_partner_token(), jose::kAllAlgs));
}

// ---- the format rule on its own ------------------------------------------------------------------

TEST(AccessTokenFormatFor, DefaultAppliesToUnlistedAudiences) {
  config::AuthorizationServer as;
  EXPECT_EQ(config::access_token_format_for(as, {"a"}), AccessTokenFormat::Jwt);
  EXPECT_EQ(config::access_token_format_for(as, {}), AccessTokenFormat::Jwt);
  as.access_token_format = AccessTokenFormat::Opaque;
  EXPECT_EQ(config::access_token_format_for(as, {"a"}), AccessTokenFormat::Opaque);
  EXPECT_EQ(config::access_token_format_for(as, {}), AccessTokenFormat::Opaque);
}

TEST(AccessTokenFormatFor, ResourceWithoutItsOwnFormatFollowsTheDefault) {
  config::AuthorizationServer as;
  as.access_token_format = AccessTokenFormat::Opaque;
  as.resources.push_back({"a", std::nullopt, {"rs"}});
  EXPECT_EQ(config::access_token_format_for(as, {"a"}), AccessTokenFormat::Opaque);
}

TEST(AccessTokenFormatFor, MixedAudiencesGiveOpaque) {
  config::AuthorizationServer as;
  as.resources.push_back({"jwt-rs", AccessTokenFormat::Jwt, {}});
  as.resources.push_back({"opaque-rs", AccessTokenFormat::Opaque, {}});
  EXPECT_EQ(config::access_token_format_for(as, {"jwt-rs"}), AccessTokenFormat::Jwt);
  EXPECT_EQ(config::access_token_format_for(as, {"jwt-rs", "opaque-rs"}),
            AccessTokenFormat::Opaque);
  EXPECT_EQ(config::access_token_format_for(as, {"opaque-rs", "jwt-rs"}),
            AccessTokenFormat::Opaque);
}

TEST(AccessTokenFormatFor, AudienceMatchIsExact) {
  config::AuthorizationServer as;
  as.resources.push_back({"https://api.example", AccessTokenFormat::Opaque, {}});
  EXPECT_EQ(config::access_token_format_for(as, {"https://api.example/"}),
            AccessTokenFormat::Jwt);
  EXPECT_EQ(config::access_token_format_for(as, {"HTTPS://API.EXAMPLE"}), AccessTokenFormat::Jwt);
}

}  // namespace
}  // namespace fapigate::as::test
