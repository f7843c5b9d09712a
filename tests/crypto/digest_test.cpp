#include "crypto/digest.hpp"

#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/base64url.hpp"
#include "core/strings.hpp"

namespace fapigate::crypto {
namespace {

// FIPS 180-2 Appendix B.1.
TEST(Sha256, AbcVector) {
  EXPECT_EQ(core::hex(sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, EmptyInputVector) {
  EXPECT_EQ(core::hex(sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256, B64urlIsUnpaddedBase64urlOfDigest) {
  std::string b = sha256_b64url("abc");
  EXPECT_EQ(b, "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
  EXPECT_EQ(b.size(), 43u);
  EXPECT_EQ(core::base64url_decode(b).value(), sha256("abc"));
}

// RFC 7636 Appendix B: S256 code challenge of the example verifier.
TEST(Sha256, Rfc7636PkceVector) {
  EXPECT_EQ(sha256_b64url("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

TEST(Fingerprint, IsTwelveHexOfSha256) {
  EXPECT_EQ(fingerprint("abc"), "ba7816bf8f01");
  EXPECT_EQ(fingerprint(""), "e3b0c44298fc");
}

TEST(ConstantTimeEqual, EqualStrings) {
  EXPECT_TRUE(constant_time_equal("secret-value", "secret-value"));
  EXPECT_TRUE(constant_time_equal("", ""));
}

TEST(ConstantTimeEqual, DifferentLastByte) {
  EXPECT_FALSE(constant_time_equal("secret-value", "secret-valuf"));
}

TEST(ConstantTimeEqual, DifferentFirstByte) {
  EXPECT_FALSE(constant_time_equal("secret-value", "Secret-value"));
}

TEST(ConstantTimeEqual, PrefixIsNotEqual) {
  EXPECT_FALSE(constant_time_equal("secret", "secret-value"));
  EXPECT_FALSE(constant_time_equal("secret-value", "secret"));
  EXPECT_FALSE(constant_time_equal("", "x"));
}

TEST(ConstantTimeEqual, EmbeddedNulMatters) {
  EXPECT_FALSE(constant_time_equal(std::string("a\0b", 3), std::string("a\0c", 3)));
}

TEST(RandomBytes, LengthAndDistinct) {
  EXPECT_EQ(random_bytes(0).size(), 0u);
  EXPECT_EQ(random_bytes(1).size(), 1u);
  EXPECT_EQ(random_bytes(100).size(), 100u);
  EXPECT_NE(random_bytes(32), random_bytes(32));
}

TEST(RandomToken, LengthAndAlphabet) {
  std::string t = random_token();
  EXPECT_EQ(t.size(), 43u);  // 32 bytes, unpadded base64url
  EXPECT_EQ(core::base64url_decode(t)->size(), 32u);
  EXPECT_EQ(random_token(16).size(), 22u);
  EXPECT_TRUE(std::regex_match(t, std::regex("[A-Za-z0-9_-]+")));
}

TEST(RandomToken, ManyAreDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    EXPECT_TRUE(seen.insert(random_token(16)).second);
  }
}

TEST(UuidV4, Format) {
  const std::regex re("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  for (int i = 0; i < 100; ++i) {
    std::string u = uuid_v4();
    EXPECT_EQ(u.size(), 36u);
    EXPECT_TRUE(std::regex_match(u, re)) << u;
  }
  EXPECT_NE(uuid_v4(), uuid_v4());
}

// The bytes come from a per-thread pool of 256 UUIDs' worth: across refills and threads every
// UUID stays well formed and distinct.
TEST(UuidV4, DistinctAcrossPoolRefillsAndThreads) {
  const std::regex re("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::vector<std::string> a(1000);
  std::vector<std::string> b(1000);
  std::thread other([&b] {
    for (auto& u : b) {
      u = uuid_v4();
    }
  });
  for (auto& u : a) {
    u = uuid_v4();
  }
  other.join();
  std::set<std::string> seen;
  for (const auto* list : {&a, &b}) {
    for (const auto& u : *list) {
      EXPECT_TRUE(std::regex_match(u, re)) << u;
      EXPECT_TRUE(seen.insert(u).second) << u;
    }
  }
}

TEST(UniqueId, LengthAlphabetAndDistinct) {
  std::string id = unique_id();
  EXPECT_EQ(id.size(), 22u);  // 16 bytes, unpadded base64url
  EXPECT_TRUE(std::regex_match(id, std::regex("[A-Za-z0-9_-]+")));
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    EXPECT_TRUE(seen.insert(unique_id(16)).second);
  }
}

// Odd sizes straddle the 4 KiB pool's refill, and sizes above it span several refills. A
// byte handed out twice would have been cleansed to zero the first time, so a run of zero
// bytes inside an id would show it.
TEST(UniqueId, IdsAcrossPoolRefillsAreWholeAndNeverZeroed) {
  std::set<std::string> seen;
  for (int i = 0; i < 700; ++i) {
    std::string id = (i % 100 == 0) ? unique_id(9000) : unique_id(15);
    auto raw = core::base64url_decode(id);
    ASSERT_TRUE(raw.has_value());
    EXPECT_EQ(raw->size(), (i % 100 == 0) ? 9000u : 15u);
    EXPECT_EQ(raw->find(std::string(8, '\0')), std::string::npos) << "at id " << i;
    EXPECT_TRUE(seen.insert(id).second);
    (void)uuid_v4();  // the same pool: interleaved draws stay distinct
  }
}

}  // namespace
}  // namespace fapigate::crypto
