// JWK Sets and the VerifierSet built from them: what is skipped, what is refused, and how a
// kid (or its absence) selects a key.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "jose/jose_errc.hpp"
#include "jose/jwk.hpp"
#include "jose/jws.hpp"
#include "jose_test_util.hpp"

namespace fapigate::jose {
namespace {

namespace json = boost::json;
using test::code;
using test::read_data;

std::string ed_public() { return read_data("rfc8037_a2_ed25519_public.jwk.json"); }
std::string ec_public() { return read_data("rfc7515_a3_ec_public.jwk.json"); }
std::string rsa_public() { return read_data("rfc7520_3_3_rsa_public.jwk.json"); }

std::string with_kid(std::string jwk_text, std::string_view kid) {
  auto o = json::parse(jwk_text).as_object();
  o["kid"] = kid;
  return json::serialize(o);
}

// ---------------------------------------------------------------- accepted

TEST(JwksParse, AcceptsNpmJoseSets) {
  for (const char* f : {"npm_jose_ps256.jwks.json", "npm_jose_es256.jwks.json"}) {
    auto set = parse_jwks(read_data(f));
    ASSERT_TRUE(set) << f;
    ASSERT_EQ(set->keys.size(), 1U);
    EXPECT_EQ(set->keys[0].use, "sig");
    EXPECT_TRUE(set->keys[0].alg.has_value());
  }
}

TEST(JwksParse, AcceptsEmptySet) {
  auto set = parse_jwks(R"({"keys":[]})");
  ASSERT_TRUE(set);
  EXPECT_TRUE(set->keys.empty());
}

TEST(JwksParse, FindByKid) {
  auto set = parse_jwks("{\"keys\":[" + with_kid(ed_public(), "a") + "," +
                        with_kid(ec_public(), "b") + "]}");
  ASSERT_TRUE(set);
  ASSERT_EQ(set->keys.size(), 2U);
  ASSERT_NE(set->find("b"), nullptr);
  EXPECT_EQ(set->find("b")->key.type(), crypto::KeyType::Ec);
  EXPECT_EQ(set->find("c"), nullptr);
  EXPECT_EQ(set->find(""), nullptr);
}

TEST(JwksParse, SerialisesAndReparses) {
  auto set = parse_jwks("{\"keys\":[" + with_kid(ed_public(), "a") + "," +
                        with_kid(rsa_public(), "b") + "]}");
  ASSERT_TRUE(set);
  std::string text = to_json_string(*set);
  auto again = parse_jwks(text);
  ASSERT_TRUE(again);
  EXPECT_EQ(to_json_string(*again), text);
  EXPECT_EQ(text.find("\"d\""), std::string::npos);
}

TEST(JwksParse, AcceptsExactlyMaxKeys) {
  std::string doc = "{\"keys\":[";
  for (int i = 0; i < 5; ++i) {
    doc += (i ? "," : "") + with_kid(ed_public(), "k" + std::to_string(i));
  }
  doc += "]}";
  auto set = parse_jwks(doc, JwksLimits{256 * 1024, 5});
  ASSERT_TRUE(set);
  EXPECT_EQ(set->keys.size(), 5U);
}

// ---------------------------------------------------------------- refused documents

TEST(JwksParse, RejectsNonJson) {
  auto r = parse_jwks("keys");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), code(JoseErrc::JwksInvalid));
}

TEST(JwksParse, RejectsTopLevelArray) {
  auto r = parse_jwks("[" + ed_public() + "]");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), code(JoseErrc::JwksInvalid));
}

TEST(JwksParse, RejectsSingleJwkInsteadOfSet) {
  auto r = parse_jwks(ed_public());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), code(JoseErrc::JwksInvalid));
}

TEST(JwksParse, RejectsKeysAsObject) {
  auto r = parse_jwks("{\"keys\":" + ed_public() + "}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), code(JoseErrc::JwksInvalid));
}

TEST(JwksParse, RejectsKeysAsString) {
  auto r = parse_jwks(R"({"keys":"[]"})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), code(JoseErrc::JwksInvalid));
}

TEST(JwksParse, RejectsThousandKeys) {
  std::string doc = "{\"keys\":[";
  for (int i = 0; i < 1000; ++i) {
    doc += i ? ",{}" : "{}";
  }
  doc += "]}";
  auto r = parse_jwks(doc);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), code(JoseErrc::JwksInvalid));
}

TEST(JwksParse, RejectsOneKeyOverMax) {
  std::string doc = "{\"keys\":[" + ed_public() + "," + ec_public() + "]}";
  auto r = parse_jwks(doc, JwksLimits{256 * 1024, 1});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), code(JoseErrc::JwksInvalid));
}

TEST(JwksParse, RejectsOversizedDocument) {
  std::string doc = R"({"keys":[],"pad":")" + std::string(300 * 1024, 'x') + "\"}";
  auto r = parse_jwks(doc);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), code(JoseErrc::TooLarge));
}

TEST(JwksParse, RejectsDepthBomb) {
  std::string doc = R"({"keys":[{"kty":"OKP","x":)" + std::string(10000, '[') +
                    std::string(10000, ']') + "}]}";
  auto r = parse_jwks(doc);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), code(JoseErrc::JwksInvalid));
}

TEST(JwksParse, RejectsTrailingGarbage) {
  auto r = parse_jwks(R"({"keys":[]} {"keys":[]})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), code(JoseErrc::JwksInvalid));
}

// ---------------------------------------------------------------- skipped keys

TEST(JwksParse, SkipsOddKeysButKeepsGoodOnes) {
  std::string doc = "{\"keys\":["
                    R"({"kty":"RSA","n":12345,"e":65537},)"          // numbers for strings
                    R"({"kty":"EC","crv":"P-256","x":["a"],"y":"b"},)"  // array for a string
                    R"("a string",42,null,[],)"                       // not objects at all
                    R"({"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ"},)"  // HMAC
                    R"({"kty":"EC","crv":"P-384","x":"AA","y":"AA"},)"  // other curve
                    R"({},)" +
                    with_kid(ed_public(), "good") + "]}";
  auto set = parse_jwks(doc);
  ASSERT_TRUE(set);
  ASSERT_EQ(set->keys.size(), 1U);
  EXPECT_EQ(set->keys[0].kid, "good");
}

TEST(JwksParse, SkipsEncryptionKeys) {
  auto o = json::parse(ec_public()).as_object();
  o["use"] = "enc";
  o["kid"] = "enc-key";
  auto set = parse_jwks("{\"keys\":[" + json::serialize(o) + "]}");
  ASSERT_TRUE(set);
  EXPECT_TRUE(set->keys.empty());
}

TEST(JwksParse, SkipsKeysWithDisallowedAlg) {
  auto o = json::parse(rsa_public()).as_object();
  o["alg"] = "RS256";
  auto set = parse_jwks("{\"keys\":[" + json::serialize(o) + "]}");
  ASSERT_TRUE(set);
  EXPECT_TRUE(set->keys.empty());
}

TEST(JwksParse, SkipsRsaKeysUnder2048Bits) {
  auto o = json::parse(rsa_public()).as_object();
  o["n"] = test::b64(std::string(128, '\xC3'));
  auto set = parse_jwks("{\"keys\":[" + json::serialize(o) + "]}");
  ASSERT_TRUE(set);
  EXPECT_TRUE(set->keys.empty());
}

TEST(JwksParse, DuplicateKidKeepsFirstKeyOfThatType) {
  const auto& k = test::TestKeys::get();
  Jwk first = make_jwk(k.ec, "dup", Alg::ES256);
  Jwk second = make_jwk(k.ec2, "dup", Alg::ES256);
  auto set = parse_jwks(test::jwks_text({&first, &second}));
  ASSERT_TRUE(set);
  ASSERT_EQ(set->keys.size(), 1U);
  EXPECT_TRUE(set->keys[0].key.same_public_key(k.ec));
}

TEST(JwksParse, SameKidForDifferentKeyTypesKeepsBoth) {
  const auto& k = test::TestKeys::get();
  Jwk ec = make_jwk(k.ec, "same", std::nullopt);
  Jwk ed = make_jwk(k.ed, "same", std::nullopt);
  auto set = parse_jwks(test::jwks_text({&ec, &ed}));
  ASSERT_TRUE(set);
  EXPECT_EQ(set->keys.size(), 2U);
}

// ---------------------------------------------------------------- VerifierSet

class VerifierSetTest : public ::testing::Test {
protected:
  const test::TestKeys& k = test::TestKeys::get();
};

TEST_F(VerifierSetTest, PreparesOneVerifierPerFittingAlg) {
  Jwk rsa = make_jwk(k.rsa, "rsa", std::nullopt);
  Jwk ec = make_jwk(k.ec, "ec", std::nullopt);
  Jwk ed = make_jwk(k.ed, "ed", std::nullopt);
  Jwks set{{rsa, ec, ed}};
  VerifierSet v(set);
  EXPECT_EQ(v.size(), 3U);
  ASSERT_NE(v.find("rsa", Alg::PS256), nullptr);
  EXPECT_EQ(v.find("rsa", Alg::PS256)->alg(), Alg::PS256);
  EXPECT_NE(v.find("ec", Alg::ES256), nullptr);
  EXPECT_NE(v.find("ed", Alg::EdDSA), nullptr);
  // The same verifier object every time: prepared once, reused.
  EXPECT_EQ(v.find("ec", Alg::ES256).get(), v.find("ec", Alg::ES256).get());
}

TEST_F(VerifierSetTest, RejectsAlgThatDoesNotFitTheKid) {
  Jwk rsa = make_jwk(k.rsa, "rsa", std::nullopt);
  Jwk ec = make_jwk(k.ec, "ec", std::nullopt);
  VerifierSet v(Jwks{{rsa, ec}});
  EXPECT_EQ(v.find("rsa", Alg::ES256), nullptr);
  EXPECT_EQ(v.find("ec", Alg::PS256), nullptr);
  EXPECT_EQ(v.find("ec", Alg::EdDSA), nullptr);
  auto r = v.select("rsa", Alg::ES256);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), code(JoseErrc::AlgKeyMismatch));
}

TEST_F(VerifierSetTest, RejectsUnknownKid) {
  Jwk ec = make_jwk(k.ec, "ec", std::nullopt);
  VerifierSet v(Jwks{{ec}});
  EXPECT_EQ(v.find("nope", Alg::ES256), nullptr);
  EXPECT_EQ(v.find("EC", Alg::ES256), nullptr);  // kids compare exactly
  auto r = v.select("nope", Alg::ES256);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), code(JoseErrc::KidNotFound));
}

TEST_F(VerifierSetTest, JwkAlgRestrictsTheKey) {
  // An RSA key published for PS256 only is never offered for anything else (and an EC key
  // with "alg":"ES256" likewise); here the restriction matters for nothing but documents it.
  Jwk rsa = make_jwk(k.rsa, "rsa", Alg::PS256);
  VerifierSet v(Jwks{{rsa}});
  EXPECT_NE(v.find("rsa", Alg::PS256), nullptr);
  EXPECT_EQ(v.find("rsa", Alg::ES256), nullptr);
}

TEST_F(VerifierSetTest, EmptyKidSelectsTheOnlyFittingKey) {
  Jwk rsa = make_jwk(k.rsa, "", std::nullopt);
  Jwk ec = make_jwk(k.ec, "", std::nullopt);
  VerifierSet v(Jwks{{rsa, ec}});
  EXPECT_NE(v.find("", Alg::PS256), nullptr);
  EXPECT_NE(v.find("", Alg::ES256), nullptr);
  EXPECT_EQ(v.find("", Alg::EdDSA), nullptr);
}

TEST_F(VerifierSetTest, EmptyKidWithTwoCandidatesIsRefused) {
  Jwk a = make_jwk(k.ec, "a", std::nullopt);
  Jwk b = make_jwk(k.ec2, "b", std::nullopt);
  VerifierSet v(Jwks{{a, b}});
  EXPECT_EQ(v.find("", Alg::ES256), nullptr);
  auto r = v.select("", Alg::ES256);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), code(JoseErrc::KidNotFound));
}

TEST_F(VerifierSetTest, EmptySetFindsNothing) {
  VerifierSet v(Jwks{});
  EXPECT_EQ(v.size(), 0U);
  EXPECT_EQ(v.find("", Alg::ES256), nullptr);
  EXPECT_EQ(v.find("x", Alg::PS256), nullptr);
}

TEST_F(VerifierSetTest, SkipsEncKeysAndInvalidKeys) {
  Jwk enc = make_jwk(k.ec, "enc", std::nullopt);
  enc.use = "enc";
  Jwk invalid;
  invalid.kid = "invalid";
  VerifierSet v(Jwks{{enc, invalid}});
  EXPECT_EQ(v.size(), 0U);
  EXPECT_EQ(v.find("enc", Alg::ES256), nullptr);
  EXPECT_EQ(v.find("invalid", Alg::ES256), nullptr);
}

TEST_F(VerifierSetTest, PrivateJwksVerifiesWithPublicHalf) {
  // A JWKS that carries "d" still works for verification (it should not, in production, be
  // published; the gateway never needs it).
  Jwk ed = make_jwk(k.ed, "ed", Alg::EdDSA);
  auto set = parse_jwks("{\"keys\":[" + to_json_string(ed, true) + "]}");
  ASSERT_TRUE(set);
  VerifierSet v(*set);
  auto token = sign_compact("{}", Alg::EdDSA, k.ed, "ed");
  ASSERT_TRUE(token);
  EXPECT_TRUE(verify_compact(*token, kAllAlgs, v));
}

}  // namespace
}  // namespace fapigate::jose
