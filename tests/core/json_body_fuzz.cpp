// libFuzzer target: core::parse_json / parse_json_object, the bounded parser every JSON body of
// outside input goes through (registration bodies, introspection and JWKS responses, request
// object payloads once decoded). Invariants: the size and depth bounds hold on success, a
// parsed value re-serialises to text that parses to the same value, and the typed getters
// never throw.
#include <algorithm>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/json.hpp"

namespace {

using fapigate::core::JsonLimits;

std::size_t depth_of(const boost::json::value& v) {
  std::size_t d = 0;
  if (const auto* o = v.if_object()) {
    for (const auto& m : *o) {
      d = std::max(d, depth_of(m.value()));
    }
    return d + 1;
  }
  if (const auto* a = v.if_array()) {
    for (const auto& e : *a) {
      d = std::max(d, depth_of(e));
    }
    return d + 1;
  }
  return 0;
}

// Equality where doubles may differ in the last bits: Boost.JSON 1.81 parses decimal numbers
// quickly but not always correctly rounded (precise parsing came in 1.83), so text -> double
// -> text -> double can move by an ulp. Kinds, strings, integers and structure must be equal.
bool same(const boost::json::value& a, const boost::json::value& b) {
  if (a.is_double() && b.is_double()) {
    const double x = a.get_double();
    const double y = b.get_double();
    return x == y || std::fabs(x - y) <= 1e-14 * std::max(std::fabs(x), std::fabs(y));
  }
  if (a.kind() != b.kind()) {
    return false;
  }
  if (const auto* ao = a.if_object()) {
    const auto& bo = b.get_object();
    if (ao->size() != bo.size()) {
      return false;
    }
    for (auto ia = ao->begin(), ib = bo.begin(); ia != ao->end(); ++ia, ++ib) {
      if (ia->key() != ib->key() || !same(ia->value(), ib->value())) {
        return false;
      }
    }
    return true;
  }
  if (const auto* aa = a.if_array()) {
    const auto& ba = b.get_array();
    if (aa->size() != ba.size()) {
      return false;
    }
    for (std::size_t i = 0; i < aa->size(); ++i) {
      if (!same((*aa)[i], ba[i])) {
        return false;
      }
    }
    return true;
  }
  return a == b;
}

void check(std::string_view text, JsonLimits limits) {
  auto v = fapigate::core::parse_json(text, limits);
  auto o = fapigate::core::parse_json_object(text, limits);
  if (text.size() > limits.max_bytes && (v || o)) {
    std::abort();
  }
  if (o && (!v || !v->is_object())) {
    std::abort();  // the two entry points disagree
  }
  if (!v) {
    return;
  }
  if (depth_of(*v) > limits.max_depth) {
    std::abort();
  }
  const std::string again = boost::json::serialize(*v);
  auto reparsed = fapigate::core::parse_json(again, {again.size(), limits.max_depth});
  if (!reparsed || !same(*reparsed, *v)) {
    std::abort();
  }
  if (o) {
    // The getters the endpoints use on every member: typed or nullopt, never an exception.
    for (const auto& m : *o) {
      auto s = fapigate::core::get_string(*o, m.key());
      auto i = fapigate::core::get_int(*o, m.key());
      const auto* sub = fapigate::core::get_object(*o, m.key());
      // Last duplicate wins: find() sees the member stored under this key.
      const auto& stored = o->at(m.key());
      if (s.has_value() != stored.is_string() || (sub != nullptr) != stored.is_object()) {
        std::abort();
      }
      if (i && !(stored.is_int64() || stored.is_uint64() || stored.is_double())) {
        std::abort();
      }
    }
    const std::string quoted = fapigate::core::json_quote(std::string_view(again));
    auto unq = fapigate::core::parse_json(quoted, {quoted.size(), 1});
    if (!unq || !unq->is_string() || unq->as_string() != again) {
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  check(in, JsonLimits{});
  check(in, JsonLimits{256, 3});
  return 0;
}
