// libFuzzer target for the typed helpers of core/json.hpp that JOSE and the AS read outside JSON
// with (get_int for NumericDates, get_string, get_object, json_quote), on documents from the
// bounded parser under the default limits and under small ones (the parser's own round trip is
// fuzz_json_body's). Seeds: tests/fuzz/corpus/json_helpers. Invariants, each an abort:
//  - an accepted document respects both limits (input size, nesting depth), and TooLarge is
//    reported exactly when the input exceeds max_bytes;
//  - parse_json_object accepts exactly the accepted documents that are objects;
//  - get_int of a member never invents a value: an integer member gives itself, a double one
//    its truncation within +-9.2e18, anything else nullopt;
//  - json_quote of any text parses back to that text when the text is valid UTF-8, and is
//    refused (never mangled) when it is not.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/json.hpp"
#include "fuzz/fuzz_check.hpp"

namespace {

using namespace fapigate;

std::size_t depth_of(const boost::json::value& v) {
  std::size_t deepest = 0;
  if (const auto* o = v.if_object()) {
    for (const auto& kv : *o) {
      deepest = std::max(deepest, depth_of(kv.value()));
    }
    return deepest + 1;
  }
  if (const auto* a = v.if_array()) {
    for (const auto& e : *a) {
      deepest = std::max(deepest, depth_of(e));
    }
    return deepest + 1;
  }
  return 0;
}

// RFC 3629 UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    for (std::size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) {
        return false;
      }
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) {
        return false;
      }
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

void check_parsed(std::string_view text, const boost::json::value& v, core::JsonLimits limits) {
  FAPI_FUZZ_CHECK(text.size() <= limits.max_bytes);
  FAPI_FUZZ_CHECK(depth_of(v) <= limits.max_depth);
  auto object = core::parse_json_object(text, limits);
  FAPI_FUZZ_CHECK(static_cast<bool>(object) == v.is_object());
  if (!object) {
    FAPI_FUZZ_CHECK(object.error() == core::JsonErrc::NotAnObject);
    return;
  }
  for (const auto& kv : *object) {
    const auto& m = kv.value();
    // Keys are unique after parsing (the last duplicate wins), so each lookup finds kv.
    auto i = core::get_int(*object, kv.key());
    if (const auto* s = m.if_int64()) {
      FAPI_FUZZ_CHECK(i && *i == *s);
    } else if (const auto* u = m.if_uint64()) {
      FAPI_FUZZ_CHECK(static_cast<bool>(i) == (*u <= static_cast<std::uint64_t>(INT64_MAX)));
    } else if (const auto* d = m.if_double()) {
      if (i) {
        FAPI_FUZZ_CHECK(std::fabs(*d) <= 9.2e18);
        FAPI_FUZZ_CHECK(*i == static_cast<std::int64_t>(*d));
      }
    } else {
      FAPI_FUZZ_CHECK(!i);
    }
    auto s = core::get_string(*object, kv.key());
    FAPI_FUZZ_CHECK(static_cast<bool>(s) == m.is_string());
    FAPI_FUZZ_CHECK((core::get_object(*object, kv.key()) != nullptr) == m.is_object());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (core::JsonLimits limits : {core::JsonLimits{}, core::JsonLimits{64, 2}}) {
    auto v = core::parse_json(text, limits);
    if (v) {
      check_parsed(text, *v, limits);
    } else {
      FAPI_FUZZ_CHECK((v.error() == core::JsonErrc::TooLarge) == (text.size() > limits.max_bytes));
    }
  }
  auto quoted = core::parse_json(core::json_quote(text), core::JsonLimits{8 * text.size() + 16, 1});
  if (valid_utf8(text)) {
    FAPI_FUZZ_CHECK(quoted && quoted->is_string() && quoted->get_string() == text);
  } else {
    FAPI_FUZZ_CHECK(!quoted);
  }
  return 0;
}
