// Bounded JSON parsing for outside input. Every parse has a size and a nesting-depth limit.
// Of duplicate object members the lexically last one wins, which RFC 7515 §4 allows for JOSE
// headers. Never throws.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/result.hpp"

namespace fapigate::core {

struct JsonLimits {
  std::size_t max_bytes = 64 * 1024;
  std::size_t max_depth = 16;
};

enum class JsonErrc {
  TooLarge = 1,       // input longer than JsonLimits::max_bytes
  Malformed,          // not JSON, nested deeper than JsonLimits::max_depth, or a number
                      // beyond the double range (RFC 8259 §6: no Infinity)
  NotAnObject,        // parse_json_object: the top-level value is not an object
};
ErrorCode make_error_code(JsonErrc e);

[[nodiscard]] Result<boost::json::value> parse_json(std::string_view text, JsonLimits limits = {});
[[nodiscard]] Result<boost::json::object> parse_json_object(std::string_view text,
                                                            JsonLimits limits = {});

// Typed member access without exceptions: nullopt when absent or of another type.
std::optional<std::string_view> get_string(const boost::json::object& o, std::string_view key);
std::optional<std::int64_t> get_int(const boost::json::object& o, std::string_view key);
const boost::json::object* get_object(const boost::json::object& o, std::string_view key);

// Serialises a string as a JSON string literal (with the quotes), escaping as RFC 8259 §7 says.
std::string json_quote(std::string_view s);

}  // namespace fapigate::core

template <>
struct boost::system::is_error_code_enum<fapigate::core::JsonErrc> : std::true_type {};
