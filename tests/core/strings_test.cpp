#include "core/strings.hpp"

#include <gtest/gtest.h>

using namespace fapigate::core;

TEST(Strings, IequalsIgnoresAsciiCaseOnly) {
  EXPECT_TRUE(iequals("Bearer", "bEARER"));
  EXPECT_FALSE(iequals("Bearer", "Bearer "));
  // Pairs 32 apart that are not letters do not fold: '[' / '{', '@' / '`', '^' / '~'.
  EXPECT_FALSE(iequals("[", "{"));
  EXPECT_FALSE(iequals("@", "`"));
  EXPECT_FALSE(iequals("^", "~"));
  EXPECT_FALSE(iequals("\xC4", "\xE4"));  // Latin-1 is not folded either
  EXPECT_TRUE(iequals("X-Fapi-Interaction-Id", "x-fapi-interaction-id"));
  EXPECT_TRUE(iequals("", ""));
}

TEST(Strings, SplitScopesDropsEmptyItems) {
  auto s = split_scopes("  accounts  payments ");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0], "accounts");
  EXPECT_EQ(s[1], "payments");
}

TEST(Strings, SpaceJoinedIsTheInverseOfSplitScopes) {
  EXPECT_EQ(space_joined({}), "");
  EXPECT_EQ(space_joined({"accounts"}), "accounts");
  const std::vector<std::string> scopes{"openid", "accounts", "payments"};
  EXPECT_EQ(space_joined(scopes), "openid accounts payments");
  EXPECT_EQ(split_scopes(space_joined(scopes)), scopes);
}

TEST(Strings, ForEachPartSeesWhatSplitReturns) {
  for (std::string_view s : {"", "a", "a,b", ",a,,b,", ",", "access_token=x&y=1"}) {
    for (char sep : {',', '&'}) {
      std::vector<std::string_view> seen;
      EXPECT_TRUE(for_each_part(s, sep, [&](std::string_view part) {
        seen.push_back(part);
        return true;
      }));
      EXPECT_EQ(seen, split(s, sep)) << "'" << s << "' split at " << sep;
    }
  }
}

TEST(Strings, ForEachPartStopsWhenAsked) {
  std::vector<std::string_view> seen;
  EXPECT_FALSE(for_each_part("a/../b", '/', [&](std::string_view part) {
    seen.push_back(part);
    return part != "..";
  }));
  EXPECT_EQ(seen, (std::vector<std::string_view>{"a", ".."}));  // "b" never looked at
}

TEST(Form, ParsesPercentAndPlus) {
  auto f = parse_form("grant_type=client_credentials&scope=a+b%20c&client_id=x%2Fy");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->at("grant_type"), "client_credentials");
  EXPECT_EQ(f->at("scope"), "a b c");
  EXPECT_EQ(f->at("client_id"), "x/y");
}

TEST(Form, RefusesRepeatedParameter) {
  // RFC 6749 §3.1: request parameters MUST NOT be included more than once.
  EXPECT_FALSE(parse_form("scope=a&scope=b"));
}

TEST(Form, RefusesBadEscapesAndTooManyPairs) {
  EXPECT_FALSE(parse_form("a=%zz"));
  EXPECT_FALSE(parse_form("a=%4"));
  EXPECT_FALSE(parse_form("a=%"));
  std::string many;
  for (int i = 0; i < 100; ++i) {
    many += "k" + std::to_string(i) + "=v&";
  }
  EXPECT_FALSE(parse_form(many, FormLimits{.max_pairs = 64, .max_bytes = 1 << 20}));
  EXPECT_FALSE(parse_form(std::string(200, 'a'), FormLimits{.max_pairs = 64, .max_bytes = 100}));
}

TEST(Form, EncodeRoundTrips) {
  auto body = form_encode({{"a b", "c&d=e"}, {"x", "/~"}});
  auto f = parse_form(body);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->at("a b"), "c&d=e");
  EXPECT_EQ(f->at("x"), "/~");
}
