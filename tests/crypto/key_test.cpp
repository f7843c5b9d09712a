#include "crypto/key.hpp"

#include <gtest/gtest.h>

#include "core/base64url.hpp"
#include "crypto/signature.hpp"
#include "crypto_test_util.hpp"

namespace fapigate::crypto {
namespace {

using test::pkcs8_pem;
using test::raw_ec;
using test::raw_rsa;
using test::spki_pem;
using test::traditional_pem;

std::string b64u(std::string_view s) { return core::base64url_decode(s).value(); }

TEST(KeyGenerate, Rsa2048) {
  auto key = Key::generate(KeyType::Rsa);
  ASSERT_TRUE(key) << key.error().message();
  EXPECT_TRUE(key->valid());
  EXPECT_TRUE(key->is_private());
  EXPECT_EQ(key->type(), KeyType::Rsa);
  EXPECT_EQ(key->bits(), 2048);
}

TEST(KeyGenerate, EcP256) {
  auto key = Key::generate(KeyType::Ec);
  ASSERT_TRUE(key);
  EXPECT_TRUE(key->is_private());
  EXPECT_EQ(key->type(), KeyType::Ec);
  EXPECT_EQ(key->bits(), 256);
  EXPECT_EQ(key->ec_curve(), "prime256v1");
}

TEST(KeyGenerate, Ed25519) {
  auto key = Key::generate(KeyType::Ed25519);
  ASSERT_TRUE(key);
  EXPECT_TRUE(key->is_private());
  EXPECT_EQ(key->type(), KeyType::Ed25519);
}

TEST(KeyGenerate, RefusesSmallRsa) {
  auto key = Key::generate(KeyType::Rsa, 1024);
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error(), CryptoErrc::KeyTooSmall);
}

TEST(KeyGenerate, RefusesAbsurdRsa) {
  auto key = Key::generate(KeyType::Rsa, 1 << 20);
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error(), CryptoErrc::UnsupportedKey);
}

TEST(KeyPem, RoundTripAllTypes) {
  for (KeyType t : {KeyType::Rsa, KeyType::Ec, KeyType::Ed25519}) {
    auto key = Key::generate(t);
    ASSERT_TRUE(key);
    std::string pem = key->private_pem();
    EXPECT_NE(pem.find("-----BEGIN PRIVATE KEY-----"), std::string::npos);
    auto back = Key::from_pem(pem);
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_TRUE(back->is_private());
    EXPECT_EQ(back->type(), t);
    EXPECT_TRUE(back->same_public_key(*key));

    std::string pub_pem = key->public_pem();
    EXPECT_NE(pub_pem.find("-----BEGIN PUBLIC KEY-----"), std::string::npos);
    auto pub = Key::from_pem(pub_pem);
    ASSERT_TRUE(pub);
    EXPECT_FALSE(pub->is_private());
    EXPECT_EQ(pub->type(), t);
    EXPECT_TRUE(pub->same_public_key(*key));
    EXPECT_TRUE(pub->private_pem().empty());

    auto from_der = Key::from_public_der(key->public_der());
    ASSERT_TRUE(from_der);
    EXPECT_FALSE(from_der->is_private());
    EXPECT_TRUE(from_der->same_public_key(*key));
  }
}

TEST(KeyPem, LoadsTraditionalRsaAndEc) {
  PkeyPtr rsa = raw_rsa(2048);
  auto k1 = Key::from_pem(traditional_pem(rsa.get()));
  ASSERT_TRUE(k1) << k1.error().message();
  EXPECT_TRUE(k1->is_private());
  EXPECT_EQ(k1->type(), KeyType::Rsa);

  PkeyPtr ec = raw_ec("P-256");
  std::string pem = traditional_pem(ec.get());
  EXPECT_NE(pem.find("EC PRIVATE KEY"), std::string::npos);
  auto k2 = Key::from_pem(pem);
  ASSERT_TRUE(k2);
  EXPECT_TRUE(k2->is_private());
  EXPECT_EQ(k2->type(), KeyType::Ec);
}

TEST(KeyPem, RefusesRsa1024Private) {
  PkeyPtr rsa = raw_rsa(1024);
  auto key = Key::from_pem(pkcs8_pem(rsa.get()));
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error(), CryptoErrc::KeyTooSmall);
}

TEST(KeyPem, RefusesRsa1024Public) {
  PkeyPtr rsa = raw_rsa(1024);
  auto key = Key::from_pem(spki_pem(rsa.get()));
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error(), CryptoErrc::KeyTooSmall);
}

TEST(KeyPem, RefusesP384) {
  PkeyPtr ec = raw_ec("P-384");
  auto key = Key::from_pem(pkcs8_pem(ec.get()));
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error(), CryptoErrc::UnsupportedKey);
  auto pub = Key::from_pem(spki_pem(ec.get()));
  ASSERT_FALSE(pub);
  EXPECT_EQ(pub.error(), CryptoErrc::UnsupportedKey);
}

TEST(KeyPem, RefusesSecp256k1) {
  PkeyPtr ec = raw_ec("secp256k1");
  ASSERT_TRUE(ec);
  auto key = Key::from_pem(pkcs8_pem(ec.get()));
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error(), CryptoErrc::UnsupportedKey);
}

TEST(KeyPem, RefusesEd448AndX25519) {
  for (const char* type : {"ED448", "X25519"}) {
    PkeyPtr k(EVP_PKEY_Q_keygen(nullptr, nullptr, type));
    ASSERT_TRUE(k);
    auto key = Key::from_pem(pkcs8_pem(k.get()));
    ASSERT_FALSE(key) << type;
    EXPECT_EQ(key.error(), CryptoErrc::UnsupportedKey);
  }
}

TEST(KeyPem, RefusesGarbage) {
  EXPECT_FALSE(Key::from_pem(""));
  EXPECT_FALSE(Key::from_pem("not a key"));
  EXPECT_FALSE(Key::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"));
  EXPECT_FALSE(Key::from_pem("-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n"));
  auto r = Key::from_pem("garbage");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), CryptoErrc::InvalidKey);
  EXPECT_EQ(ERR_peek_error(), 0u);  // error queue left clean
}

TEST(KeyPem, RefusesTruncatedPem) {
  auto key = Key::generate(KeyType::Ec);
  std::string pem = key->private_pem();
  EXPECT_FALSE(Key::from_pem(pem.substr(0, pem.size() / 2)));
}

TEST(KeyPem, RefusesEncryptedKeyWithoutPrompting) {
  PkeyPtr ec = raw_ec("P-256");
  BioPtr bio(BIO_new(BIO_s_mem()));
  char pass[] = "secret";
  ASSERT_EQ(PEM_write_bio_PKCS8PrivateKey(bio.get(), ec.get(), EVP_aes_256_cbc(), pass, 6,
                                          nullptr, nullptr),
            1);
  auto key = Key::from_pem(test::bio_string(bio.get()));
  EXPECT_FALSE(key);
}

TEST(KeyPem, RefusesOversizedInput) {
  auto key = Key::generate(KeyType::Ec);
  std::string pem = key->private_pem() + std::string(2 * 1024 * 1024, '\n');
  EXPECT_FALSE(Key::from_pem(pem));
}

TEST(KeyDer, RefusesGarbageAndTrailingBytes) {
  EXPECT_FALSE(Key::from_public_der(""));
  EXPECT_FALSE(Key::from_public_der("\x30\x03\x02\x01\x01"));
  auto key = Key::generate(KeyType::Ed25519);
  EXPECT_FALSE(Key::from_public_der(key->public_der() + "x"));
  EXPECT_FALSE(Key::from_public_der(key->public_der().substr(1)));
}

TEST(KeyPublicOnly, DropsPrivateHalf) {
  for (KeyType t : {KeyType::Rsa, KeyType::Ec, KeyType::Ed25519}) {
    auto key = Key::generate(t);
    ASSERT_TRUE(key);
    Key pub = key->public_only();
    ASSERT_TRUE(pub.valid());
    EXPECT_FALSE(pub.is_private());
    EXPECT_TRUE(pub.same_public_key(*key));
    EXPECT_TRUE(key->same_public_key(pub));
    EXPECT_TRUE(key->is_private());  // the original is unchanged
  }
}

TEST(KeySamePublicKey, DifferentKeysDiffer) {
  auto a = Key::generate(KeyType::Ec);
  auto b = Key::generate(KeyType::Ec);
  auto c = Key::generate(KeyType::Ed25519);
  EXPECT_FALSE(a->same_public_key(*b));
  EXPECT_FALSE(a->same_public_key(*c));
  EXPECT_FALSE(a->same_public_key(Key()));
  EXPECT_FALSE(Key().same_public_key(Key()));
}

TEST(KeyInvalid, DefaultKeyIsInvalid) {
  Key k;
  EXPECT_FALSE(k.valid());
  EXPECT_FALSE(k.is_private());
  EXPECT_TRUE(k.public_pem().empty());
  EXPECT_TRUE(k.public_der().empty());
  EXPECT_FALSE(k.public_only().valid());
}

TEST(KeyInvalid, UnsupportedTypeViaConstructorIsInvalid) {
  Key k(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
  EXPECT_FALSE(k.valid());
}

// RFC 8037 Appendix A.1.
constexpr const char* kRfc8037D = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
constexpr const char* kRfc8037X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

TEST(KeyRawEd25519, Rfc8037PrivateDerivesPublic) {
  auto key = Key::from_raw_ed25519(b64u(kRfc8037D), true);
  ASSERT_TRUE(key);
  EXPECT_TRUE(key->is_private());
  auto comps = key->okp_components();
  ASSERT_TRUE(comps);
  EXPECT_EQ(core::base64url_encode(comps->x), kRfc8037X);
  EXPECT_EQ(core::base64url_encode(comps->d), kRfc8037D);
  auto pub = Key::from_raw_ed25519(b64u(kRfc8037X), false);
  ASSERT_TRUE(pub);
  EXPECT_FALSE(pub->is_private());
  EXPECT_TRUE(pub->same_public_key(*key));
}

TEST(KeyRawEd25519, RefusesWrongLength) {
  EXPECT_FALSE(Key::from_raw_ed25519(std::string(31, 'a'), true));
  EXPECT_FALSE(Key::from_raw_ed25519(std::string(33, 'a'), false));
  EXPECT_FALSE(Key::from_raw_ed25519("", false));
}

TEST(KeyComponents, RsaRoundTrip) {
  auto key = Key::generate(KeyType::Rsa);
  auto c = key->rsa_components();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->n.size(), 256u);
  EXPECT_EQ(c->e, std::string("\x01\x00\x01", 3));
  auto priv = Key::from_rsa_components(c->n, c->e, c->d, c->p, c->q, c->dp, c->dq, c->qi);
  ASSERT_TRUE(priv) << priv.error().message();
  EXPECT_TRUE(priv->is_private());
  EXPECT_TRUE(priv->same_public_key(*key));
  auto pub = Key::from_rsa_components(c->n, c->e);
  ASSERT_TRUE(pub);
  EXPECT_FALSE(pub->is_private());
  EXPECT_TRUE(pub->same_public_key(*key));
  auto sig = sign(SignatureAlg::PS256, *priv, "data");
  ASSERT_TRUE(sig);
  EXPECT_TRUE(verify(SignatureAlg::PS256, *pub, "data", *sig));
}

TEST(KeyComponents, RsaRefusesPartialPrivate) {
  auto key = Key::generate(KeyType::Rsa);
  auto c = key->rsa_components();
  auto r = Key::from_rsa_components(c->n, c->e, c->d);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), CryptoErrc::InvalidKey);
}

TEST(KeyComponents, RsaRefusesMismatchedPrivate) {
  auto a = Key::generate(KeyType::Rsa)->rsa_components().value();
  auto b = Key::generate(KeyType::Rsa)->rsa_components().value();
  EXPECT_FALSE(Key::from_rsa_components(a.n, a.e, b.d, b.p, b.q, b.dp, b.dq, b.qi));
}

TEST(KeyComponents, RsaRefusesSmallModulus) {
  PkeyPtr rsa = raw_rsa(1024);
  BIGNUM* n = nullptr;
  ASSERT_EQ(EVP_PKEY_get_bn_param(rsa.get(), "n", &n), 1);
  BnPtr owned(n);
  std::string nb(static_cast<std::size_t>(BN_num_bytes(n)), '\0');
  BN_bn2bin(n, reinterpret_cast<unsigned char*>(nb.data()));
  auto r = Key::from_rsa_components(nb, std::string("\x01\x00\x01", 3));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), CryptoErrc::KeyTooSmall);
}

TEST(KeyComponents, RsaRefusesEmptyAndEvenModulus) {
  EXPECT_FALSE(Key::from_rsa_components("", "\x03"));
  EXPECT_FALSE(Key::from_rsa_components(std::string(256, '\xff'), ""));
  auto r = Key::from_rsa_components(std::string(256, '\xfe'), std::string("\x01\x00\x01", 3));
  EXPECT_FALSE(r);
}

TEST(KeyComponents, EcRoundTrip) {
  auto key = Key::generate(KeyType::Ec);
  auto c = key->ec_components();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->x.size(), 32u);
  EXPECT_EQ(c->y.size(), 32u);
  EXPECT_EQ(c->d.size(), 32u);
  auto priv = Key::from_ec_p256(c->x, c->y, c->d);
  ASSERT_TRUE(priv) << priv.error().message();
  EXPECT_TRUE(priv->is_private());
  EXPECT_TRUE(priv->same_public_key(*key));
  auto pub = Key::from_ec_p256(c->x, c->y);
  ASSERT_TRUE(pub);
  EXPECT_FALSE(pub->is_private());
  auto sig = sign(SignatureAlg::ES256, *priv, "data");
  ASSERT_TRUE(sig);
  EXPECT_TRUE(verify(SignatureAlg::ES256, *pub, "data", *sig));
}

TEST(KeyComponents, EcRefusesPointOffCurve) {
  auto c = Key::generate(KeyType::Ec)->ec_components().value();
  std::string y = c.y;
  y[31] = static_cast<char>(y[31] ^ 1);
  auto r = Key::from_ec_p256(c.x, y);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), CryptoErrc::InvalidKey);
}

TEST(KeyComponents, EcRefusesShortCoordinates) {
  auto c = Key::generate(KeyType::Ec)->ec_components().value();
  EXPECT_FALSE(Key::from_ec_p256(c.x.substr(1), c.y));
  EXPECT_FALSE(Key::from_ec_p256(c.x, c.y + "x"));
  EXPECT_FALSE(Key::from_ec_p256(c.x, c.y, c.d.substr(1)));
}

TEST(KeyComponents, EcRefusesMismatchedPrivate) {
  auto a = Key::generate(KeyType::Ec)->ec_components().value();
  auto b = Key::generate(KeyType::Ec)->ec_components().value();
  EXPECT_FALSE(Key::from_ec_p256(a.x, a.y, b.d));
}

TEST(KeyComponents, WrongTypeIsAnError) {
  auto ec = Key::generate(KeyType::Ec);
  EXPECT_FALSE(ec->rsa_components());
  EXPECT_FALSE(ec->okp_components());
  auto ed = Key::generate(KeyType::Ed25519);
  EXPECT_FALSE(ed->ec_components());
  EXPECT_TRUE(ed->public_only().okp_components()->d.empty());
}

TEST(CryptoErrc, CategoryMessages) {
  ErrorCode ec = CryptoErrc::KeyTooSmall;
  EXPECT_STREQ(ec.category().name(), "fapigate.crypto");
  EXPECT_EQ(ec.message(), "RSA key under 2048 bits");
  EXPECT_EQ(ec, CryptoErrc::KeyTooSmall);
  EXPECT_NE(ec, CryptoErrc::InvalidKey);
}

}  // namespace
}  // namespace fapigate::crypto
