#include <gtest/gtest.h>

#include "core/cidr.hpp"

namespace fapigate::core {
namespace {

CidrSet set(std::initializer_list<const char*> ranges) {
  std::vector<Cidr> out;
  for (const char* r : ranges) {
    auto c = parse_cidr(r);
    EXPECT_TRUE(c) << r;
    if (c) {
      out.push_back(*c);
    }
  }
  return CidrSet(std::move(out));
}

TEST(Cidr, Ipv4Ranges) {
  auto s = set({"10.0.0.0/8", "192.168.1.7", "172.16.0.0/12"});
  EXPECT_TRUE(s.contains("10.1.2.3"));
  EXPECT_TRUE(s.contains("192.168.1.7"));
  EXPECT_FALSE(s.contains("192.168.1.8"));
  EXPECT_TRUE(s.contains("172.31.255.255"));
  EXPECT_FALSE(s.contains("172.32.0.0"));
  EXPECT_FALSE(s.contains("11.0.0.1"));
  EXPECT_TRUE(s.contains("::ffff:10.9.9.9"));  // IPv4-mapped peer
}

TEST(Cidr, Ipv6Ranges) {
  auto s = set({"::1/128", "2001:db8::/32"});
  EXPECT_TRUE(s.contains("::1"));
  EXPECT_TRUE(s.contains("[::1]"));
  EXPECT_TRUE(s.contains("2001:db8:1::5"));
  EXPECT_FALSE(s.contains("2001:db9::1"));
  EXPECT_FALSE(s.contains("127.0.0.1"));
}

TEST(Cidr, MalformedIsRefused) {
  for (const char* bad : {"", "10.0.0.0/33", "10.0.0.1/8", "10.0.0.0/", "10.0.0.0/-1",
                          "10.0.0.0/8x", "host.example", "10.0.0", "::1/129", "2001:db8::1/32",
                          "10.0.0.0/0800", "1.2.3.4 "}) {
    EXPECT_FALSE(parse_cidr(bad)) << bad;
  }
  EXPECT_TRUE(parse_cidr("0.0.0.0/0"));
  EXPECT_TRUE(parse_cidr("::/0"));
}

TEST(Cidr, UnparsablePeerIsNeverTrusted) {
  auto s = set({"0.0.0.0/0"});
  EXPECT_FALSE(s.contains(""));
  EXPECT_FALSE(s.contains("not-an-ip"));
  EXPECT_FALSE(CidrSet().contains("127.0.0.1"));
}

// Found by fuzz_gateway_headers (tests/fuzz/regressions/gateway_headers/cidr_nul_truncation):
// inet_pton stopped at a NUL, so text with one inside parsed as the address before it.
TEST(Cidr, EmbeddedNulIsRefusedNotTruncated) {
  using namespace std::string_view_literals;
  EXPECT_FALSE(parse_cidr("10.0.0.0\0junk/8"sv));
  EXPECT_FALSE(parse_cidr("fe80::\0\0/11"sv));
  EXPECT_FALSE(parse_cidr("10.0.0.1\0"sv));
  auto s = set({"0.0.0.0/0", "::/0"});
  EXPECT_FALSE(s.contains("10.0.0.1\0/11\nanything"sv));
  EXPECT_FALSE(s.contains("fe80:0:fe80::\0"sv));
  EXPECT_TRUE(s.contains("fe80:0:fe80::"sv));
}

}  // namespace
}  // namespace fapigate::core
