// Reads a YAML file into Config, merges defaults and validates. Every problem is collected and
// reported with its file and key path, e.g.
//   fapigate.yaml: gateway.routes[2].upstream: must be an http:// or https:// URL
// Unknown keys are errors too (a typo must not silently fall back to a default).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/model.hpp"

namespace fapigate::config {

struct LoadResult {
  Config config;
  std::vector<std::string> errors;  // empty on success
  bool ok() const { return errors.empty(); }
};

LoadResult load_file(const std::string& path);
// `source` names the text in messages. Relative file paths are left as they are.
LoadResult load_string(std::string_view yaml, const std::string& source);
// As above, resolving relative file paths (TLS files, sqlite_path, ...) against `base_dir`
// (load_file passes the absolute directory of the file).
LoadResult load_string(std::string_view yaml, const std::string& source,
                       const std::string& base_dir);
// Semantic checks on a Config however it was built (the demo builds one in code).
std::vector<std::string> validate(const Config& config);

}  // namespace fapigate::config
