// Published JWS vectors: the three allowed algorithms verify (RFC 7515 A.3 ES256, RFC 8037 A.4
// EdDSA, PS256 and ES256 tokens made by npm jose), every other published algorithm is refused
// even with the right key (RFC 7515 A.1 HS256, A.2 RS256, A.4 ES512, A.5 none; RFC 7520 §4.1
// RS256, §4.2 PS384, §4.4 HS256). Then sign/verify round trips per algorithm.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "jose/jose_errc.hpp"
#include "jose/jwk.hpp"
#include "jose/jws.hpp"
#include "jose/jwt_claims.hpp"
#include "jose_test_util.hpp"

namespace fapigate::jose {
namespace {

using test::code;
using test::read_data;

Jwk jwk_from(std::string_view file) { return parse_jwk(read_data(file)).value(); }

// ---------------------------------------------------------------- ES256 (RFC 7515 A.3)

TEST(JwsEs256, VerifiesRfc7515A3) {
  Jwk key = jwk_from("rfc7515_a3_ec_public.jwk.json");
  auto r = verify_compact(read_data("rfc7515_a3_es256.jws"), {Alg::ES256}, key);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->alg, Alg::ES256);
  EXPECT_EQ(r->payload,
            "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}");
  auto claims = parse_claims(r->payload);
  ASSERT_TRUE(claims);
  ClaimExpectations expect;
  expect.issuer = "joe";
  expect.now = 1300819380;
  EXPECT_TRUE(check_claims(*claims, expect));
}

TEST(JwsEs256, VerifiesRfc7515A3WithPrivateJwk) {
  Jwk key = jwk_from("rfc7515_a3_ec.jwk.json");
  EXPECT_TRUE(verify_compact(read_data("rfc7515_a3_es256.jws"), kAllAlgs, key));
}

TEST(JwsEs256, RejectsRfc7515A3WhenEs256NotAllowed) {
  Jwk key = jwk_from("rfc7515_a3_ec_public.jwk.json");
  auto r = verify_compact(read_data("rfc7515_a3_es256.jws"), {Alg::PS256, Alg::EdDSA}, key);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), code(JoseErrc::AlgNotAllowed));
}

TEST(JwsEs256, RejectsRfc7515A3WithOtherEcKey) {
  Jwk key = make_jwk(test::TestKeys::get().ec, "", std::nullopt);
  auto r = verify_compact(read_data("rfc7515_a3_es256.jws"), kAllAlgs, key);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), code(JoseErrc::BadSignature));
}

TEST(JwsEs256, VerifiesNpmJoseToken) {
  auto set = parse_jwks(read_data("npm_jose_es256.jwks.json"));
  ASSERT_TRUE(set);
  VerifierSet keys(*set);
  auto r = verify_compact(read_data("npm_jose_es256.jwt"), kAllAlgs, keys);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->kid, set->keys[0].kid);
  EXPECT_EQ(r->typ, "at+jwt");
  EXPECT_TRUE(check_typ(*r, "application/at+jwt"));
}

// ---------------------------------------------------------------- EdDSA (RFC 8037 A.4)

TEST(JwsEdDsa, VerifiesRfc8037A4) {
  Jwk key = jwk_from("rfc8037_a2_ed25519_public.jwk.json");
  auto r = verify_compact(read_data("rfc8037_a4_eddsa.jws"), {Alg::EdDSA}, key);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->payload, "Example of Ed25519 signing");
  EXPECT_EQ(r->signing_input, "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc");
}

TEST(JwsEdDsa, ReproducesRfc8037A4Signature) {
  // Ed25519 is deterministic: signing the same header and payload gives the RFC's token.
  Jwk key = jwk_from("rfc8037_a1_ed25519.jwk.json");
  auto token = sign_compact("Example of Ed25519 signing", Alg::EdDSA, key.key);
  ASSERT_TRUE(token) << token.error().message();
  EXPECT_EQ(*token, read_data("rfc8037_a4_eddsa.jws"));
}

TEST(JwsEdDsa, ReproducesRfc8037A4SignatureWithSigner) {
  Jwk key = jwk_from("rfc8037_a1_ed25519.jwk.json");
  auto signer = crypto::Signer::create(Alg::EdDSA, key.key);
  ASSERT_TRUE(signer);
  auto token = sign_compact("Example of Ed25519 signing", **signer);
  ASSERT_TRUE(token);
  EXPECT_EQ(*token, read_data("rfc8037_a4_eddsa.jws"));
}

TEST(JwsEdDsa, RejectsRfc8037A4WithOtherEd25519Key) {
  Jwk key = make_jwk(test::TestKeys::get().ed, "", std::nullopt);
  auto r = verify_compact(read_data("rfc8037_a4_eddsa.jws"), kAllAlgs, key);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), code(JoseErrc::BadSignature));
}

TEST(JwsEdDsa, RejectsRfc8037A4WhenOnlyPs256Allowed) {
  Jwk key = jwk_from("rfc8037_a2_ed25519_public.jwk.json");
  auto r = verify_compact(read_data("rfc8037_a4_eddsa.jws"), {Alg::PS256}, key);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), code(JoseErrc::AlgNotAllowed));
}

// ---------------------------------------------------------------- PS256 (npm jose)

TEST(JwsPs256, VerifiesNpmJoseToken) {
  auto set = parse_jwks(read_data("npm_jose_ps256.jwks.json"));
  ASSERT_TRUE(set);
  VerifierSet keys(*set);
  auto r = verify_compact(read_data("npm_jose_ps256.jwt"), {Alg::PS256}, keys);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->alg, Alg::PS256);
  auto claims = parse_claims(r->payload);
  ASSERT_TRUE(claims);
  ClaimExpectations expect;
  expect.issuer = "https://as.example";
  expect.audiences = {"https://api.example"};
  expect.now = 1700000100;
  EXPECT_TRUE(check_claims(*claims, expect));
  expect.now = 1700000300 + 11;
  EXPECT_EQ(check_claims(*claims, expect).error(), code(JoseErrc::Expired));
}

TEST(JwsPs256, VerifiesNpmJoseTokenWithPrivateJwk) {
  Jwk key = jwk_from("npm_jose_ps256_private.jwk.json");
  EXPECT_TRUE(key.key.is_private());
  EXPECT_TRUE(verify_compact(read_data("npm_jose_ps256.jwt"), kAllAlgs, key));
}

TEST(JwsPs256, RejectsNpmJoseTokenWithOtherRsaKey) {
  Jwk key = make_jwk(test::TestKeys::get().rsa, "", std::nullopt);
  auto r = verify_compact(read_data("npm_jose_ps256.jwt"), kAllAlgs, key);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), code(JoseErrc::BadSignature));
}

TEST(JwsPs256, SignsWithRfc7515A2KeyAndVerifies) {
  // The RFC 7515 A.2 key is a fine 2048-bit RSA key; only its RS256 algorithm is refused.
  Jwk key = jwk_from("rfc7515_a2_rsa.jwk.json");
  auto token = sign_compact(R"({"iss":"joe"})", Alg::PS256, key.key, "a2");
  ASSERT_TRUE(token);
  EXPECT_TRUE(verify_compact(*token, kAllAlgs, key));
}

// ---------------------------------------------------------------- refused algorithms

struct RefusedVector {
  const char* name;
  const char* token_file;
  const char* key_file;
};

void PrintTo(const RefusedVector& v, std::ostream* os) { *os << v.name; }

class JwsRefusedVector : public ::testing::TestWithParam<RefusedVector> {};

TEST_P(JwsRefusedVector, IsAlgNotAllowed) {
  const auto& v = GetParam();
  std::string token = read_data(v.token_file);
  auto parsed = parse_compact(token, kAllAlgs);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error(), code(JoseErrc::AlgNotAllowed));
  // With the published key at hand, as an attacker would hope.
  if (v.key_file[0] != '\0') {
    auto jwk = parse_jwk(read_data(v.key_file));
    if (jwk) {
      auto r = verify_compact(token, kAllAlgs, *jwk);
      ASSERT_FALSE(r);
      EXPECT_EQ(r.error(), code(JoseErrc::AlgNotAllowed));
      VerifierSet set(Jwks{{*jwk}});
      auto s = verify_compact(token, kAllAlgs, set);
      ASSERT_FALSE(s);
      EXPECT_EQ(s.error(), code(JoseErrc::AlgNotAllowed));
    }
  }
}

const RefusedVector kRefused[] = {
    {"Rfc7515A1Hs256", "rfc7515_a1_hs256.jws", ""},
    {"Rfc7515A2Rs256", "rfc7515_a2_rs256.jws", "rfc7515_a2_rsa.jwk.json"},
    {"Rfc7515A4Es512", "rfc7515_a4_es512.jws", "rfc7515_a4_ec_p521.jwk.json"},
    {"Rfc7515A5None", "rfc7515_a5_none.jws", ""},
    {"Rfc7520S41Rs256", "rfc7520_4_1_rs256.jws", "rfc7520_3_3_rsa_public.jwk.json"},
    {"Rfc7520S42Ps384", "rfc7520_4_2_ps384.jws", "rfc7520_3_3_rsa_public.jwk.json"},
    {"Rfc7520S44Hs256", "rfc7520_4_4_hs256.jws", ""},
};

INSTANTIATE_TEST_SUITE_P(Published, JwsRefusedVector, ::testing::ValuesIn(kRefused),
                         [](const auto& info) { return std::string(info.param.name); });

// ---------------------------------------------------------------- round trips

class JwsRoundTrip : public ::testing::TestWithParam<Alg> {
protected:
  const crypto::Key& key() const {
    const auto& k = test::TestKeys::get();
    switch (GetParam()) {
      case Alg::PS256: return k.rsa;
      case Alg::ES256: return k.ec;
      case Alg::EdDSA: return k.ed;
    }
    return k.rsa;
  }
};

TEST_P(JwsRoundTrip, SignsAndVerifiesWithHeaderMembers) {
  boost::json::object extra;
  extra["x5t#S256"] = "abc";
  auto token = sign_compact(R"({"sub":"alice"})", GetParam(), key(), "kid-7", "at+jwt", &extra);
  ASSERT_TRUE(token) << token.error().message();
  VerifierSet keys(Jwks{{make_jwk(key(), "kid-7", GetParam())}});
  auto r = verify_compact(*token, kAllAlgs, keys);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->alg, GetParam());
  EXPECT_EQ(r->kid, "kid-7");
  EXPECT_EQ(r->typ, "at+jwt");
  EXPECT_EQ(r->payload, R"({"sub":"alice"})");
  EXPECT_EQ(r->header.at("x5t#S256").as_string(), "abc");
  // Header member order is fixed: alg, kid, typ, then extras.
  auto header = core::base64url_decode(std::string_view(*token).substr(0, token->find('.')));
  EXPECT_EQ(*header, std::string(R"({"alg":")") + std::string(alg_name(GetParam())) +
                         R"(","kid":"kid-7","typ":"at+jwt","x5t#S256":"abc"})");
}

TEST_P(JwsRoundTrip, SignsWithPreparedSigner) {
  auto signer = crypto::Signer::create(GetParam(), key());
  ASSERT_TRUE(signer);
  auto token = sign_compact("{}", **signer, "s1");
  ASSERT_TRUE(token);
  auto r = verify_compact(*token, {GetParam()}, make_jwk(key(), "s1", std::nullopt));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->typ, "");
}

TEST_P(JwsRoundTrip, VerifiesThroughKeyLookup) {
  auto token = sign_compact("{}", GetParam(), key(), "k");
  ASSERT_TRUE(token);
  auto verifier = crypto::Verifier::create(GetParam(), key()).value();
  KeyLookup lookup = [&](std::string_view kid, Alg alg) -> std::shared_ptr<const crypto::Verifier> {
    return kid == "k" && alg == GetParam() ? verifier : nullptr;
  };
  EXPECT_TRUE(verify_compact(*token, kAllAlgs, lookup));
}

TEST_P(JwsRoundTrip, RejectsTokenFromAnotherKeyOfTheSameType) {
  const auto& k = test::TestKeys::get();
  const crypto::Key& other = GetParam() == Alg::PS256   ? k.rsa2
                             : GetParam() == Alg::ES256 ? k.ec2
                                                        : k.ed2;
  auto token = sign_compact("{}", GetParam(), other, "k");
  ASSERT_TRUE(token);
  VerifierSet keys(Jwks{{make_jwk(key(), "k", std::nullopt)}});
  auto r = verify_compact(*token, kAllAlgs, keys);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), code(JoseErrc::BadSignature));
}

INSTANTIATE_TEST_SUITE_P(AllAlgs, JwsRoundTrip,
                         ::testing::Values(Alg::PS256, Alg::ES256, Alg::EdDSA),
                         [](const auto& info) { return std::string(alg_name(info.param)); });

// ---------------------------------------------------------------- alg names

TEST(JwsAlg, ParsesOnlyTheThreeNames) {
  EXPECT_EQ(parse_alg("PS256"), Alg::PS256);
  EXPECT_EQ(parse_alg("ES256"), Alg::ES256);
  EXPECT_EQ(parse_alg("EdDSA"), Alg::EdDSA);
  for (const char* bad : {"none", "None", "NONE", "HS256", "HS512", "RS256", "RS512", "PS384",
                          "PS512", "ES384", "ES512", "ES256K", "Ed25519", "Ed448", "eddsa",
                          "ps256", "PS256 ", " PS256", "", "RSA-OAEP", "dir"}) {
    EXPECT_FALSE(parse_alg(bad)) << bad;
  }
  for (Alg a : kAllAlgs) {
    EXPECT_EQ(parse_alg(alg_name(a)), a);
  }
}

}  // namespace
}  // namespace fapigate::jose
