// The fuzz targets' independent reading of a JWT NumericDate (RFC 7519 §2), as check_claims
// documents it: whole seconds, rounded down, in 128 bits so that the targets can recompute
// every time rule without the overflow they are looking for in the code under test.
#pragma once

#include <cmath>
#include <optional>
#include <string_view>

#include <boost/json/object.hpp>

namespace fapigate::fuzz_support {

using i128 = __int128;

inline std::optional<i128> numeric_date(const boost::json::object& claims, std::string_view name) {
  const auto* v = claims.if_contains(name);
  if (v == nullptr) {
    return std::nullopt;
  }
  if (const auto* i = v->if_int64()) {
    return *i;
  }
  if (const auto* u = v->if_uint64()) {
    return static_cast<i128>(*u);
  }
  if (const auto* d = v->if_double()) {
    return static_cast<i128>(std::floor(*d));
  }
  return std::nullopt;
}

}  // namespace fapigate::fuzz_support
