// Result types used at every module boundary (STYLE.md §4). A Result<T> holds a value or a
// std::error_code-compatible boost::system::error_code; nothing at a boundary throws.
#pragma once

#include <boost/system/result.hpp>
#include <boost/system/error_code.hpp>

namespace fapigate {

using ErrorCode = boost::system::error_code;

template <class T, class E = ErrorCode>
using Result = boost::system::result<T, E>;

}  // namespace fapigate
