#include "core/log.hpp"

#include <gtest/gtest.h>

#include "core/json.hpp"

using namespace fapigate::core;

TEST(Log, EmitsOneParseableJsonObjectWithTypedFields) {
  auto line = log::format_for_test(log::Level::Warn, "token_refused",
                                   {{"reason", "cnf \"mismatch\"\n"}, {"status", 401}, {"ok", false}});
  auto o = parse_json_object(line);
  ASSERT_TRUE(o) << line;
  EXPECT_EQ(get_string(*o, "level").value(), "warn");
  EXPECT_EQ(get_string(*o, "event").value(), "token_refused");
  EXPECT_EQ(get_string(*o, "reason").value(), "cnf \"mismatch\"\n");
  EXPECT_EQ(get_int(*o, "status").value(), 401);
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(Log, ParsesLevels) {
  log::Level l{};
  EXPECT_TRUE(log::parse_level("debug", l));
  EXPECT_EQ(l, log::Level::Debug);
  EXPECT_FALSE(log::parse_level("verbose", l));
}
