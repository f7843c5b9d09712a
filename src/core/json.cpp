#include "core/json.hpp"

#include <cmath>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/stream_parser.hpp>

namespace fapigate::core {
namespace {

class JsonCategory final : public boost::system::error_category {
public:
  const char* name() const noexcept override { return "fapigate.json"; }
  std::string message(int ev) const override {
    switch (static_cast<JsonErrc>(ev)) {
      case JsonErrc::TooLarge: return "JSON document too large";
      case JsonErrc::Malformed: return "malformed JSON";
      case JsonErrc::NotAnObject: return "JSON document is not an object";
    }
    return "unknown JSON error";
  }
};

const JsonCategory kCategory;

}  // namespace

ErrorCode make_error_code(JsonErrc e) { return {static_cast<int>(e), kCategory}; }

namespace {

// RFC 8259 §6: Infinity and NaN are not JSON numbers. Boost.JSON reads a number beyond the
// double range ("1e400") as an infinite double, which serialize() writes back as the bare word
// Infinity: an accepted document would be echoed (registration responses, stored metadata)
// as invalid JSON. Found by tests/core/json_body_fuzz.cpp (tests/fuzz/regressions/json_body).
// Recursion is bounded by JsonLimits::max_depth, which the parser has already enforced.
bool all_numbers_finite(const boost::json::value& v) {
  if (const auto* d = v.if_double()) {
    return std::isfinite(*d);
  }
  if (const auto* a = v.if_array()) {
    for (const auto& e : *a) {
      if (!all_numbers_finite(e)) {
        return false;
      }
    }
  } else if (const auto* o = v.if_object()) {
    for (const auto& m : *o) {
      if (!all_numbers_finite(m.value())) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace

Result<boost::json::value> parse_json(std::string_view text, JsonLimits limits) {
  if (text.size() > limits.max_bytes) {
    return make_error_code(JsonErrc::TooLarge);
  }
  boost::json::parse_options opts;
  opts.max_depth = limits.max_depth;
  opts.allow_comments = false;
  opts.allow_trailing_commas = false;
  opts.allow_invalid_utf8 = false;
  boost::system::error_code ec;
  boost::json::stream_parser parser({}, opts);
  parser.write(text.data(), text.size(), ec);
  if (!ec) {
    parser.finish(ec);
  }
  if (ec) {
    return make_error_code(JsonErrc::Malformed);
  }
  boost::json::value v = parser.release();
  if (!all_numbers_finite(v)) {
    return make_error_code(JsonErrc::Malformed);
  }
  return v;
}

Result<boost::json::object> parse_json_object(std::string_view text, JsonLimits limits) {
  auto v = parse_json(text, limits);
  if (!v) {
    return v.error();
  }
  if (!v->is_object()) {
    return make_error_code(JsonErrc::NotAnObject);
  }
  return std::move(v->as_object());
}

std::optional<std::string_view> get_string(const boost::json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) {
    return std::nullopt;
  }
  if (const auto* s = it->value().if_string()) {
    return std::string_view(*s);
  }
  return std::nullopt;
}

std::optional<std::int64_t> get_int(const boost::json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) {
    return std::nullopt;
  }
  const auto& v = it->value();
  if (const auto* i = v.if_int64()) {
    return *i;
  }
  if (const auto* u = v.if_uint64()) {
    if (*u <= static_cast<std::uint64_t>(INT64_MAX)) {
      return static_cast<std::int64_t>(*u);
    }
    return std::nullopt;
  }
  if (const auto* d = v.if_double()) {
    // NumericDate may carry a fraction (RFC 7519 §2); whole seconds are what we compare.
    if (*d >= -9.2e18 && *d <= 9.2e18) {
      return static_cast<std::int64_t>(*d);
    }
  }
  return std::nullopt;
}

const boost::json::object* get_object(const boost::json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) {
    return nullptr;
  }
  return it->value().if_object();
}

std::string json_quote(std::string_view s) {
  return boost::json::serialize(boost::json::string_view(s.data(), s.size()));
}

}  // namespace fapigate::core
