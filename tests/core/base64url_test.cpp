#include "core/base64url.hpp"

#include <gtest/gtest.h>

using fapigate::core::base64_decode;
using fapigate::core::base64_encode;
using fapigate::core::base64url_decode;
using fapigate::core::base64url_encode;

// RFC 4648 §10 test vectors.
TEST(Base64, Rfc4648Vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_decode("Zm9vYg==").value(), "foob");
  EXPECT_EQ(base64_decode("Zm9vYmE=").value(), "fooba");
}

TEST(Base64Url, RoundTripsEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) {
    all.push_back(static_cast<char>(i));
  }
  for (std::size_t n = 0; n < all.size(); n += 7) {
    auto enc = base64url_encode(all.substr(0, n));
    EXPECT_EQ(enc.find_first_of("+/="), std::string::npos);
    EXPECT_EQ(base64url_decode(enc).value(), all.substr(0, n));
  }
}

// RFC 7515 Appendix C: the example octets and their base64url encoding.
TEST(Base64Url, Rfc7515AppendixC) {
  const std::string octets{'\x03', '\xec', '\xff', '\xe0', '\xc1'};
  EXPECT_EQ(base64url_encode(octets), "A-z_4ME");
  EXPECT_EQ(base64url_decode("A-z_4ME").value(), octets);
}

TEST(Base64Url, RefusesPaddingWhitespaceAndForeignCharacters) {
  EXPECT_FALSE(base64url_decode("Zg=="));
  EXPECT_FALSE(base64url_decode("Zm9v Yg"));
  EXPECT_FALSE(base64url_decode("Zm9v+g"));
  EXPECT_FALSE(base64url_decode("Zm9v/g"));
  EXPECT_FALSE(base64url_decode("A"));  // a single symbol carries fewer than 8 bits
}

TEST(Base64Url, RefusesNonCanonicalTrailingBits) {
  // "Zh" decodes to 'f' with non-zero leftover bits; only "Zg" is canonical.
  EXPECT_TRUE(base64url_decode("Zg"));
  EXPECT_FALSE(base64url_decode("Zh"));
}
