// Reading a configured file (keys, JWKS) whole, with a size bound: a file named by the
// configuration is still read into memory, and a wrong path (a log, a device) must not be.
#pragma once

#include <cstddef>
#include <string>

#include "core/result.hpp"

namespace fapigate::core {

// The file's bytes. Errors: errc::no_such_file_or_directory (cannot open), errc::file_too_large
// (more than max_bytes).
[[nodiscard]] Result<std::string> read_file_bounded(const std::string& path,
                                                    std::size_t max_bytes);

}  // namespace fapigate::core
