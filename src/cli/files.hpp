// Small file helpers for the CLI (reading PEM/JSON, writing private material with 0600).
#pragma once

#include <optional>
#include <string>

namespace fapigate::cli {

std::optional<std::string> read_file(const std::string& path);
// Writes atomically (temp file + rename); `private_mode` makes it 0600.
bool write_file(const std::string& path, const std::string& content, bool private_mode = false);
bool file_exists(const std::string& path);
std::string absolute_path(const std::string& path);

}  // namespace fapigate::cli
