#include "core/json.hpp"

#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

using namespace fapigate::core;

TEST(Json, ParsesObjectAndReadsTypedMembers) {
  auto o = parse_json_object(R"({"a":"x","n":42,"d":1.5e3,"o":{"k":1}})");
  ASSERT_TRUE(o);
  EXPECT_EQ(get_string(*o, "a").value(), "x");
  EXPECT_EQ(get_int(*o, "n").value(), 42);
  EXPECT_EQ(get_int(*o, "d").value(), 1500);
  EXPECT_NE(get_object(*o, "o"), nullptr);
  EXPECT_FALSE(get_string(*o, "n"));
  EXPECT_FALSE(get_int(*o, "a"));
  EXPECT_EQ(get_object(*o, "a"), nullptr);
}

TEST(Json, RefusesOversizedInput) {
  std::string big = "\"" + std::string(100, 'a') + "\"";
  auto r = parse_json(big, JsonLimits{.max_bytes = 50, .max_depth = 4});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(JsonErrc::TooLarge));
}

TEST(Json, RefusesDepthBomb) {
  std::string bomb(1000, '[');
  bomb += std::string(1000, ']');
  auto r = parse_json(bomb, JsonLimits{.max_bytes = 1 << 20, .max_depth = 16});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(JsonErrc::Malformed));
}

TEST(Json, RefusesGarbageTrailingDataAndComments) {
  EXPECT_FALSE(parse_json("{"));
  EXPECT_FALSE(parse_json("{} x"));
  EXPECT_FALSE(parse_json("{/*c*/}"));
  EXPECT_FALSE(parse_json("{\"a\":1,}"));
  EXPECT_FALSE(parse_json("\"\xff\""));  // invalid UTF-8
}

TEST(Json, ObjectRequiredWhereAsked) {
  auto r = parse_json_object("[1,2]");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(JsonErrc::NotAnObject));
}

TEST(Json, LastDuplicateMemberWins) {
  // RFC 7515 §4 allows a parser that keeps only the lexically last duplicate.
  auto o = parse_json_object(R"({"alg":"none","alg":"PS256"})");
  ASSERT_TRUE(o);
  EXPECT_EQ(get_string(*o, "alg").value(), "PS256");
}

TEST(Json, QuoteEscapesControlCharactersAndQuotes) {
  EXPECT_EQ(json_quote("a\"b\\c\n"), R"("a\"b\\c\n")");
  EXPECT_EQ(json_quote(std::string("\x01", 1)), R"("\u0001")");
}

// Found by fuzz_json_body (tests/fuzz/regressions/json_body/number_overflows_to_infinity):
// Boost.JSON read 1e400 as an infinite double and serialised it back as the bare word Infinity,
// so an accepted document could be echoed as invalid JSON. RFC 8259 §6 has no Infinity.
TEST(Json, RefusesNumbersBeyondTheDoubleRange) {
  for (const char* text : {"1e400", "[-1e400]", R"({"exp":1e309})", "[1,2,{\"a\":[9e999]}]"}) {
    auto r = parse_json(text);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error(), make_error_code(JsonErrc::Malformed)) << text;
  }
  // Large but finite, and underflow to zero, are still numbers.
  auto big = parse_json("[1.7e308,18446744073709551616,1e-400,-0]");
  ASSERT_TRUE(big);
  // ...and what was accepted serialises to JSON that parses again (no bare Infinity).
  EXPECT_TRUE(parse_json(boost::json::serialize(*big)));
}
