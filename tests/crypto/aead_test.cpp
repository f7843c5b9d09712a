#include "crypto/aead.hpp"

#include <set>
#include <string>

#include <gtest/gtest.h>

#include "core/strings.hpp"

namespace fapigate::crypto {
namespace {

std::string unhex(std::string_view h) {
  std::string out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

AeadKey key_of(char fill) { return AeadKey::from_bytes(std::string(kAeadKeyBytes, fill)).value(); }

const std::string kPlain = "-----BEGIN PRIVATE KEY-----\nnot really a key\n-----END PRIVATE KEY-----\n";
const std::string kAad = "fgk1:43:kid-one:PS256";

// The GCM specification (McGrew & Viega), Test Case 16: AES-256, 96-bit IV, 20-byte AAD.
struct Tc16 {
  std::string key = unhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
  std::string iv = unhex("cafebabefacedbaddecaf888");
  std::string aad = unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
  std::string plain = unhex(
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
      "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
  std::string cipher = unhex(
      "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
      "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662");
  std::string tag = unhex("76fc6ece0f4e1768cddf8853bb2d551b");
  std::string sealed() const { return iv + cipher + tag; }
};

TEST(Aead, OpensTheGcmSpecTestCase16) {
  Tc16 tc;
  auto k = AeadKey::from_bytes(tc.key);
  ASSERT_TRUE(k);
  auto plain = open(*k, tc.sealed(), tc.aad);
  ASSERT_TRUE(plain) << plain.error().message();
  EXPECT_EQ(*plain, tc.plain);
}

TEST(Aead, RefusesTheTestCaseWithOneTagBitFlipped) {
  Tc16 tc;
  std::string s = tc.sealed();
  s.back() = static_cast<char>(s.back() ^ 0x01);
  auto r = open(AeadKey::from_bytes(tc.key).value(), s, tc.aad);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(AeadErrc::AuthenticationFailed));
}

TEST(Aead, RefusesTheTestCaseWithoutItsAad) {
  Tc16 tc;
  auto r = open(AeadKey::from_bytes(tc.key).value(), tc.sealed(), "");
  EXPECT_EQ(r.error(), make_error_code(AeadErrc::AuthenticationFailed));
}

TEST(Aead, SealThenOpenRoundTrips) {
  auto k = key_of('k');
  auto sealed = seal(k, kPlain, kAad);
  ASSERT_TRUE(sealed);
  EXPECT_EQ(sealed->size(), kAeadNonceBytes + kPlain.size() + kAeadTagBytes);
  EXPECT_EQ(sealed->find("BEGIN PRIVATE KEY"), std::string::npos);
  auto plain = open(k, *sealed, kAad);
  ASSERT_TRUE(plain) << plain.error().message();
  EXPECT_EQ(*plain, kPlain);
}

TEST(Aead, EmptyPlaintextRoundTripsAndIsStillAuthenticated) {
  auto k = key_of('k');
  auto sealed = seal(k, "", kAad);
  ASSERT_TRUE(sealed);
  EXPECT_EQ(sealed->size(), kAeadNonceBytes + kAeadTagBytes);
  EXPECT_EQ(open(k, *sealed, kAad).value(), "");
  EXPECT_FALSE(open(k, *sealed, "other"));
}

TEST(Aead, EverySealDrawsAFreshNonce) {
  auto k = key_of('k');
  std::set<std::string> nonces;
  std::set<std::string> boxes;
  for (int i = 0; i < 64; ++i) {
    auto s = seal(k, kPlain, kAad).value();
    nonces.insert(s.substr(0, kAeadNonceBytes));
    boxes.insert(s);
  }
  EXPECT_EQ(nonces.size(), 64u);
  EXPECT_EQ(boxes.size(), 64u);
}

TEST(Aead, RefusesEverySingleByteChange) {
  // Nonce, ciphertext and tag: flipping any one byte must fail authentication.
  auto k = key_of('k');
  const std::string sealed = seal(k, kPlain, kAad).value();
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    std::string t = sealed;
    t[i] = static_cast<char>(t[i] ^ 0x80);
    auto r = open(k, t, kAad);
    ASSERT_FALSE(r) << "byte " << i << " was not authenticated";
    EXPECT_EQ(r.error(), make_error_code(AeadErrc::AuthenticationFailed));
  }
}

TEST(Aead, RefusesATamperedNonce) {
  auto k = key_of('k');
  std::string s = seal(k, kPlain, kAad).value();
  s[0] = static_cast<char>(s[0] + 1);
  EXPECT_EQ(open(k, s, kAad).error(), make_error_code(AeadErrc::AuthenticationFailed));
}

TEST(Aead, RefusesATamperedTag) {
  auto k = key_of('k');
  std::string s = seal(k, kPlain, kAad).value();
  s[s.size() - kAeadTagBytes] = static_cast<char>(s[s.size() - kAeadTagBytes] ^ 0x01);
  EXPECT_EQ(open(k, s, kAad).error(), make_error_code(AeadErrc::AuthenticationFailed));
}

TEST(Aead, RefusesAnAllZeroTag) {
  auto k = key_of('k');
  std::string s = seal(k, kPlain, kAad).value();
  s.replace(s.size() - kAeadTagBytes, kAeadTagBytes, std::string(kAeadTagBytes, '\0'));
  EXPECT_FALSE(open(k, s, kAad));
}

TEST(Aead, RefusesAnotherAad) {
  auto k = key_of('k');
  const std::string s = seal(k, kPlain, kAad).value();
  // The record a sealed key belongs to: another kid or alg must not open it.
  EXPECT_FALSE(open(k, s, "fgk1:43:kid-two:PS256"));
  EXPECT_FALSE(open(k, s, "fgk1:43:kid-one:ES256"));
  EXPECT_FALSE(open(k, s, kAad + "x"));
  EXPECT_FALSE(open(k, s, kAad.substr(0, kAad.size() - 1)));
  EXPECT_FALSE(open(k, s, ""));
}

TEST(Aead, RefusesTheWrongKey) {
  const std::string s = seal(key_of('k'), kPlain, kAad).value();
  auto r = open(key_of('j'), s, kAad);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(AeadErrc::AuthenticationFailed));
  EXPECT_FALSE(open(AeadKey::generate(), s, kAad));
}

TEST(Aead, RefusesATruncatedBox) {
  auto k = key_of('k');
  const std::string s = seal(k, kPlain, kAad).value();
  EXPECT_EQ(open(k, s.substr(0, s.size() - 1), kAad).error(),
            make_error_code(AeadErrc::AuthenticationFailed));
  // Ciphertext shortened, tag kept.
  std::string cut = s.substr(0, kAeadNonceBytes + 3) + s.substr(s.size() - kAeadTagBytes);
  EXPECT_EQ(open(k, cut, kAad).error(), make_error_code(AeadErrc::AuthenticationFailed));
}

TEST(Aead, RefusesAnExtendedBox) {
  auto k = key_of('k');
  const std::string s = seal(k, kPlain, kAad).value();
  EXPECT_FALSE(open(k, s + std::string(1, '\0'), kAad));
}

TEST(Aead, RefusesBoxesShorterThanNonceAndTag) {
  auto k = key_of('k');
  for (std::size_t n : {0u, 1u, 12u, 27u}) {
    auto r = open(k, std::string(n, 'a'), kAad);
    ASSERT_FALSE(r) << n;
    EXPECT_EQ(r.error(), make_error_code(AeadErrc::Malformed)) << n;
  }
}

TEST(Aead, RefusesAnOversizedBoxWithoutWork) {
  auto k = key_of('k');
  std::string big(kAeadNonceBytes + kAeadMaxPlaintextBytes + kAeadTagBytes + 1, 'a');
  EXPECT_EQ(open(k, big, kAad).error(), make_error_code(AeadErrc::Malformed));
}

TEST(Aead, RefusesToSealOversizedInput) {
  auto k = key_of('k');
  std::string big(kAeadMaxPlaintextBytes + 1, 'a');
  EXPECT_EQ(seal(k, big, kAad).error(), make_error_code(AeadErrc::TooLarge));
  EXPECT_EQ(seal(k, "x", big).error(), make_error_code(AeadErrc::TooLarge));
}

TEST(AeadKey, RefusesAnythingButThirtyTwoBytes) {
  for (std::size_t n : {0u, 1u, 16u, 31u, 33u, 64u}) {
    auto k = AeadKey::from_bytes(std::string(n, 'k'));
    ASSERT_FALSE(k) << n;
    EXPECT_EQ(k.error(), make_error_code(AeadErrc::InvalidKey)) << n;
  }
}

TEST(AeadKey, GeneratedKeysDiffer) {
  auto a = AeadKey::generate();
  auto b = AeadKey::generate();
  std::string sa(reinterpret_cast<const char*>(a.data()), kAeadKeyBytes);
  std::string sb(reinterpret_cast<const char*>(b.data()), kAeadKeyBytes);
  EXPECT_NE(sa, sb);
  EXPECT_NE(sa, std::string(kAeadKeyBytes, '\0'));
}

TEST(AeadErrc, MessagesNameTheProblem) {
  EXPECT_NE(make_error_code(AeadErrc::AuthenticationFailed).message().find("wrong key"),
            std::string::npos);
  EXPECT_NE(make_error_code(AeadErrc::InvalidKey).message().find("32 bytes"), std::string::npos);
}

}  // namespace
}  // namespace fapigate::crypto
