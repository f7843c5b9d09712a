// JWK parsing, serialisation and RFC 7638 thumbprints: published vectors first (RFC 7515 A.2/A.3,
// RFC 7638 §3.1, RFC 8037 A.1-A.3), then every way a JWK can be odd.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "core/base64url.hpp"
#include "crypto/pki.hpp"
#include "crypto/x509.hpp"
#include "jose/jose_errc.hpp"
#include "jose/jwk.hpp"
#include "jose_test_util.hpp"

namespace fapigate::jose {
namespace {

namespace json = boost::json;
using test::code;
using test::read_data;

json::object obj(std::string_view name) { return json::parse(read_data(name)).as_object(); }

// RFC 7638 §3.1's key is published with "alg":"RS256", which fapigate refuses; the thumbprint
// is over the required members only, so the vector is checked without it.
json::object rfc7638_key_without_alg() {
  auto o = obj("rfc7638_3_1_rsa.jwk.json");
  o.erase("alg");
  return o;
}

// ---------------------------------------------------------------- published vectors

TEST(JwkVectors, Rfc7638ThumbprintOfRsaKey) {
  auto jwk = parse_jwk(rfc7638_key_without_alg());
  ASSERT_TRUE(jwk) << jwk.error().message();
  EXPECT_EQ(jwk->kid, "2011-04-29");
  EXPECT_EQ(jwk->key.type(), crypto::KeyType::Rsa);
  EXPECT_EQ(jwk->key.bits(), 2048);
  EXPECT_FALSE(jwk->key.is_private());
  EXPECT_EQ(thumbprint(*jwk), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

// The largest RSA key accepted, public and private (the private parse runs the key-pair check).
TEST(JwkBounds, Rsa4096KeyIsAcceptedPublicAndPrivate) {
  auto key = crypto::Key::generate(crypto::KeyType::Rsa, 4096);
  ASSERT_TRUE(key);
  auto jwk = make_jwk(std::move(*key), "big", Alg::PS256);
  auto priv = parse_jwk(to_json_string(jwk, /*include_private=*/true));
  ASSERT_TRUE(priv) << priv.error().message();
  EXPECT_EQ(priv->key.bits(), 4096);
  EXPECT_TRUE(priv->key.is_private());
  auto pub = parse_jwk(to_json_string(jwk));
  ASSERT_TRUE(pub) << pub.error().message();
  EXPECT_EQ(pub->key.bits(), 4096);
  EXPECT_FALSE(pub->key.is_private());
}

TEST(JwkVectors, Rfc7638KeyWithRs256AlgIsUnusable) {
  auto jwk = parse_jwk(obj("rfc7638_3_1_rsa.jwk.json"));
  ASSERT_FALSE(jwk);
  EXPECT_EQ(jwk.error(), code(JoseErrc::JwkUnsupported));
}

TEST(JwkVectors, Rfc8037A1PrivateKey) {
  auto jwk = parse_jwk(read_data("rfc8037_a1_ed25519.jwk.json"));
  ASSERT_TRUE(jwk) << jwk.error().message();
  EXPECT_EQ(jwk->key.type(), crypto::KeyType::Ed25519);
  EXPECT_TRUE(jwk->key.is_private());
}

TEST(JwkVectors, Rfc8037A2PublicKeyAndA3Thumbprint) {
  auto pub = parse_jwk(read_data("rfc8037_a2_ed25519_public.jwk.json"));
  ASSERT_TRUE(pub) << pub.error().message();
  EXPECT_FALSE(pub->key.is_private());
  EXPECT_EQ(thumbprint(*pub), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
  // The private key's thumbprint is its public key's.
  auto priv = parse_jwk(read_data("rfc8037_a1_ed25519.jwk.json"));
  ASSERT_TRUE(priv);
  EXPECT_EQ(thumbprint(*priv), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
  EXPECT_TRUE(priv->key.same_public_key(pub->key));
}

TEST(JwkVectors, Rfc7515A3EcPrivateKey) {
  auto jwk = parse_jwk(read_data("rfc7515_a3_ec.jwk.json"));
  ASSERT_TRUE(jwk) << jwk.error().message();
  EXPECT_EQ(jwk->key.type(), crypto::KeyType::Ec);
  EXPECT_TRUE(jwk->key.is_private());
}

TEST(JwkVectors, Rfc7515A2RsaPrivateKey) {
  auto jwk = parse_jwk(read_data("rfc7515_a2_rsa.jwk.json"));
  ASSERT_TRUE(jwk) << jwk.error().message();
  EXPECT_EQ(jwk->key.type(), crypto::KeyType::Rsa);
  EXPECT_TRUE(jwk->key.is_private());
}

TEST(JwkVectors, NpmJoseThumbprintsMatch) {
  for (const char* alg : {"ps256", "es256"}) {
    auto set = parse_jwks(read_data(std::string("npm_jose_") + alg + ".jwks.json"));
    ASSERT_TRUE(set) << alg;
    ASSERT_EQ(set->keys.size(), 1U);
    EXPECT_EQ(thumbprint(set->keys[0]),
              read_data(std::string("npm_jose_") + alg + ".thumbprint"))
        << alg;
    EXPECT_EQ(set->keys[0].kid, thumbprint(set->keys[0]));
  }
}

// ---------------------------------------------------------------- serialisation

TEST(JwkSerialize, PublicOutputHasStableOrderAndNoPrivateMembers) {
  auto jwk = parse_jwk(read_data("rfc8037_a1_ed25519.jwk.json"));
  ASSERT_TRUE(jwk);
  jwk->kid = "k1";
  jwk->alg = Alg::EdDSA;
  jwk->use = "sig";
  EXPECT_EQ(to_json_string(*jwk),
            R"({"kty":"OKP","kid":"k1","use":"sig","alg":"EdDSA","crv":"Ed25519",)"
            R"("x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})");
  EXPECT_EQ(to_json_string(*jwk, /*include_private=*/true),
            R"({"kty":"OKP","kid":"k1","use":"sig","alg":"EdDSA","crv":"Ed25519",)"
            R"("x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",)"
            R"("d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"})");
}

TEST(JwkSerialize, EcPrivateRoundTripReproducesRfcMembers) {
  auto original = obj("rfc7515_a3_ec.jwk.json");
  auto jwk = parse_jwk(original);
  ASSERT_TRUE(jwk);
  auto out = to_json(*jwk, true);
  for (const char* m : {"kty", "crv", "x", "y", "d"}) {
    EXPECT_EQ(out.at(m), original.at(m)) << m;
  }
  EXPECT_EQ(json::serialize(out),
            R"({"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",)"
            R"("y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",)"
            R"("d":"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"})");
}

TEST(JwkSerialize, RsaPrivateRoundTripReproducesRfcMembers) {
  auto original = obj("rfc7515_a2_rsa.jwk.json");
  auto jwk = parse_jwk(original);
  ASSERT_TRUE(jwk);
  auto out = to_json(*jwk, true);
  for (const char* m : {"kty", "n", "e", "d", "p", "q", "dp", "dq", "qi"}) {
    EXPECT_EQ(out.at(m), original.at(m)) << m;
  }
  auto pub = to_json(*jwk);
  EXPECT_EQ(pub.size(), 3U);  // kty, n, e
  EXPECT_FALSE(pub.contains("d"));
}

TEST(JwkSerialize, GeneratedKeysRoundTripThroughText) {
  const auto& k = test::TestKeys::get();
  for (const auto& [key, alg] : {std::pair{k.rsa, Alg::PS256}, std::pair{k.ec, Alg::ES256},
                                 std::pair{k.ed, Alg::EdDSA}}) {
    Jwk jwk = make_jwk(key, "kid-1", alg);
    auto again = parse_jwk(to_json_string(jwk, true));
    ASSERT_TRUE(again) << again.error().message();
    EXPECT_TRUE(again->key.is_private());
    EXPECT_TRUE(again->key.same_public_key(key));
    EXPECT_EQ(again->kid, "kid-1");
    EXPECT_EQ(again->alg, alg);
    EXPECT_EQ(thumbprint(*again), thumbprint(jwk));
    EXPECT_EQ(to_json_string(*again, true), to_json_string(jwk, true));
    auto pub = parse_jwk(to_json_string(jwk));
    ASSERT_TRUE(pub);
    EXPECT_FALSE(pub->key.is_private());
  }
}

TEST(JwkThumbprint, PrivateAndPublicHalvesAgree) {
  const auto& k = test::TestKeys::get();
  for (const crypto::Key* key : {&k.rsa, &k.ec, &k.ed}) {
    Jwk priv = make_jwk(*key, "", std::nullopt);
    Jwk pub = make_jwk(key->public_only(), "", std::nullopt);
    EXPECT_EQ(thumbprint(priv), thumbprint(pub));
    EXPECT_EQ(thumbprint(priv).size(), 43U);
  }
}

TEST(JwkThumbprint, CompressedPointFormatGivesTheSameThumbprint) {
  auto jwk = parse_jwk(read_data("rfc7515_a3_ec_public.jwk.json")).value();
  std::string before = thumbprint(jwk);
  std::string der = jwk.key.public_der();
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  EVP_PKEY* copy = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
  ASSERT_NE(copy, nullptr);
  ASSERT_EQ(EVP_PKEY_set_utf8_string_param(copy, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                           "compressed"),
            1);
  Jwk compressed = make_jwk(crypto::Key(copy), "", std::nullopt);
  EXPECT_EQ(thumbprint(compressed), before);
  EXPECT_EQ(to_json_string(compressed), to_json_string(jwk));
}

TEST(JwkThumbprint, RejectsCurveOtherThanP256) {
  // Key(EVP_PKEY*) accepts any curve (certificates carry them); a JWK "P-256" must not be
  // claimed for secp256k1, whose points have the same size.
  EVP_PKEY* k1 = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "secp256k1");
  ASSERT_NE(k1, nullptr);
  crypto::Key key(k1);
  Jwk jwk = make_jwk(key, "", std::nullopt);
  EXPECT_EQ(thumbprint(jwk), "");
  EXPECT_TRUE(to_json(jwk).empty());
}

TEST(JwkSerialize, PublicKeyNeverEmitsPrivateMembers) {
  auto jwk = parse_jwk(read_data("rfc8037_a2_ed25519_public.jwk.json"));
  ASSERT_TRUE(jwk);
  EXPECT_FALSE(to_json(*jwk, /*include_private=*/true).contains("d"));
}

TEST(JwkSerialize, InvalidKeySerialisesToEmptyObject) {
  Jwk empty;
  EXPECT_TRUE(to_json(empty).empty());
  EXPECT_EQ(thumbprint(empty), "");
}

TEST(JwkParse, KeepsUseKidAndEncKeys) {
  auto o = obj("rfc8037_a2_ed25519_public.jwk.json");
  o["use"] = "enc";
  o["kid"] = "e1";
  o["key_ops"] = json::array{"verify"};
  o["ext"] = true;  // unknown members are ignored
  auto jwk = parse_jwk(o);
  ASSERT_TRUE(jwk);
  EXPECT_EQ(jwk->use, "enc");
  EXPECT_EQ(jwk->kid, "e1");
}

// ---------------------------------------------------------------- x5c (RFC 7517 §4.7)

class JwkX5c : public ::testing::Test {
protected:
  static const crypto::IssuedCertificate& ca() {
    static const crypto::IssuedCertificate c = crypto::issue_ca(crypto::CaOptions{}).value();
    return c;
  }
  json::object jwk_with_chain() const {
    auto o = to_json(make_jwk(ca().key.public_only(), "ca", Alg::ES256));
    o["x5c"] = json::array{core::base64_encode(ca().der)};
    o["x5t#S256"] = crypto::x5t_s256(ca().der);
    return o;
  }
};

TEST_F(JwkX5c, AcceptsCertificateHoldingTheKey) {
  auto jwk = parse_jwk(jwk_with_chain());
  ASSERT_TRUE(jwk) << jwk.error().message();
  ASSERT_EQ(jwk->x5c.size(), 1U);
  EXPECT_EQ(to_json(*jwk).at("x5c").as_array().size(), 1U);
  // Also inside a JWKS (the x5c array is the deepest level a JWKS needs).
  auto set = parse_jwks("{\"keys\":[" + json::serialize(jwk_with_chain()) + "]}");
  ASSERT_TRUE(set);
  EXPECT_EQ(set->keys.size(), 1U);
}

TEST_F(JwkX5c, RejectsCertificateOfAnotherKey) {
  auto o = jwk_with_chain();
  auto other = to_json(make_jwk(test::TestKeys::get().ec.public_only(), "ca", Alg::ES256));
  o["x"] = other["x"];
  o["y"] = other["y"];
  auto jwk = parse_jwk(o);
  ASSERT_FALSE(jwk);
  EXPECT_EQ(jwk.error(), code(JoseErrc::JwkInvalid));
}

TEST_F(JwkX5c, RejectsWrongX5tS256) {
  auto o = jwk_with_chain();
  o["x5t#S256"] = crypto::x5t_s256("something else");
  auto jwk = parse_jwk(o);
  ASSERT_FALSE(jwk);
  EXPECT_EQ(jwk.error(), code(JoseErrc::JwkInvalid));
}

TEST_F(JwkX5c, RejectsLineWrappedBase64) {
  auto o = jwk_with_chain();
  std::string wrapped = core::base64_encode(ca().der);
  wrapped.insert(64, "\n");
  o["x5c"] = json::array{wrapped};
  auto jwk = parse_jwk(o);
  ASSERT_FALSE(jwk);
  EXPECT_EQ(jwk.error(), code(JoseErrc::JwkInvalid));
}

// ---------------------------------------------------------------- refusals: structure

struct BadJwk {
  const char* name;
  const char* base;  // vector file to start from
  void (*edit)(json::object&);
  JoseErrc expected;
};

void PrintTo(const BadJwk& b, std::ostream* os) { *os << b.name; }

class JwkRejects : public ::testing::TestWithParam<BadJwk> {};

TEST_P(JwkRejects, Case) {
  const auto& c = GetParam();
  auto o = obj(c.base);
  c.edit(o);
  auto jwk = parse_jwk(o);
  ASSERT_FALSE(jwk) << c.name;
  EXPECT_EQ(jwk.error(), code(c.expected)) << c.name << ": " << jwk.error().message();
  // The text form fails the same way.
  auto text = parse_jwk(json::serialize(o));
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error(), code(c.expected)) << c.name;
}

constexpr const char* kRsa = "rfc7515_a2_rsa.jwk.json";
constexpr const char* kRsaPub = "rfc7520_3_3_rsa_public.jwk.json";
constexpr const char* kEc = "rfc7515_a3_ec.jwk.json";
constexpr const char* kEcPub = "rfc7515_a3_ec_public.jwk.json";
constexpr const char* kEd = "rfc8037_a1_ed25519.jwk.json";
constexpr const char* kEdPub = "rfc8037_a2_ed25519_public.jwk.json";

std::string flip_last_char(std::string_view b64url) {
  std::string s(b64url);
  s[s.size() / 2] = s[s.size() / 2] == 'A' ? 'B' : 'A';
  return s;
}

std::string b64_of_size(std::size_t n, char fill = '\x42') {
  return core::base64url_encode(std::string(n, fill));
}

const BadJwk kBadJwks[] = {
    // kty
    {"MissingKty", kEcPub, [](json::object& o) { o.erase("kty"); }, JoseErrc::JwkInvalid},
    {"KtyNumber", kEc, [](json::object& o) { o["kty"] = 2; }, JoseErrc::JwkInvalid},
    {"KtyOct", kEc, [](json::object& o) { o["kty"] = "oct"; o["k"] = "AyM1Sys"; },
     JoseErrc::JwkUnsupported},
    {"KtyLowercase", kEc, [](json::object& o) { o["kty"] = "ec"; }, JoseErrc::JwkUnsupported},
    {"KtyUnknown", kEc, [](json::object& o) { o["kty"] = "PQC"; }, JoseErrc::JwkUnsupported},
    // alg
    {"AlgRs256", kRsa, [](json::object& o) { o["alg"] = "RS256"; }, JoseErrc::JwkUnsupported},
    {"AlgNone", kEc, [](json::object& o) { o["alg"] = "none"; }, JoseErrc::JwkUnsupported},
    {"AlgHs256", kEc, [](json::object& o) { o["alg"] = "HS256"; }, JoseErrc::JwkUnsupported},
    {"AlgRsaOaep", kRsa, [](json::object& o) { o["alg"] = "RSA-OAEP"; },
     JoseErrc::JwkUnsupported},
    {"AlgLowercase", kEc, [](json::object& o) { o["alg"] = "es256"; }, JoseErrc::JwkUnsupported},
    {"AlgNumber", kEc, [](json::object& o) { o["alg"] = 256; }, JoseErrc::JwkInvalid},
    {"AlgEs256OnRsaKey", kRsa, [](json::object& o) { o["alg"] = "ES256"; },
     JoseErrc::AlgKeyMismatch},
    {"AlgPs256OnEcKey", kEc, [](json::object& o) { o["alg"] = "PS256"; },
     JoseErrc::AlgKeyMismatch},
    {"AlgEs256OnEdKey", kEd, [](json::object& o) { o["alg"] = "ES256"; },
     JoseErrc::AlgKeyMismatch},
    // metadata types
    {"KidNumber", kEc, [](json::object& o) { o["kid"] = 1; }, JoseErrc::JwkInvalid},
    {"KidNull", kEc, [](json::object& o) { o["kid"] = nullptr; }, JoseErrc::JwkInvalid},
    {"UseUnknown", kEc, [](json::object& o) { o["use"] = "tls"; }, JoseErrc::JwkUnsupported},
    {"UseArray", kEc, [](json::object& o) { o["use"] = json::array{"sig"}; },
     JoseErrc::JwkInvalid},
    {"KeyOpsString", kEc, [](json::object& o) { o["key_ops"] = "verify"; }, JoseErrc::JwkInvalid},
    {"KeyOpsNumbers", kEc, [](json::object& o) { o["key_ops"] = json::array{1, 2}; },
     JoseErrc::JwkInvalid},
    {"X5cString", kEc, [](json::object& o) { o["x5c"] = "MIIB"; }, JoseErrc::JwkInvalid},
    {"X5cEmpty", kEc, [](json::object& o) { o["x5c"] = json::array{}; }, JoseErrc::JwkInvalid},
    {"X5cNotBase64", kEc, [](json::object& o) { o["x5c"] = json::array{"not base64!"}; },
     JoseErrc::JwkInvalid},
    {"X5cNumber", kEc, [](json::object& o) { o["x5c"] = json::array{42}; },
     JoseErrc::JwkInvalid},
    {"X5cNotACertificate", kEc, [](json::object& o) { o["x5c"] = json::array{"AAAA"}; },
     JoseErrc::JwkInvalid},
    {"X5cTooMany", kEc,
     [](json::object& o) {
       json::array a;
       for (int i = 0; i < 11; ++i) {
         a.emplace_back("AAAA");
       }
       o["x5c"] = a;
     },
     JoseErrc::JwkInvalid},
    {"X5tS256Number", kEc, [](json::object& o) { o["x5t#S256"] = 1; }, JoseErrc::JwkInvalid},
    // RSA members
    {"RsaMissingN", kRsaPub, [](json::object& o) { o.erase("n"); }, JoseErrc::JwkInvalid},
    {"RsaMissingE", kRsaPub, [](json::object& o) { o.erase("e"); }, JoseErrc::JwkInvalid},
    {"RsaEAsNumber", kRsaPub, [](json::object& o) { o["e"] = 65537; }, JoseErrc::JwkInvalid},
    {"RsaNAsArray", kRsaPub, [](json::object& o) { o["n"] = json::array{"AQAB"}; },
     JoseErrc::JwkInvalid},
    {"RsaNPadded", kRsaPub,
     [](json::object& o) { o["n"] = std::string(o["n"].as_string()) + "=="; },
     JoseErrc::JwkInvalid},
    {"RsaNStandardBase64", kRsaPub,
     [](json::object& o) {
       std::string n(o["n"].as_string());
       for (char& c : n) {
         c = c == '-' ? '+' : (c == '_' ? '/' : c);
       }
       o["n"] = n;
     },
     JoseErrc::JwkInvalid},
    {"RsaNLeadingZero", kRsaPub,
     [](json::object& o) {
       auto n = *core::base64url_decode(std::string_view(o["n"].as_string()));
       o["n"] = core::base64url_encode(std::string(1, '\0') + n);
     },
     JoseErrc::JwkInvalid},
    {"RsaNEmpty", kRsaPub, [](json::object& o) { o["n"] = ""; }, JoseErrc::JwkInvalid},
    {"Rsa1024Bits", kRsaPub, [](json::object& o) { o["n"] = b64_of_size(128, '\xC3'); },
     JoseErrc::JwkInvalid},
    {"Rsa2040Bits", kRsaPub, [](json::object& o) { o["n"] = b64_of_size(255, '\xC3'); },
     JoseErrc::JwkInvalid},
    {"Rsa16384Bits", kRsaPub, [](json::object& o) { o["n"] = b64_of_size(2048, '\xC3'); },
     JoseErrc::JwkInvalid},
    {"Rsa4104Bits", kRsaPub, [](json::object& o) { o["n"] = b64_of_size(513, '\xC3'); },
     JoseErrc::JwkInvalid},
    {"Rsa8192Bits", kRsaPub, [](json::object& o) { o["n"] = b64_of_size(1024, '\xC3'); },
     JoseErrc::JwkInvalid},
    {"RsaEEven", kRsaPub, [](json::object& o) { o["e"] = "AQAA"; }, JoseErrc::JwkInvalid},
    {"RsaEOne", kRsaPub, [](json::object& o) { o["e"] = "AQ"; }, JoseErrc::JwkInvalid},
    {"RsaEHuge", kRsaPub, [](json::object& o) { o["e"] = b64_of_size(5, '\x01'); },
     JoseErrc::JwkInvalid},
    {"RsaNotAModulus", kRsaPub,
     [](json::object& o) {
       // An even "modulus" of the right size: the SP 800-56B public check refuses it.
       std::string n(256, '\xC3');
       n.back() = '\x02';
       o["n"] = core::base64url_encode(n);
     },
     JoseErrc::JwkInvalid},
    {"RsaDOnly", kRsa,
     [](json::object& o) {
       for (const char* m : {"p", "q", "dp", "dq", "qi"}) {
         o.erase(m);
       }
     },
     JoseErrc::JwkInvalid},
    {"RsaMissingQi", kRsa, [](json::object& o) { o.erase("qi"); }, JoseErrc::JwkInvalid},
    {"RsaDNumber", kRsa, [](json::object& o) { o["d"] = 7; }, JoseErrc::JwkInvalid},
    {"RsaPrivateFromOtherKey", kRsa,
     [](json::object& o) {
       // The RFC 7515 A.2 private members with RFC 7520's modulus: the pairwise check fails.
       auto other = obj(kRsaPub);
       o["n"] = other["n"];
     },
     JoseErrc::JwkInvalid},
    {"RsaTamperedP", kRsa,
     [](json::object& o) { o["p"] = flip_last_char(std::string_view(o["p"].as_string())); },
     JoseErrc::JwkInvalid},
    {"RsaMultiPrime", kRsa, [](json::object& o) { o["oth"] = json::array{}; },
     JoseErrc::JwkUnsupported},
    // EC members
    {"EcMissingCrv", kEc, [](json::object& o) { o.erase("crv"); }, JoseErrc::JwkInvalid},
    {"EcCrvP384", kEc, [](json::object& o) { o["crv"] = "P-384"; }, JoseErrc::JwkUnsupported},
    {"EcCrvP521Vector", "rfc7515_a4_ec_p521.jwk.json", [](json::object&) {},
     JoseErrc::JwkUnsupported},
    {"EcCrvSecp256k1", kEc, [](json::object& o) { o["crv"] = "secp256k1"; },
     JoseErrc::JwkUnsupported},
    {"EcCrvNumber", kEc, [](json::object& o) { o["crv"] = 256; }, JoseErrc::JwkInvalid},
    {"EcMissingY", kEc, [](json::object& o) { o.erase("y"); }, JoseErrc::JwkInvalid},
    {"EcXShort", kEc, [](json::object& o) { o["x"] = b64_of_size(31); }, JoseErrc::JwkInvalid},
    {"EcYLong", kEc, [](json::object& o) { o["y"] = b64_of_size(33); }, JoseErrc::JwkInvalid},
    {"EcXNumber", kEc, [](json::object& o) { o["x"] = 12345; }, JoseErrc::JwkInvalid},
    {"EcPointNotOnCurve", kEcPub,
     [](json::object& o) { o["y"] = flip_last_char(std::string_view(o["y"].as_string())); },
     JoseErrc::JwkInvalid},
    {"EcPointAllZero", kEcPub,
     [](json::object& o) {
       o["x"] = b64_of_size(32, '\0');
       o["y"] = b64_of_size(32, '\0');
     },
     JoseErrc::JwkInvalid},
    {"EcDWrongLength", kEc, [](json::object& o) { o["d"] = b64_of_size(31); },
     JoseErrc::JwkInvalid},
    {"EcDNotMatchingPoint", kEc, [](json::object& o) { o["d"] = b64_of_size(32, '\x11'); },
     JoseErrc::JwkInvalid},
    {"EcDZero", kEc, [](json::object& o) { o["d"] = b64_of_size(32, '\0'); },
     JoseErrc::JwkInvalid},
    {"EcDAboveOrder", kEc, [](json::object& o) { o["d"] = b64_of_size(32, '\xFF'); },
     JoseErrc::JwkInvalid},
    // OKP members
    {"OkpX25519", kEdPub, [](json::object& o) { o["crv"] = "X25519"; }, JoseErrc::JwkUnsupported},
    {"OkpEd448", kEdPub, [](json::object& o) { o["crv"] = "Ed448"; }, JoseErrc::JwkUnsupported},
    {"OkpMissingCrv", kEdPub, [](json::object& o) { o.erase("crv"); }, JoseErrc::JwkInvalid},
    {"OkpMissingX", kEdPub, [](json::object& o) { o.erase("x"); }, JoseErrc::JwkInvalid},
    {"OkpXShort", kEdPub, [](json::object& o) { o["x"] = b64_of_size(31); },
     JoseErrc::JwkInvalid},
    {"OkpXLong", kEdPub, [](json::object& o) { o["x"] = b64_of_size(57); },
     JoseErrc::JwkInvalid},
    {"OkpDNotMatchingX", kEd, [](json::object& o) { o["d"] = b64_of_size(32, '\x07'); },
     JoseErrc::JwkInvalid},
    {"OkpDWrongLength", kEd, [](json::object& o) { o["d"] = b64_of_size(64); },
     JoseErrc::JwkInvalid},
    {"OkpXPadded", kEdPub,
     [](json::object& o) { o["x"] = std::string(o["x"].as_string()) + "="; },
     JoseErrc::JwkInvalid},
};

INSTANTIATE_TEST_SUITE_P(All, JwkRejects, ::testing::ValuesIn(kBadJwks),
                         [](const auto& info) { return std::string(info.param.name); });

// ---------------------------------------------------------------- refusals: text

TEST(JwkParse, RejectsNonJsonText) {
  auto r = parse_jwk("{\"kty\":");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), code(JoseErrc::JwkInvalid));
}

TEST(JwkParse, RejectsJsonArray) {
  auto r = parse_jwk(R"([{"kty":"OKP"}])");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), code(JoseErrc::JwkInvalid));
}

TEST(JwkParse, RejectsOversizedText) {
  std::string big = R"({"kty":"OKP","pad":")" + std::string(70 * 1024, 'a') + "\"}";
  auto r = parse_jwk(big);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), code(JoseErrc::TooLarge));
}

TEST(JwkParse, RejectsDeepNesting) {
  std::string deep = R"({"kty":"OKP","x":)" + std::string(50, '[') + std::string(50, ']') + "}";
  auto r = parse_jwk(deep);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), code(JoseErrc::JwkInvalid));
}

TEST(JwkParse, RejectsEmptyText) {
  auto r = parse_jwk("");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), code(JoseErrc::JwkInvalid));
}

}  // namespace
}  // namespace fapigate::jose
