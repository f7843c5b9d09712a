#include "crypto/signature.hpp"

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/base64url.hpp"
#include "crypto_test_util.hpp"

namespace fapigate::crypto {
namespace {

std::string b64u(std::string_view s) { return core::base64url_decode(s).value(); }

struct Keys {
  Key rsa, ec, ed;
};

const Keys& keys() {
  static const Keys k{Key::generate(KeyType::Rsa).value(), Key::generate(KeyType::Ec).value(),
                      Key::generate(KeyType::Ed25519).value()};
  return k;
}

const Key& key_for(SignatureAlg alg) {
  switch (alg) {
    case SignatureAlg::PS256: return keys().rsa;
    case SignatureAlg::ES256: return keys().ec;
    case SignatureAlg::EdDSA: return keys().ed;
  }
  return keys().rsa;
}

class AllAlgs : public ::testing::TestWithParam<SignatureAlg> {};

INSTANTIATE_TEST_SUITE_P(Signature, AllAlgs,
                         ::testing::Values(SignatureAlg::PS256, SignatureAlg::ES256,
                                           SignatureAlg::EdDSA));

TEST_P(AllAlgs, RoundTrip) {
  const Key& key = key_for(GetParam());
  auto sig = sign(GetParam(), key, "header.payload");
  ASSERT_TRUE(sig) << sig.error().message();
  EXPECT_TRUE(verify(GetParam(), key.public_only(), "header.payload", *sig));
  EXPECT_TRUE(verify(GetParam(), key, "header.payload", *sig));  // private key verifies too
}

TEST_P(AllAlgs, RoundTripEmptyAndLargeData) {
  const Key& key = key_for(GetParam());
  std::string big(1 << 20, 'x');
  for (const std::string& data : {std::string(), big}) {
    auto sig = sign(GetParam(), key, data);
    ASSERT_TRUE(sig);
    EXPECT_TRUE(verify(GetParam(), key, data, *sig));
  }
}

TEST_P(AllAlgs, SignatureLength) {
  auto sig = sign(GetParam(), key_for(GetParam()), "x");
  ASSERT_TRUE(sig);
  EXPECT_EQ(sig->size(), GetParam() == SignatureAlg::PS256 ? 256u : 64u);
}

TEST_P(AllAlgs, PreparedVerifierAndSignerAreReusable) {
  const Key& key = key_for(GetParam());
  auto signer = Signer::create(GetParam(), key);
  auto verifier = Verifier::create(GetParam(), key.public_only());
  ASSERT_TRUE(signer);
  ASSERT_TRUE(verifier);
  EXPECT_EQ((*signer)->alg(), GetParam());
  EXPECT_EQ((*verifier)->alg(), GetParam());
  for (int i = 0; i < 5; ++i) {
    std::string data = "message " + std::to_string(i);
    auto sig = (*signer)->sign(data);
    ASSERT_TRUE(sig);
    EXPECT_TRUE((*verifier)->verify(data, *sig));
    EXPECT_FALSE((*verifier)->verify(data + "!", *sig));
  }
}

TEST_P(AllAlgs, WrongKeyFails) {
  Key other = Key::generate(key_for(GetParam()).type()).value();
  auto sig = sign(GetParam(), key_for(GetParam()), "data");
  ASSERT_TRUE(sig);
  EXPECT_FALSE(verify(GetParam(), other, "data", *sig));
}

TEST_P(AllAlgs, TamperedDataFails) {
  auto sig = sign(GetParam(), key_for(GetParam()), "data");
  ASSERT_TRUE(sig);
  EXPECT_FALSE(verify(GetParam(), key_for(GetParam()), "dataX", *sig));
  EXPECT_FALSE(verify(GetParam(), key_for(GetParam()), "Data", *sig));
  EXPECT_FALSE(verify(GetParam(), key_for(GetParam()), "", *sig));
}

TEST_P(AllAlgs, TamperedSignatureFails) {
  auto sig = sign(GetParam(), key_for(GetParam()), "data");
  ASSERT_TRUE(sig);
  for (std::size_t pos : {std::size_t{0}, sig->size() / 2, sig->size() - 1}) {
    std::string bad = *sig;
    bad[pos] = static_cast<char>(bad[pos] ^ 0x01);
    EXPECT_FALSE(verify(GetParam(), key_for(GetParam()), "data", bad)) << pos;
  }
}

TEST_P(AllAlgs, TruncatedOrExtendedSignatureFails) {
  auto sig = sign(GetParam(), key_for(GetParam()), "data");
  ASSERT_TRUE(sig);
  EXPECT_FALSE(verify(GetParam(), key_for(GetParam()), "data", sig->substr(0, sig->size() - 1)));
  EXPECT_FALSE(verify(GetParam(), key_for(GetParam()), "data", sig->substr(1)));
  EXPECT_FALSE(verify(GetParam(), key_for(GetParam()), "data", *sig + '\0'));
  EXPECT_FALSE(verify(GetParam(), key_for(GetParam()), "data", ""));
}

TEST_P(AllAlgs, AllZeroSignatureFails) {
  std::size_t len = GetParam() == SignatureAlg::PS256 ? 256 : 64;
  EXPECT_FALSE(verify(GetParam(), key_for(GetParam()), "data", std::string(len, '\0')));
  EXPECT_FALSE(verify(GetParam(), key_for(GetParam()), "data", std::string(len, '\xff')));
}

TEST_P(AllAlgs, KeyOfOtherTypeRefused) {
  for (SignatureAlg other : {SignatureAlg::PS256, SignatureAlg::ES256, SignatureAlg::EdDSA}) {
    if (other == GetParam()) {
      continue;
    }
    const Key& wrong = key_for(other);
    EXPECT_FALSE(key_fits(GetParam(), wrong));
    auto s = sign(GetParam(), wrong, "data");
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error(), CryptoErrc::UnsupportedKey);
    EXPECT_FALSE(Verifier::create(GetParam(), wrong));
    EXPECT_FALSE(Signer::create(GetParam(), wrong));
    // A signature made by the right alg with the other key never verifies cross-alg.
    auto sig = sign(other, wrong, "data");
    ASSERT_TRUE(sig);
    EXPECT_FALSE(verify(GetParam(), wrong, "data", *sig));
  }
}

TEST_P(AllAlgs, SigningWithPublicKeyRefused) {
  Key pub = key_for(GetParam()).public_only();
  auto s = sign(GetParam(), pub, "data");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), CryptoErrc::NotPrivate);
  EXPECT_FALSE(Signer::create(GetParam(), pub));
}

TEST_P(AllAlgs, InvalidKeyRefused) {
  EXPECT_FALSE(key_fits(GetParam(), Key()));
  EXPECT_FALSE(verify(GetParam(), Key(), "data", "sig"));
  auto s = sign(GetParam(), Key(), "data");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), CryptoErrc::InvalidKey);
}

TEST_P(AllAlgs, ConcurrentVerifyOnOneVerifier) {
  const Key& key = key_for(GetParam());
  auto verifier = Verifier::create(GetParam(), key).value();
  auto signer = Signer::create(GetParam(), key).value();
  std::string good = signer->sign("data").value();
  std::string bad = good;
  bad[3] = static_cast<char>(bad[3] ^ 0x40);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        if (!verifier->verify("data", good) || verifier->verify("data", bad)) {
          ++failures;
        }
        auto s = signer->sign("more");
        if (!s || !verifier->verify("more", *s)) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(failures.load(), 0);
}

TEST_P(AllAlgs, ErrorQueueLeftClean) {
  ERR_clear_error();
  EXPECT_FALSE(verify(GetParam(), key_for(GetParam()), "data", std::string(64, 'a')));
  EXPECT_FALSE(verify(GetParam(), key_for(GetParam()), "data", std::string(256, 'a')));
  EXPECT_EQ(ERR_peek_error(), 0u);
}

// RFC 7515 Appendix A.3: ES256 example.
constexpr const char* kA3X = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
constexpr const char* kA3Y = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
constexpr const char* kA3D = "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI";
constexpr const char* kA3Input =
    "eyJhbGciOiJFUzI1NiJ9."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxl"
    "LmNvbS9pc19yb290Ijp0cnVlfQ";
constexpr const char* kA3Sig =
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

TEST(Es256, Rfc7515A3VectorVerifies) {
  auto key = Key::from_ec_p256(b64u(kA3X), b64u(kA3Y));
  ASSERT_TRUE(key);
  EXPECT_TRUE(verify(SignatureAlg::ES256, *key, kA3Input, b64u(kA3Sig)));
  EXPECT_FALSE(verify(SignatureAlg::ES256, *key, std::string(kA3Input) + "x", b64u(kA3Sig)));
}

TEST(Es256, Rfc7515A3KeySignsVerifiably) {
  auto key = Key::from_ec_p256(b64u(kA3X), b64u(kA3Y), b64u(kA3D));
  ASSERT_TRUE(key);
  auto sig = sign(SignatureAlg::ES256, *key, kA3Input);
  ASSERT_TRUE(sig);
  EXPECT_EQ(sig->size(), 64u);
  EXPECT_TRUE(verify(SignatureAlg::ES256, key->public_only(), kA3Input, *sig));
}

TEST(Es256, DerSignatureRefused) {
  // The same signature in DER (what OpenSSL natively produces) must not be accepted.
  std::string raw = b64u(kA3Sig);
  BnPtr r(BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr));
  BnPtr s(BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr));
  EcdsaSigPtr sig(ECDSA_SIG_new());
  ASSERT_EQ(ECDSA_SIG_set0(sig.get(), r.release(), s.release()), 1);
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig.get(), &der);
  ASSERT_GT(len, 0);
  std::string der_sig(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  auto key = Key::from_ec_p256(b64u(kA3X), b64u(kA3Y));
  EXPECT_FALSE(verify(SignatureAlg::ES256, *key, kA3Input, der_sig));
}

TEST(Es256, NativeOpensslDerSignatureRefused) {
  const Key& key = key_for(SignatureAlg::ES256);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  ASSERT_EQ(EVP_DigestSignInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr, key.get(),
                                  nullptr),
            1);
  unsigned char buf[80];
  std::size_t len = sizeof(buf);
  ASSERT_EQ(EVP_DigestSign(ctx.get(), buf, &len, reinterpret_cast<const unsigned char*>("d"), 1),
            1);
  std::string der(reinterpret_cast<char*>(buf), len);
  EXPECT_FALSE(verify(SignatureAlg::ES256, key, "d", der));
}

TEST(Es256, WrongLengthRefused) {
  std::string raw = b64u(kA3Sig);
  auto key = Key::from_ec_p256(b64u(kA3X), b64u(kA3Y));
  EXPECT_FALSE(verify(SignatureAlg::ES256, *key, kA3Input, raw.substr(0, 63)));
  EXPECT_FALSE(verify(SignatureAlg::ES256, *key, kA3Input, raw + '\0'));
  EXPECT_FALSE(verify(SignatureAlg::ES256, *key, kA3Input, '\0' + raw));
  EXPECT_FALSE(verify(SignatureAlg::ES256, *key, kA3Input, raw + raw));
  EXPECT_FALSE(verify(SignatureAlg::ES256, *key, kA3Input, raw.substr(0, 32)));
}

TEST(Es256, SwappedRAndSRefused) {
  std::string raw = b64u(kA3Sig);
  auto key = Key::from_ec_p256(b64u(kA3X), b64u(kA3Y));
  EXPECT_FALSE(verify(SignatureAlg::ES256, *key, kA3Input, raw.substr(32) + raw.substr(0, 32)));
}

TEST(Es256, P384KeyDoesNotFit) {
  Key p384(test::raw_ec("P-384").release());
  ASSERT_TRUE(p384.valid());
  EXPECT_FALSE(key_fits(SignatureAlg::ES256, p384));
  EXPECT_FALSE(Verifier::create(SignatureAlg::ES256, p384));
  EXPECT_FALSE(sign(SignatureAlg::ES256, p384, "x"));
}

TEST(Ps256, Rsa1024KeyDoesNotFit) {
  Key small(test::raw_rsa(1024).release());
  ASSERT_TRUE(small.valid());
  EXPECT_FALSE(key_fits(SignatureAlg::PS256, small));
  auto v = Verifier::create(SignatureAlg::PS256, small);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error(), CryptoErrc::KeyTooSmall);
}

TEST(Ps256, UsesPssNotPkcs1) {
  // An RS256 (PKCS#1 v1.5) signature by the same key must not pass as PS256.
  const Key& key = key_for(SignatureAlg::PS256);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  ASSERT_EQ(EVP_DigestSignInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr, key.get(),
                                  nullptr),
            1);
  std::string sig(256, '\0');
  std::size_t len = sig.size();
  ASSERT_EQ(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                           reinterpret_cast<const unsigned char*>("d"), 1),
            1);
  EXPECT_FALSE(verify(SignatureAlg::PS256, key, "d", sig));
}

std::string pss_sign_with_salt(const Key& key, std::string_view data, int salt) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  EXPECT_EQ(EVP_DigestSignInit_ex(ctx.get(), &pctx, "SHA256", nullptr, nullptr, key.get(),
                                  nullptr),
            1);
  EXPECT_GT(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 0);
  EXPECT_GT(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt), 0);
  std::string sig(256, '\0');
  std::size_t len = sig.size();
  EXPECT_EQ(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                           reinterpret_cast<const unsigned char*>(data.data()), data.size()),
            1);
  sig.resize(len);
  return sig;
}

TEST(Ps256, InteropWithPlainOpensslPssSalt32) {
  const Key& key = key_for(SignatureAlg::PS256);
  EXPECT_TRUE(verify(SignatureAlg::PS256, key, "d", pss_sign_with_salt(key, "d", 32)));
}

TEST(Ps256, OtherSaltLengthsRefused) {
  // RFC 7518 §3.5: the salt length equals the hash length (32); max-length salts (OpenSSL's
  // default) or empty salts are not PS256.
  const Key& key = key_for(SignatureAlg::PS256);
  EXPECT_FALSE(verify(SignatureAlg::PS256, key, "d", pss_sign_with_salt(key, "d", 0)));
  EXPECT_FALSE(verify(SignatureAlg::PS256, key, "d", pss_sign_with_salt(key, "d", 20)));
  EXPECT_FALSE(
      verify(SignatureAlg::PS256, key, "d", pss_sign_with_salt(key, "d", RSA_PSS_SALTLEN_MAX)));
}

TEST(Ps256, SignaturesAreRandomised) {
  const Key& key = key_for(SignatureAlg::PS256);
  EXPECT_NE(sign(SignatureAlg::PS256, key, "d").value(),
            sign(SignatureAlg::PS256, key, "d").value());
}

TEST(Ps256, Rsa4096Works) {
  Key key = Key::generate(KeyType::Rsa, 4096).value();
  auto sig = sign(SignatureAlg::PS256, key, "d");
  ASSERT_TRUE(sig);
  EXPECT_EQ(sig->size(), 512u);
  EXPECT_TRUE(verify(SignatureAlg::PS256, key.public_only(), "d", *sig));
  EXPECT_FALSE(verify(SignatureAlg::PS256, key_for(SignatureAlg::PS256), "d", *sig));
}

// RFC 8037 Appendix A.1 key and A.4 signature.
constexpr const char* kEdD = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
constexpr const char* kEdX = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
constexpr const char* kEdInput = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
constexpr const char* kEdSig =
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

TEST(EdDsa, Rfc8037A4SignsToTheRfcSignature) {
  auto key = Key::from_raw_ed25519(b64u(kEdD), true);
  ASSERT_TRUE(key);
  auto sig = sign(SignatureAlg::EdDSA, *key, kEdInput);
  ASSERT_TRUE(sig);
  EXPECT_EQ(core::base64url_encode(*sig), kEdSig);  // Ed25519 is deterministic
}

TEST(EdDsa, Rfc8037A5Verifies) {
  auto pub = Key::from_raw_ed25519(b64u(kEdX), false);
  ASSERT_TRUE(pub);
  EXPECT_TRUE(verify(SignatureAlg::EdDSA, *pub, kEdInput, b64u(kEdSig)));
  EXPECT_FALSE(verify(SignatureAlg::EdDSA, *pub, std::string(kEdInput) + ".", b64u(kEdSig)));
}

TEST(EdDsa, OtherRfcKeyDoesNotVerify) {
  auto other = Key::generate(KeyType::Ed25519);
  EXPECT_FALSE(verify(SignatureAlg::EdDSA, *other, kEdInput, b64u(kEdSig)));
}

}  // namespace
}  // namespace fapigate::crypto
