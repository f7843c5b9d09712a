// ID tokens (OIDC Core §2, §3.1.3.6, §3.3.2.11; FAPI 1.0 Part 2 §5.2.2.1): the left-half hashes
// against the spec's example and independently computed values, and tokens signed with the
// alg each client asked for, verified against the published JWKS.
#include "as/as_fixture.hpp"

#include "as/id_token.hpp"
#include "as/signing_keys.hpp"
#include "jose/jwe.hpp"
#include "jose/jwe_test_util.hpp"

#include <boost/json/serialize.hpp>

namespace fapigate::as::test {
namespace {

TEST(LeftHalfHash, OidcCoreExampleCHash) {
  // OIDC Core Appendix A.4: the code and its c_hash (RS256, SHA-256; PS256 and ES256 alike).
  const char* code = "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk";
  EXPECT_EQ(left_half_hash("PS256", code), "LDktKdoQak3Pk0cnXxCltA");
  EXPECT_EQ(left_half_hash("ES256", code), "LDktKdoQak3Pk0cnXxCltA");
}

TEST(LeftHalfHash, EdDsaUsesTheLeftHalfOfSha512) {
  // Computed with Python's hashlib: base64url(SHA-512("state-xyz")[:32]).
  EXPECT_EQ(left_half_hash("EdDSA", "state-xyz"), "oy4dyNJgStyGWRYg6Zc7-FeHKW6cZn3sxPOGJxHykz8");
  EXPECT_EQ(left_half_hash("PS256", "state-xyz"), "fdbdu_BKGC6D64AnaE5D9g");
}

TEST(LeftHalfHash, UnknownAlgGivesNothing) {
  EXPECT_EQ(left_half_hash("RS256", "x"), "");
  EXPECT_EQ(left_half_hash("none", "x"), "");
  EXPECT_EQ(left_half_hash("HS256", "x"), "");
}

class IdTokenTest : public AsTest {
protected:
  void SetUp() override {
    AsTest::SetUp();
    auto settings = default_settings();
    settings.id_token_lifetime = 120;
    auto keys = SigningKeys::load_or_create(*store_, options(), clock_);
    ASSERT_TRUE(keys) << keys.error().message();
    ctx_.settings = settings;
    ctx_.store = store_.get();
    ctx_.keys = *keys;
    ctx_.clock = &clock_;
  }

  static SigningKeys::Options options() {
    SigningKeys::Options o;
    o.alg = jose::Alg::PS256;
    o.extra_algs = jose::kAllAlgs;
    return o;
  }

  IdTokenParams params(std::string alg) {
    IdTokenParams p;
    p.client_id = "partner-client";
    p.subject = "alice";
    p.nonce = "n-0S6_WzA2Mj";
    p.acr = "urn:example:acr:sca";
    p.auth_time = kNow - 42;
    p.alg = std::move(alg);
    p.access_token = "jHkWEdUXMU1BwAsC4vtUsZwnNTDX8Nv1";
    return p;
  }

  // Verifies with the published JWKS and exactly the expected alg; returns the claims.
  boost::json::object verify(const std::string& token, jose::Alg alg) {
    auto jwks = jose::parse_jwks(ctx_.keys->jwks_json());
    EXPECT_TRUE(jwks);
    jose::VerifierSet set(*jwks);
    auto v = jose::verify_compact(token, jose::AlgList{alg}, set);
    EXPECT_TRUE(v) << (v ? "" : v.error().message());
    if (!v) {
      return {};
    }
    EXPECT_EQ(v->alg, alg);
    EXPECT_EQ(v->kid, ctx_.keys->view()->signer_for(alg)->kid);
    return json_of(v->payload);
  }

  AsContext ctx_;
};

TEST_F(IdTokenTest, Ps256ByDefaultWithEveryClaim) {
  auto p = params("");
  p.code = "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk";
  p.state = "af0ifjsldkj";
  auto t = issue_id_token(ctx_, p);
  ASSERT_TRUE(t) << t.error().detail;
  auto c = verify(*t, jose::Alg::PS256);
  EXPECT_EQ(str(c, "iss"), kIssuer);
  EXPECT_EQ(str(c, "sub"), "alice");
  EXPECT_EQ(str(c, "aud"), "partner-client");
  EXPECT_EQ(str(c, "azp"), "partner-client");
  EXPECT_EQ(core::get_int(c, "iat").value_or(0), kNow);
  EXPECT_EQ(core::get_int(c, "exp").value_or(0), kNow + 120);
  EXPECT_EQ(core::get_int(c, "auth_time").value_or(0), kNow - 42);
  EXPECT_EQ(str(c, "nonce"), "n-0S6_WzA2Mj");
  EXPECT_EQ(str(c, "acr"), "urn:example:acr:sca");
  EXPECT_EQ(str(c, "at_hash"), left_half_hash("PS256", p.access_token));
  EXPECT_EQ(str(c, "c_hash"), "LDktKdoQak3Pk0cnXxCltA");
  EXPECT_EQ(str(c, "s_hash"), left_half_hash("PS256", "af0ifjsldkj"));
}

TEST_F(IdTokenTest, OptionalClaimsAreOmittedWhenEmpty) {
  IdTokenParams p;
  p.client_id = "partner-client";
  p.subject = "alice";
  auto t = issue_id_token(ctx_, p);
  ASSERT_TRUE(t);
  auto c = verify(*t, jose::Alg::PS256);
  for (const char* absent : {"nonce", "acr", "auth_time", "at_hash", "c_hash", "s_hash"}) {
    EXPECT_EQ(c.find(absent), c.end()) << absent;
  }
}

TEST_F(IdTokenTest, Es256PerClient) {
  auto t = issue_id_token(ctx_, params("ES256"));
  ASSERT_TRUE(t);
  auto c = verify(*t, jose::Alg::ES256);
  EXPECT_EQ(str(c, "at_hash"), left_half_hash("ES256", "jHkWEdUXMU1BwAsC4vtUsZwnNTDX8Nv1"));
}

TEST_F(IdTokenTest, EdDsaPerClientHashesWithSha512) {
  auto p = params("EdDSA");
  p.state = "state-xyz";
  auto t = issue_id_token(ctx_, p);
  ASSERT_TRUE(t);
  auto c = verify(*t, jose::Alg::EdDSA);
  EXPECT_EQ(str(c, "s_hash"), "oy4dyNJgStyGWRYg6Zc7-FeHKW6cZn3sxPOGJxHykz8");
  EXPECT_EQ(str(c, "at_hash").size(), 43u);
}

TEST_F(IdTokenTest, NotAllowedAlgIsAServerErrorNotAWeakToken) {
  for (const char* alg : {"RS256", "HS256", "none"}) {
    auto t = issue_id_token(ctx_, params(alg));
    ASSERT_FALSE(t) << alg;
    EXPECT_EQ(t.error().code, OAuthErrc::ServerError);
  }
}

TEST_F(IdTokenTest, EveryAlgHasAPublishedKeyWithUseSig) {
  auto jwks = jose::parse_jwks(ctx_.keys->jwks_json());
  ASSERT_TRUE(jwks);
  EXPECT_EQ(jwks->keys.size(), 3u);
  for (auto alg : jose::kAllAlgs) {
    const auto* s = ctx_.keys->view()->signer_for(alg);
    ASSERT_NE(s, nullptr) << jose::alg_name(alg);
    const jose::Jwk* k = jwks->find(s->kid);
    ASSERT_NE(k, nullptr);
    EXPECT_EQ(k->use, "sig");
    ASSERT_TRUE(k->alg);
    EXPECT_EQ(*k->alg, alg);
  }
  // Access tokens keep the configured alg.
  EXPECT_EQ(ctx_.keys->current_alg(), jose::Alg::PS256);
}

TEST_F(IdTokenTest, RotationReplacesEachAlgsKeyOnItsOwn) {
  const auto before = *ctx_.keys->view();
  auto rot = rotate_signing_keys(*store_, RotateOptions{jose::Alg::ES256, std::nullopt, 10, 100},
                                 kNow);
  ASSERT_TRUE(rot);
  ASSERT_EQ(rot->retiring.size(), 1u) << "only the ES256 key retires";
  EXPECT_EQ(rot->retiring[0].first, before.signer_for(jose::Alg::ES256)->kid);
  clock_.advance(11);
  ASSERT_TRUE(ctx_.keys->refresh());
  auto after = ctx_.keys->view();
  EXPECT_EQ(after->signer_for(jose::Alg::ES256)->kid, rot->new_kid);
  EXPECT_EQ(after->signer_for(jose::Alg::PS256)->kid, before.signer_for(jose::Alg::PS256)->kid);
  EXPECT_EQ(after->signer_for(jose::Alg::EdDSA)->kid, before.signer_for(jose::Alg::EdDSA)->kid);
  EXPECT_EQ(after->kid, before.kid);
  auto t = issue_id_token(ctx_, params("ES256"));
  ASSERT_TRUE(t);
  verify(*t, jose::Alg::ES256);
}

// ---- encrypted ID tokens (OIDC Core §10.2, OIDC Registration §2, F1-13) ------------------------

const crypto::Key& client_encryption_key() {
  static const crypto::Key k = *crypto::Key::generate(crypto::KeyType::Rsa);
  return k;
}

// A client's registered JWKS: a signing key, then its encryption key.
std::string client_jwks(std::string enc_alg = "RSA-OAEP-256") {
  static const crypto::Key sig = *crypto::Key::generate(crypto::KeyType::Ec);
  auto s = jose::to_json(jose::make_jwk(sig.public_only(), "sig-1", jose::Alg::ES256));
  auto e = jose::to_json(jose::make_jwk(client_encryption_key().public_only(), "enc-1",
                                        std::nullopt));
  e["use"] = "enc";
  if (!enc_alg.empty()) {
    e["alg"] = enc_alg;
  }
  return boost::json::serialize(boost::json::object{{"keys", boost::json::array{s, e}}});
}

TEST_F(IdTokenTest, SignedThenEncryptedToTheClientsKey) {
  auto p = params("PS256");
  p.encryption_alg = "RSA-OAEP";
  p.encryption_enc = "A128GCM";
  p.client_jwks_json = client_jwks("RSA-OAEP");
  auto t = issue_id_token(ctx_, p);
  ASSERT_TRUE(t) << t.error().detail;
  auto opened = jose::test::open_jwe(*t, client_encryption_key());
  ASSERT_TRUE(opened);
  EXPECT_EQ(str(opened->header, "alg"), "RSA-OAEP");
  EXPECT_EQ(str(opened->header, "enc"), "A128GCM");
  EXPECT_EQ(str(opened->header, "kid"), "enc-1");
  EXPECT_EQ(str(opened->header, "cty"), "JWT");
  auto claims = verify(opened->plaintext, jose::Alg::PS256);
  EXPECT_EQ(str(claims, "aud"), "partner-client");
  EXPECT_EQ(str(claims, "nonce"), "n-0S6_WzA2Mj");
  EXPECT_EQ(str(claims, "at_hash"), left_half_hash("PS256", "jHkWEdUXMU1BwAsC4vtUsZwnNTDX8Nv1"));
}

TEST_F(IdTokenTest, EncWithoutARegisteredValueIsA128CbcHs256) {  // OIDC Registration §2
  auto p = params("ES256");
  p.encryption_alg = "RSA-OAEP-256";
  p.client_jwks_json = client_jwks();
  auto t = issue_id_token(ctx_, p);
  ASSERT_TRUE(t);
  auto opened = jose::test::open_jwe(*t, client_encryption_key());
  ASSERT_TRUE(opened);
  EXPECT_EQ(str(opened->header, "enc"), "A128CBC-HS256");
  verify(opened->plaintext, jose::Alg::ES256);
}

TEST_F(IdTokenTest, NoKeyToEncryptToIsAServerErrorNeverAClearToken) {
  auto p = params("PS256");
  p.encryption_alg = "RSA-OAEP-256";
  p.client_jwks_json = client_jwks("RSA-OAEP");  // its key is for the other alg
  auto t = issue_id_token(ctx_, p);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, OAuthErrc::ServerError);
  p.client_jwks_json.clear();
  EXPECT_FALSE(issue_id_token(ctx_, p));
  p.client_jwks_json = client_jwks();
  p.encryption_alg = "RSA1_5";
  t = issue_id_token(ctx_, p);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, OAuthErrc::ServerError);
}

TEST(IdTokenParamsFor, TakesTheClientsAlgsAndKeysOnlyWhenItEncrypts) {
  store::ClientRecord client;
  client.client_id = "c1";
  client.jwks_json = R"({"keys":[]})";
  ClientPolicy policy;
  policy.id_token_signed_response_alg = "ES256";
  auto plain = id_token_params_for(client, policy);
  EXPECT_EQ(plain.client_id, "c1");
  EXPECT_EQ(plain.alg, "ES256");
  EXPECT_EQ(plain.encryption_alg, "");
  EXPECT_EQ(plain.client_jwks_json, "");
  policy.id_token_encrypted_response_alg = "RSA-OAEP-256";
  policy.id_token_encrypted_response_enc = "A256GCM";
  auto enc = id_token_params_for(client, policy);
  EXPECT_EQ(enc.encryption_alg, "RSA-OAEP-256");
  EXPECT_EQ(enc.encryption_enc, "A256GCM");
  EXPECT_EQ(enc.client_jwks_json, client.jwks_json);
}

}  // namespace
}  // namespace fapigate::as::test
